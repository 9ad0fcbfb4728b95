/**
 * Benchmark of the compute pool: ExplainBatch LRP-α1.5β0.5 throughput on a
 * randomly initialised thesis-size R-LSTM at T = 12 (28×84 inputs, c = 7),
 * batch 50, through `pool.run()` with one worker and with two (the target on
 * two cores is ≥ 1.7×).
 *
 * Each round submits the same number of batches at once to each pool (its
 * workers already hold the model) and times until the last one is done; the
 * two runs of a round are back to back, in alternating order, so that their
 * ratio sees the same machine load. It prints the throughput of each size,
 * the per-round ratios and their median, and, to read them against how busy
 * the shared machine was, the load average and the ratio two workers
 * spinning on plain JS reach over one (the machine's ceiling at that moment).
 *
 * Usage: `deno task bench:pool [--backend=wasm|blas|auto|cpu]` (default
 * wasm). The flags: `--allow-ffi` and `--allow-env` let the blas backend
 * load OpenBLAS; `--allow-read=.` loads the code
 * and the wasm binary (workers inherit it), `--allow-write=./data` holds the
 * temporary model store (SQLite registry and checkpoint), `--allow-sys=loadavg` reports the load.
 *
 * This script imports `server/compute/` directly: the pool is what it
 * measures, and there is no RPC in the loop.
 *
 * @module
 */
import { createSpec, initBackend, Random } from "../models/mod.ts";
import { batchInputs, createComputePool } from "../server/compute/mod.ts";
import {
  backendOption,
  loadAverageText,
  type MatmulShape,
  median,
  openPeakWorkers,
  print,
  repsFor,
  saveSeededModel,
} from "./_bench.ts";

const BATCH = 50;
/** Batches per round: a multiple of both pool sizes. */
const BATCHES = 16;
const ROUNDS = 5;
/** Untimed batches per worker before the rounds. */
const WARM_UP_BATCHES = 150;
const SIZE = 12 * 28 * 7;

const SPIN_WORKER = `onmessage = (e) => {
  const a = new Float32Array(65536).fill(1.0001);
  let s = 0;
  for (let r = 0; r < e.data; r++) {
    for (let i = 0; i < a.length; i++) s += a[i] * a[(i * 7) & 65535];
  }
  postMessage(s);
};`;

/**
 * The machine's parallel ceiling right now: throughput of two workers
 * spinning on plain JS over one (2.0 on two idle cores; less when other
 * processes hold a core).
 */
