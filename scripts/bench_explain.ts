/**
 * Benchmark of every explanation method on randomly initialised R-LSTM and
 * ConvR-LSTM models at T = 12 (28×84 images, c = 7), through `explain()`:
 *
 * - explanations per second at batch 50 (one call explaining 50 sequences);
 * - batch-1 latency, the median (p50) over repeated calls;
 * - each call's cost relative to one forward pass of the same batch (the
 *   target for LRP / deep Taylor passes is ≤ 3×);
 * - the backend's 512×512×512 matmul peak, measured in the same run so the
 *   numbers can be read against how busy the machine was.
 *
 * Prints a Markdown table. The repetitions adapt to a time budget per cell
 * so the whole run stays around a minute on two busy cores.
 *
 * Usage: `deno task bench:explain [--backend=wasm|blas|auto|cpu]` (default
 * `wasm`; `blas` is the OpenBLAS path the server's `auto` prefers, and
 * needs the task's `--allow-ffi`). `--allow-read` loads the wasm binary
 * from node_modules; `--allow-sys=loadavg` reports the machine's load.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { backendOption, loadAverageText, median } from "./_bench.ts";
import {
  type Architecture,
  createModel,
  createSpec,
  explain,
  initBackend,
  type MethodName,
  type MethodParams,
  predict,
  type RnnModel,
} from "../models/mod.ts";

/** One benchmarked method with its parameters. */
interface Case {
  readonly label: string;
  readonly method: MethodName;
  readonly params: MethodParams;
  /** An LRP / deep Taylor relevance pass (held to ≤ 3× a forward pass). */
  readonly pass: boolean;
}

const CASES: readonly Case[] = [
  { label: "sensitivity", method: "sensitivity", params: {}, pass: false },
  {
    label: "guided backprop",
    method: "guided_backprop",
    params: {},
    pass: false,
  },
  {
    label: "gradient × input",
    method: "gradient_x_input",
    params: {},
    pass: false,
  },
  {
    label: "integrated gradients (32 steps)",
    method: "integrated_gradients",
    params: {},
    pass: false,
  },
  {
    label: "smoothgrad (16 samples)",
    method: "smoothgrad",
    params: {},
    pass: false,
  },
  { label: "LRP-ε (ε = 1e-9)", method: "lrp_epsilon", params: {}, pass: true },
  {
    label: "LRP-α1β0",
    method: "lrp_alpha_beta",
    params: { alpha: 1, beta: 0 },
    pass: true,
  },
  {
    label: "LRP-α1.5β0.5",
    method: "lrp_alpha_beta",
    params: { alpha: 1.5, beta: 0.5 },
    pass: true,
  },
  {
    label: "LRP-α2β1",
    method: "lrp_alpha_beta",
    params: { alpha: 2, beta: 1 },
    pass: true,
  },
  {
    label: "deep Taylor (z⁺, zᴮ)",
    method: "deep_taylor",
    params: {},
    pass: true,
  },
];

const ARCHITECTURES: readonly Architecture[] = ["r_lstm", "conv_r_lstm"];
const BATCH = 50;
const TARGET_RATIO = 3;

/** Seeded uniform values in [low, high) (mulberry32). */
function uniform(
  seed: number,
  size: number,
  low: number,
  high: number,
): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = low + (high - low) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

/**
 * Times `run` after one untimed warm-up: at least `minReps` and at most
 * `maxReps` calls, stopping once `budgetMs` is spent. `before` runs untimed
 * before each timed call.
 */
