/**
 * The training progress bar of the command line: one line with the epoch,
 * a bar over the whole job, the step, loss, accuracy, throughput and ETA.
 * On a terminal the line is redrawn in place; elsewhere (CI logs) a line is
 * printed at most every few seconds and at every epoch change.
 *
 * @module
 */

/** The fields of a TrainingProgress message the bar shows. */
export interface ProgressFields {
  /** Current epoch, 1-based. */
  epoch: number;
  /** Total epochs. */
  epochs: number;
  /** Optimiser steps done in the current epoch. */
  step: number;
  /** Optimiser steps per epoch. */
  stepsPerEpoch: number;
  /** Mean loss of the epoch so far. */
  loss: number;
  /** Accuracy of the epoch so far, in [0, 1]. */
  accuracy: number;
  /** Samples per second of the epoch so far. */
  samplesPerSecond: number;
  /** Estimated seconds left. */
  etaSeconds: number;
  /** Epochs completed. */
  completedEpochs: number;
  /** Held-out accuracy after the last completed epoch, when known. */
  heldoutAccuracy?: number;
}

/** Formats seconds as `1h02m03s`, `2m05s` or `7s`; `?` when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (h > 0) return `${h}h${pad(m)}m${pad(r)}s`;
  if (m > 0) return `${m}m${pad(r)}s`;
  return `${r}s`;
}

/**
 * One progress line, for example
 * `epoch 1/2 [#####-----------]  31% step 40/64 loss 1.2345 acc 56.2% 812 samples/s ETA 1m05s`.
 *
 * @param p the progress
 * @param barWidth characters of the bar
 * @returns the line, without a newline
 */
export function formatProgress(p: ProgressFields, barWidth = 20): string {
  const totalSteps = Math.max(1, p.epochs * p.stepsPerEpoch);
  const done = Math.min(
    totalSteps,
    Math.max(0, (p.epoch - 1) * p.stepsPerEpoch + p.step),
  );
  const fraction = p.stepsPerEpoch > 0 ? done / totalSteps : 0;
  const filled = Math.round(fraction * barWidth);
  const bar = "#".repeat(filled) + "-".repeat(barWidth - filled);
  const parts = [
    `epoch ${p.epoch}/${p.epochs}`,
    `[${bar}]`,
    `${Math.floor(fraction * 100).toString().padStart(3)}%`,
    `step ${p.step}/${p.stepsPerEpoch}`,
    `loss ${Number.isFinite(p.loss) ? p.loss.toFixed(4) : "?"}`,
    `acc ${(p.accuracy * 100).toFixed(1)}%`,
    `${Math.round(p.samplesPerSecond)} samples/s`,
    `ETA ${formatDuration(p.etaSeconds)}`,
  ];
  if (p.heldoutAccuracy !== undefined) {
    parts.push(`held-out acc ${(p.heldoutAccuracy * 100).toFixed(1)}%`);
  }
  return parts.join(" ");
}

/** Where the bar writes. */
export interface ProgressSink {
  /** Writes text as it is. */
  write(text: string): void;
  /** Whether the sink is a terminal (the line is redrawn in place). */
  isTerminal: boolean;
}

/** A progress bar on a sink; `update` often, `done` once. */
export class ProgressBar {
  readonly #sink: ProgressSink;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #lastPrint = -Infinity;
  #lastEpoch = -1;
  #pending: string | undefined;
  #drawn = false;

  /**
   * @param sink where to write (stderr in the command line)
   * @param intervalMs the least time between two lines off a terminal
   * @param now the clock, in milliseconds
   */
  constructor(
    sink: ProgressSink,
    intervalMs = 2000,
    now: () => number = () => Date.now(),
  ) {
    this.#sink = sink;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Shows new progress (throttled off a terminal). */
  update(p: ProgressFields): void {
    const line = formatProgress(p);
    if (this.#sink.isTerminal) {
      this.#sink.write(`\r\x1b[2K${line}`);
      this.#drawn = true;
      return;
    }
    const now = this.#now();
    if (
      p.epoch !== this.#lastEpoch || now - this.#lastPrint >= this.#intervalMs
    ) {
      this.#sink.write(`${line}\n`);
      this.#lastPrint = now;
      this.#lastEpoch = p.epoch;
      this.#pending = undefined;
    } else {
      this.#pending = line;
    }
  }

  /** Prints a message on its own line, keeping the bar below it. */
  note(message: string): void {
    if (this.#sink.isTerminal && this.#drawn) {
      this.#sink.write(`\r\x1b[2K${message}\n`);
      this.#drawn = false;
    } else {
      this.#sink.write(`${message}\n`);
    }
  }

  /** Ends the bar: the last line stays visible. */
  done(): void {
    if (this.#sink.isTerminal) {
      if (this.#drawn) this.#sink.write("\n");
      this.#drawn = false;
    } else if (this.#pending !== undefined) {
      this.#sink.write(`${this.#pending}\n`);
      this.#pending = undefined;
    }
  }
}
