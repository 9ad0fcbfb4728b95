/**
 * Compute-pool metrics: workers, busy workers, queue depth, task outcomes,
 * and worker utilisation. The pool reports how many workers are busy now;
 * a sampler integrates that over time into busy worker-seconds, from which
 * the utilisation over the last window (busy time ÷ worker time) follows.
 *
 * @module
 */
import type { MetricsRegistry } from "./metrics_registry.ts";

/** What the metrics read from the compute pool (`ComputePool.stats()`). */
export interface ComputeStatsSource {
  /** Current counters. */
  stats(): {
    workers: number;
    busy: number;
    queued: number;
    done: number;
    failed: number;
    cancelled: number;
    crashed: number;
  };
}

/** Options of {@linkcode addComputeMetrics}. */
export interface ComputeMetricsOptions {
  /**
   * Milliseconds between samples of the busy workers.
   * @default 100
   */
  sampleMs?: number;
  /**
   * Milliseconds over which the utilisation gauge averages.
   * @default 10000
   */
  windowMs?: number;
  /**
   * The clock, in milliseconds (for tests).
   * @default performance.now
   */
  now?: () => number;
}

/**
 * Registers the compute metrics and starts the busy-time sampler.
 *
 * @param registry where they are rendered
 * @param pool the compute pool
 * @param options sampling period and window
 * @returns a handle whose disposal stops the sampler
 */
export function addComputeMetrics(
  registry: MetricsRegistry,
  pool: ComputeStatsSource,
  options: ComputeMetricsOptions = {},
): Disposable & { sample(): void } {
  const now = options.now ?? (() => performance.now());
  const windowMs = options.windowMs ?? 10_000;
  const workers = registry.gauge(
    "rnn_explain_compute_workers",
    "Live compute workers",
  );
  const busy = registry.gauge(
    "rnn_explain_compute_workers_busy",
    "Compute workers running a task now",
  );
  const queued = registry.gauge(
    "rnn_explain_compute_queue_depth",
    "Compute tasks waiting for a worker",
  );
  const tasks = registry.counter(
    "rnn_explain_compute_tasks_total",
    "Compute tasks settled, by outcome",
    ["outcome"],
  );
  const crashed = registry.counter(
    "rnn_explain_compute_worker_crashes_total",
    "Compute workers that crashed and were replaced",
  );
  const busySeconds = registry.counter(
    "rnn_explain_compute_busy_seconds_total",
    "Worker-seconds spent running tasks (sampled); rate() ÷ workers is the utilisation",
  );
  const utilization = registry.gauge(
    "rnn_explain_compute_utilization_ratio",
    `Share of worker time spent busy over the last ${
      windowMs / 1000
    } s (sampled)`,
  );
  let last = now();
  let total = 0;
  // (time, busy seconds so far, live workers) at each sample within the window.
  const history: Array<[number, number, number]> = [[last, 0, 0]];
  const sample = () => {
    const t = now();
    const s = pool.stats();
    const seconds = s.busy * (t - last) / 1000;
    total += seconds;
    busySeconds.inc({}, seconds);
    last = t;
    history.push([t, total, s.workers]);
    while (history.length > 2 && history[1]![0] <= t - windowMs) {
      history.shift();
    }
  };
  registry.addCollector(() => {
    sample();
    const s = pool.stats();
    workers.set({}, s.workers);
    busy.set({}, s.busy);
    queued.set({}, s.queued);
    tasks.sync({ outcome: "done" }, s.done);
    tasks.sync({ outcome: "failed" }, s.failed);
    tasks.sync({ outcome: "cancelled" }, s.cancelled);
    crashed.sync({}, s.crashed);
    const [t0, b0] = history[0]!;
    const [t1, b1, w] = history[history.length - 1]!;
    const capacity = w * (t1 - t0) / 1000;
    utilization.set({}, capacity > 0 ? Math.min(1, (b1 - b0) / capacity) : 0);
  });
  const timer = setInterval(sample, options.sampleMs ?? 100);
  return {
    sample,
    [Symbol.dispose]: () => clearInterval(timer),
  };
}
