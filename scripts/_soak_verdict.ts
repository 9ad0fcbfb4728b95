/**
 * The soak's verdict (scripts/soak.ts), pure so that it is tested on made-up
 * series: after a warm-up, the compute workers' live tensor counts must not
 * grow at all (beyond a tolerance, default 0: with a fixed set of cached
 * models every task must free what it made), and the server's resident
 * memory must not grow by more than a tolerance. RSS is a sawtooth (V8
 * lets its heaps grow for minutes before a major collection gives memory
 * back; a 3,000-explanation run climbed 180 MiB over about 80 s and fell
 * back), so the floors are compared: the lowest sample of the first half
 * after the warm-up against the lowest of the second half. A leak lifts the
 * floor; garbage waiting for collection does not, as long as each half is
 * longer than one collection cycle (true of the full soak's minutes).
 *
 * @module
 */

/** One sample of the server, taken while the soak runs. */
export interface SoakSample {
  /** Milliseconds since the soak started. */
  atMs: number;
  /** Explanations finished so far. */
  done: number;
  /** Live tensors of each compute worker after its last task (from the server's log). */
  workerTensors: number[];
  /** The server process's resident set size in bytes, or `undefined` where unreadable. */
  rssBytes: number | undefined;
}

/** Limits of {@linkcode soakVerdict}. */
export interface SoakLimits {
  /** Explanations that count as warm-up (models loaded, pools and JIT warm). */
  warmupDone: number;
  /** Tensors a worker may gain after the warm-up. */
  tensorTolerance: number;
  /** Bytes the RSS may gain after the warm-up. */
  rssToleranceBytes: number;
  /** Unexpected call errors the run may have (0). */
  errors: number;
  /**
   * How the server process died during the run or when the clients closed,
   * e.g. `"signal SIGABRT"`; `undefined` while it lives.
   * @default undefined
   */
  serverDeath?: string;
}

/** What the soak concludes. */
export interface SoakVerdict {
  /** Whether every check passed. */
  ok: boolean;
  /** One line per failed check (empty when `ok`). */
  failures: string[];
  /** Per worker: tensors at the end of the warm-up and the most seen after it. */
  tensors: { baseline: number[]; peak: number[] };
  /** Lowest RSS of the first and of the second half after the warm-up, bytes (NaN if unknown). */
  rss: { baseline: number; final: number; growth: number };
}

function lowest(values: number[]): number {
  return values.length === 0 ? NaN : Math.min(...values);
}

/**
 * Judges a soak run.
 *
 * @param samples the samples in time order
 * @param limits the warm-up, tolerances and the unexpected error count
 * @returns whether the run passed, and why not
 */
export function soakVerdict(
  samples: readonly SoakSample[],
  limits: SoakLimits,
): SoakVerdict {
  const failures: string[] = [];
  if (limits.errors > 0) {
    failures.push(`${limits.errors} unexpected errors (expected none)`);
  }
  if (limits.serverDeath !== undefined) {
    failures.push(
      `The server process died (${limits.serverDeath}) instead of outliving its clients`,
    );
  }
  const after = samples.filter((s) => s.done >= limits.warmupDone);
  if (after.length < 2) {
    failures.push(
      `Cannot judge memory: ${after.length} samples after the warm-up, need at least 2 (sample more often)`,
    );
  }
  const baseline = after[0]?.workerTensors ?? [];
  const peak = baseline.map((_, w) =>
    Math.max(...after.map((s) => s.workerTensors[w] ?? 0))
  );
  peak.forEach((p, w) => {
    if (p > baseline[w]! + limits.tensorTolerance) {
      failures.push(
        `Worker ${w} grew from ${
          baseline[w]
        } to ${p} live tensors after the warm-up (tolerance ${limits.tensorTolerance})`,
      );
    }
  });
  const rssSeries = after.map((s) => s.rssBytes).filter((r) =>
    r !== undefined
  ) as number[];
  if (rssSeries.length < 2 && after.length >= 2) {
    failures.push(
      `Cannot judge RSS: ${rssSeries.length} readable samples after the warm-up, need at least 2`,
    );
  }
  const half = Math.max(1, Math.floor(rssSeries.length / 2));
  const rssBaseline = lowest(rssSeries.slice(0, half));
  const rssFinal = lowest(rssSeries.slice(half));
  const growth = rssFinal - rssBaseline;
  if (growth > limits.rssToleranceBytes) {
    const mib = (b: number) => (b / 2 ** 20).toFixed(1);
    failures.push(
      `RSS grew by ${mib(growth)} MiB after the warm-up, from ${
        mib(rssBaseline)
      } to ${mib(rssFinal)} MiB (tolerance ${
        mib(limits.rssToleranceBytes)
      } MiB)`,
    );
  }
  return {
    ok: failures.length === 0,
    failures,
    tensors: { baseline, peak },
    rss: { baseline: rssBaseline, final: rssFinal, growth },
  };
}