async function spinCeiling(): Promise<number> {
  const url = URL.createObjectURL(
    new Blob([SPIN_WORKER], { type: "application/javascript" }),
  );
  const spin = async (workers: number): Promise<number> => {
    const all = Array.from(
      { length: workers },
      () => new Worker(url, { type: "module" }),
    );
    try {
      const started = performance.now();
      await Promise.all(all.map((w) =>
        new Promise((resolve) => {
          w.onmessage = resolve;
          w.postMessage(2000);
        })
      ));
      return performance.now() - started;
    } finally {
      for (const w of all) w.terminate();
    }
  };
  try {
    await spin(2);
    return (2 * (await spin(1))) / (await spin(2));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** The R-LSTM gate product at batch 50: [50, 256 + 72] × [328, 4 · 72]. */
const GATES: MatmulShape = { m: 50, k: 328, n: 288 };

/**
 * The machine's parallel ceiling for matrix work right now: the aggregate
 * rate of two matmul workers (each with its own backend, as the pool's
 * are) over one, on the R-LSTM gate product. Vector-heavy code can share a
 * core's resources where plain JS does not (two vCPUs on one physical core
 * run a scalar spin at ~2× but products at less), so this, not the spin,
 * bounds what two compute workers can reach.
 */
async function matmulCeiling(backend: string): Promise<number> {
  const choice = backend as Parameters<typeof openPeakWorkers>[1];
  using one = await openPeakWorkers(1, choice);
  using two = await openPeakWorkers(2, choice);
  const reps = repsFor(GATES, 20, 150);
  const ratios: number[] = [];
  for (let round = 0; round < 3; round++) {
    const [a] = await one.measure(GATES, reps, 1);
    const [b] = await two.measure(GATES, reps, 1);
    ratios.push(b! / a!);
  }
  return median(ratios);
}

const backend = backendOption(Deno.args, "wasm");
const { name: backendName } = await initBackend(backend);
await Deno.mkdir("data", { recursive: true });
const dir = await Deno.makeTempDir({ dir: "data", prefix: "bench_pool_" });
try {
  const { ref } = await saveSeededModel(
    dir,
    "bench",
    createSpec({ architecture: "r_lstm", steps: 12, columns: 7 }),
  );
  const random = new Random(7);
  const x = Float32Array.from(
    { length: BATCH * SIZE },
    () => 2 * random.next() - 1,
  );
  const labels = Uint8Array.from({ length: BATCH }, (_, i) => i % 10);
  const task = {
    kind: "explainBatch",
    model: ref,
    inputs: batchInputs(x, BATCH, labels),
    method: "lrp_alpha_beta",
    params: { alpha: 1.5, beta: 0.5 },
  } as const;
  const sizes = [1, 2] as const;
  const pools = sizes.map((workers) =>
    createComputePool({ workers, queueLimit: BATCHES, backend })
  );
  try {
    await Promise.all(pools.map((p) => p.ready()));
    // Warm-up: every worker loads the model and runs the pass
    // WARM_UP_BATCHES times. Each worker is its own V8 isolate, and V8
    // compiles the pass's hot paths over hundreds of calls (one pool's
    // throughput rose by 60% between 8 and 400 warm-up batches), so without
    // it the single worker, which runs twice the batches of each of the
    // pair, would be the warmer one.
    for (const [i, pool] of pools.entries()) {
      // In waves that fit the queue.
      for (let done = 0; done < sizes[i]! * WARM_UP_BATCHES; done += BATCHES) {
        await Promise.all(
          Array.from({ length: BATCHES }, () => pool.run(task)),
        );
      }
    }
    print(`load average before: ${loadAverageText()}`);
    const ceilingBefore = await spinCeiling();
    const matmulBefore = await matmulCeiling(backendName);
    const rates: number[][] = sizes.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which size goes first, so a trend in the load favours neither.
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        const started = performance.now();
        await Promise.all(
          Array.from({ length: BATCHES }, () => pools[i]!.run(task)),
        );
        const seconds = (performance.now() - started) / 1000;
        rates[i]!.push((BATCHES * BATCH) / seconds);
      }
    }
    const ceilingAfter = await spinCeiling();
    const matmulAfter = await matmulCeiling(backendName);
    print(`load average after: ${loadAverageText()}`);
    print(
      `\nExplainBatch LRP-α1.5β0.5, R-LSTM T = 12, batch ${BATCH}, ${BATCHES} batches × ${ROUNDS} rounds (${backendName}, ${navigator.hardwareConcurrency} cores)\n`,
    );
    print("| workers | explanations/s (median) | per round |");
    print("| --- | --- | --- |");
    for (const [i, workers] of sizes.entries()) {
      print(
        `| ${workers} | ${median(rates[i]!).toFixed(1)} | ${
          rates[i]!.map((r) => r.toFixed(1)).join(", ")
        } |`,
      );
    }
    // Each round's two runs are back to back: their ratio sees the same load.
    const ratios = rates[1]!.map((r, k) => r / rates[0]![k]!);
    print(
      `\n2 workers / 1 worker: ${
        median(ratios).toFixed(2)
      }× median of the rounds (${
        ratios.map((r) => r.toFixed(2)).join(", ")
      }), best ${Math.max(...ratios).toFixed(2)}× (target ≥ 1.7×)`,
    );
    print(
      `machine ceiling (plain-JS spin, 2 workers / 1): ${
        ceilingBefore.toFixed(2)
      }× before, ${ceilingAfter.toFixed(2)}× after`,
    );
    print(
      `machine ceiling for matrix work (tf.matMul ${GATES.m}×${GATES.k}×${GATES.n} on ${backendName}, 2 workers / 1, median of 3): ${
        matmulBefore.toFixed(2)
      }× before, ${matmulAfter.toFixed(2)}× after`,
    );
  } finally {
    for (const pool of pools) pool.close();
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