async function timeCalls(
  run: () => Promise<unknown>,
  { minReps, maxReps, budgetMs, warmUp = 1, before }: {
    minReps: number;
    maxReps: number;
    budgetMs: number;
    /** Untimed calls first. */
    warmUp?: number;
    before?: () => Promise<unknown>;
  },
): Promise<number[]> {
  for (let i = 0; i < warmUp; i++) await run();
  const times: number[] = [];
  const start = performance.now();
  while (
    times.length < minReps ||
    (times.length < maxReps && performance.now() - start < budgetMs)
  ) {
    await before?.();
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return times;
}

/** Best GFLOP/s of a 512×512 by 512×512 matmul. */
function matMulPeak(): { gflops: number; ms: number } {
  const n = 512;
  const [a, b] = [tf.randomUniform([n, n]), tf.randomUniform([n, n])];
  try {
    // Read the product outside tidy: tidy walks every element of a returned
    // typed array looking for tensors (~100 ms for 512², more than the product).
    const once = () => {
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
    };
    once();
    let best = Infinity;
    for (let r = 0; r < 10; r++) {
      const t0 = performance.now();
      once();
      best = Math.min(best, performance.now() - t0);
    }
    return { gflops: (2 * n ** 3) / (best * 1e6), ms: best };
  } finally {
    tf.dispose([a, b]);
  }
}

interface Row {
  model: string;
  label: string;
  batchMs: number;
  ratio: number;
  latencyMs: number;
  reps: [number, number];
  pass: boolean;
}

async function benchModel(
  architecture: Architecture,
): Promise<{ forwardMs: number; rows: Row[] }> {
  const spec = createSpec({ architecture, steps: 12, columns: 7 });
  const model: RnnModel = createModel(spec, { seed: 1 });
  try {
    const size = 12 * 28 * 7;
    const x = uniform(7, BATCH * size, -1, 1);
    const labels = Uint8Array.from(uniform(8, BATCH, 0, 10), Math.floor);
    const batch = { x, count: BATCH, labels };
    const one = { x: x.slice(0, size), count: 1, labels: labels.slice(0, 1) };
    const forward = () =>
      timeCalls(() => predict(model, x, BATCH, { batchSize: BATCH }), {
        minReps: 5,
        maxReps: 20,
        budgetMs: 800,
      });
    const forwardTimes = await forward();
    // Warm every method up on two sequences first (kernels, JIT), so slow
    // methods are not also run twice at batch 50.
    const two = {
      x: x.slice(0, 2 * size),
      count: 2,
      labels: labels.slice(0, 2),
    };
    for (const c of CASES) {
      await explain(model, two, c.method, { params: c.params });
    }
    const rows: Row[] = [];
    for (const c of CASES) {
      // As the server's compute workers run it: they learn of cancellation
      // from a shared flag, so a pass never pauses for a macrotask
      // (setTimeout(0), about 2 ms in Deno, every 10 ms of work).
      const options = { params: c.params, yieldToEventLoop: () => {} };
      // Each batch-50 call is paired with a forward pass just before it and
      // the ratio is taken per pair, so load changing during the run (the
      // cores are shared) moves both.
      const forwardBefore: number[] = [];
      const batchTimes = await timeCalls(
        () => explain(model, batch, c.method, options),
        {
          minReps: 1,
          maxReps: 7,
          budgetMs: 1000,
          // The LRP and deep Taylor passes are cheap: warm each up at this
          // batch size, or the first β > 0 case pays V8's tiering and the
          // new shapes for the ones after it (α1.5β0.5 measured 18.6 ms
          // against α2β1's 10.9 ms on the same code). The slow gradient
          // methods were warmed up on two sequences only.
          warmUp: c.pass ? 3 : 0,
          before: async () => {
            const f0 = performance.now();
            await predict(model, x, BATCH, { batchSize: BATCH });
            forwardBefore.push(performance.now() - f0);
          },
        },
      );
      const ratios = batchTimes.map((t, i) => t / forwardBefore[i]!);
      const latency = await timeCalls(
        () => explain(model, one, c.method, options),
        { minReps: 5, maxReps: 25, budgetMs: 500 },
      );
      rows.push({
        model: architecture,
        label: c.label,
        batchMs: median(batchTimes),
        ratio: median(ratios),
        latencyMs: median(latency),
        reps: [batchTimes.length, latency.length],
        pass: c.pass,
      });
    }
    const forwardMs = median([...forwardTimes, ...await forward()]);
    return { forwardMs, rows };
  } finally {
    model.dispose();
  }
}

const backend = await initBackend(backendOption(Deno.args, "wasm"));
const began = performance.now();
const loadBefore = loadAverageText();
const peakBefore = matMulPeak();
const results = [];
for (const architecture of ARCHITECTURES) {
  results.push(await benchModel(architecture));
}
const peakAfter = matMulPeak();

const lines = [
  `# Explanation benchmark`,
  "",
  `Backend \`${backend.name}\` (TF.js ${tf.version.tfjs}), Deno ${Deno.version.deno}, ` +
  `${navigator.hardwareConcurrency} logical cores, load average before: ${loadBefore}, after: ${loadAverageText()}.`,
  `512³ matmul peak: ${peakBefore.gflops.toFixed(1)} GFLOP/s before, ${
    peakAfter.gflops.toFixed(1)
  } GFLOP/s after (best of 10).`,
  `Random models (seed 1), T = 12, 28×7 per step, inputs uniform in [−1, 1]; ` +
  `batch ${BATCH}: median of 1–7 calls after a warm-up; batch 1: p50 of 5–25 calls; ` +
  `× forward: median over the batch-50 calls of (call time / a forward pass run just before it).`,
  "",
  "| model | method | batch 50 (ms) | explanations/s | × forward (batch 50) | batch-1 p50 (ms) | calls (50 / 1) |",
  "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
];
for (const { forwardMs, rows } of results) {
  lines.push(
    `| ${rows[0]!.model} | forward pass (predict) | ${forwardMs.toFixed(1)} | ${
      (BATCH / forwardMs * 1000).toFixed(0)
    } | 1.00 | | |`,
  );
  for (const r of rows) {
    const verdict = r.pass ? (r.ratio <= TARGET_RATIO ? " ✓" : " ✗") : "";
    lines.push(
      `| ${r.model} | ${r.label} | ${r.batchMs.toFixed(1)} | ${
        (BATCH / r.batchMs * 1000).toFixed(1)
      } | ${r.ratio.toFixed(2)}${verdict} | ${r.latencyMs.toFixed(1)} | ${
        r.reps[0]
      } / ${r.reps[1]} |`,
    );
  }
}
lines.push(
  "",
  `✓/✗: LRP / deep Taylor pass within / above ${TARGET_RATIO}× one forward pass of the same batch. ` +
    `Total run time ${((performance.now() - began) / 1000).toFixed(1)} s.`,
);
// Scripts report on stdout (STYLE.md §3.11 allows the console in scripts/).
// deno-lint-ignore no-console
console.log(lines.join("\n"));
