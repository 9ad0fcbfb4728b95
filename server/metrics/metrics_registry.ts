/**
 * A small Prometheus registry: counters, gauges and histograms with labels,
 * rendered in the text exposition format 0.0.4. Gauges that mirror other
 * objects' state (queue depth, job progress) are refreshed by collectors
 * run at the start of every render, so a scrape always sees the present.
 *
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/
 *
 * @module
 */

/** Content type of {@linkcode MetricsRegistry.render}'s output. */
export const PROMETHEUS_CONTENT_TYPE =
  "text/plain; version=0.0.4; charset=utf-8";

/** Label values, by label name. */
export type Labels = Readonly<Record<string, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Latency buckets in seconds, from 1 ms to 1 min. */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
];

abstract class Family<S> {
  readonly #series = new Map<string, { labels: Labels; value: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (!METRIC_NAME.test(name)) {
      throw new RangeError(`Cannot register metric "${name}": invalid name`);
    }
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label === "le") {
        throw new RangeError(
          `Cannot register metric "${name}": invalid label name "${label}"`,
        );
      }
    }
  }

  abstract readonly type: string;
  protected abstract initial(): S;
  protected abstract lines(labels: Labels, value: S): string[];

  /** The series of these labels, created on first use. */
  protected series(labels: Labels): { labels: Labels; value: S } {
    const names = Object.keys(labels);
    if (
      names.length !== this.labelNames.length ||
      !this.labelNames.every((l) => typeof labels[l] === "string")
    ) {
      throw new RangeError(
        `Cannot record metric "${this.name}": expected labels [${this.labelNames}], found [${names}]`,
      );
    }
    const key = JSON.stringify(this.labelNames.map((l) => labels[l]));
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { labels: { ...labels }, value: this.initial() };
      this.#series.set(key, series);
    }
    return series;
  }

  /** Drops every series (for gauges rebuilt by a collector). */
  reset(): void {
    this.#series.clear();
  }

  /** The family in the text format. */
  render(): string {
    const out = [
      `# HELP ${this.name} ${escapeHelp(this.help)}`,
      `# TYPE ${this.name} ${this.type}`,
    ];
    for (const { labels, value } of this.#series.values()) {
      out.push(...this.lines(labels, value));
    }
    return out.join("\n");
  }
}

/** A monotonically increasing count. */
export class Counter extends Family<{ n: number }> {
  readonly type = "counter";
  protected initial(): { n: number } {
    return { n: 0 };
  }
  protected lines(labels: Labels, value: { n: number }): string[] {
    return [`${this.name}${formatLabels(labels)} ${formatValue(value.n)}`];
  }
  /**
   * Adds to the series of `labels`.
   *
   * @throws {RangeError} for a negative amount or wrong labels
   */
  inc(labels: Labels = {}, amount = 1): void {
    if (!(amount >= 0)) {
      throw new RangeError(
        `Cannot increase counter "${this.name}": amount must be ≥ 0, found ${amount}`,
      );
    }
    this.series(labels).value.n += amount;
  }
  /**
   * Sets the series of `labels` to a total counted elsewhere (a counter
   * mirrored from another component); a smaller total is ignored, so the
   * series never goes down.
   */
  sync(labels: Labels, total: number): void {
    const value = this.series(labels).value;
    value.n = Math.max(value.n, total);
  }
}

/** A value that goes up and down. */
export class Gauge extends Family<{ n: number }> {
  readonly type = "gauge";
  protected initial(): { n: number } {
    return { n: 0 };
  }
  protected lines(labels: Labels, value: { n: number }): string[] {
    return [`${this.name}${formatLabels(labels)} ${formatValue(value.n)}`];
  }
  /** Sets the series of `labels`. */
  set(labels: Labels, value: number): void {
    this.series(labels).value.n = value;
  }
}

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

/** Observations counted into cumulative buckets. */
export class Histogram extends Family<HistogramState> {
  readonly type = "histogram";
  readonly buckets: readonly number[];

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[] = DEFAULT_BUCKETS,
  ) {
    super(name, help, labelNames);
    if (
      buckets.length === 0 ||
      buckets.some((b, i) => i > 0 && b <= buckets[i - 1]!)
    ) {
      throw new RangeError(
        `Cannot register histogram "${name}": buckets must increase strictly`,
      );
    }
    this.buckets = [...buckets];
  }
  protected initial(): HistogramState {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  protected lines(labels: Labels, value: HistogramState): string[] {
    const out = this.buckets.map((le, i) =>
      `${this.name}_bucket${formatLabels({ ...labels, le: formatValue(le) })} ${
        value.counts[i]
      }`
    );
    out.push(
      `${this.name}_bucket${
        formatLabels({ ...labels, le: "+Inf" })
      } ${value.count}`,
      `${this.name}_sum${formatLabels(labels)} ${formatValue(value.sum)}`,
      `${this.name}_count${formatLabels(labels)} ${value.count}`,
    );
    return out;
  }
  /** Records one observation in the series of `labels`. */
  observe(labels: Labels, value: number): void {
    const state = this.series(labels).value;
    for (const [i, le] of this.buckets.entries()) {
      if (value <= le) state.counts[i]!++;
    }
    state.sum += value;
    state.count++;
  }
}

/** Metric families and the collectors that refresh them before a render. */
export class MetricsRegistry {
  readonly #families = new Map<string, { name: string; render(): string }>();
  readonly #collectors: Array<() => void> = [];

  /** Registers a counter. @throws {RangeError} for a taken or invalid name */
  counter(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
  ): Counter {
    return this.#add(new Counter(name, help, labelNames));
  }

  /** Registers a gauge. @throws {RangeError} for a taken or invalid name */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames));
  }

  /** Registers a histogram. @throws {RangeError} for a taken or invalid name, or bad buckets */
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets?: readonly number[],
  ): Histogram {
    return this.#add(new Histogram(name, help, labelNames, buckets));
  }

  /** Adds a function run at the start of every render (to refresh gauges). */
  addCollector(collect: () => void): void {
    this.#collectors.push(collect);
  }

  /**
   * Runs the collectors, then renders every family in registration order.
   *
   * @returns the text exposition, ending with a newline
   */
  render(): string {
    for (const collect of this.#collectors) collect();
    return [...this.#families.values()].map((f) => f.render()).join("\n") +
      "\n";
  }

  #add<F extends { name: string; render(): string }>(family: F): F {
    if (this.#families.has(family.name)) {
      throw new RangeError(
        `Cannot register metric "${family.name}": the name is taken`,
      );
    }
    this.#families.set(family.name, family);
    return family;
  }
}

function formatLabels(labels: Labels): string {
  const pairs = Object.entries(labels).map(([k, v]) =>
    `${k}="${
      v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')
    }"`
  );
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}
