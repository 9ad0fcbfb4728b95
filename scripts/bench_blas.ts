/**
 * Benchmark and profile of the OpenBLAS compute path (issue #8): the same
 * randomly initialised Deep, R-LSTM and ConvR-LSTM models (T = 12, 28×7 per
 * step, batch 50) on plain `wasm` and on `blas` (wasm + OpenBLAS through
 * FFI), in one process, sharing one heap:
 *
 * - `cblas_sgemm` peak at 1 and 2 threads and the `wasm` matmul peak (512³),
 *   measured in the same run, so every figure is also given per GFLOP/s of
 *   the same-run sgemm peak (and against the PyTorch figures of issue #8);
 * - training samples/s, classify samples/s, LRP-α1.5β0.5, deep Taylor and
 *   sensitivity explanations/s;
 * - with `--profile`: where the time of each of those goes, by kernel group
 *   (matrix products, convolutions, pooling, element-wise and the rest), and
 *   the part outside kernels (TF.js dispatch, JavaScript, data movement).
 *
 * Options: `--threads=N` OpenBLAS threads for the blas runs (default 1: a
 * worker's share of 2 cores under the default pool, and the batch-50
 * products are too small to split), `--arch=deep,r_lstm,conv_r_lstm`, `--seconds=S` time budget
 * per measured cell (default 1.5), `--profile`.
 *
 * Usage: `deno task bench:blas [--profile]`. Needs `--allow-ffi`; without
 * it (or without libopenblas0) only the wasm columns are measured.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { loadAverageText, median } from "./_bench.ts";
import {
  type Architecture,
  createModel,
  createSpec,
  explain,
  fit,
  initBackend,
  predict,
  type RnnModel,
  setBlasThreads,
} from "../models/mod.ts";

const BATCH = 50;
const STEPS = 12;
const COLUMNS = 7;
const SIZE = STEPS * 28 * COLUMNS;

/** Issue #8's PyTorch 1.13 + OpenBLAS figures on a 2-core machine. */
const PYTORCH: Record<string, Partial<Record<Task, number>>> = {
  deep: { train: 4070, classify: 19220, lrp: 2895, taylor: 3773 },
  "r_lstm": { train: 3785, classify: 17605, lrp: 4399, taylor: 4794 },
  "conv_r_lstm": { train: 591, classify: 3265, lrp: 688, taylor: 944 },
};

type Task = "train" | "classify" | "lrp" | "taylor" | "sensitivity";
const TASKS: readonly Task[] = [
  "train",
  "classify",
  "lrp",
  "taylor",
  "sensitivity",
];
const TASK_LABELS: Record<Task, string> = {
  train: "training samples/s",
  classify: "classify samples/s",
  lrp: "LRP-α1.5β0.5 explanations/s",
  taylor: "deep Taylor explanations/s",
  sensitivity: "sensitivity explanations/s",
};

function option(name: string): string | undefined {
  const prefix = `--${name}=`;
  const hit = Deno.args.find((a) => a.startsWith(prefix));
  return hit?.slice(prefix.length);
}

const PROFILE = Deno.args.includes("--profile");
const SECONDS = Number(option("seconds") ?? "1.5");
const THREADS = Number(option("threads") ?? "1");
const ARCHS = (option("arch") ?? "deep,r_lstm,conv_r_lstm")
  .split(",") as Architecture[];

/** Seeded values in [-1, 1) (a linear congruential generator). */
function values(count: number, seed: number): Float32Array {
  const x = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    x[i] = state / 2147483648 - 1;
  }
  return x;
}

/** Median milliseconds of `run` after one warm-up, within the time budget. */
async function timeMs(run: () => Promise<unknown>): Promise<number> {
  await run();
  const times: number[] = [];
  const start = performance.now();
  while (
    times.length < 3 ||
    (times.length < 30 && performance.now() - start < SECONDS * 1000)
  ) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Best GFLOP/s of an n×n by n×n product on the active backend. */
function matMulPeak(n = 512, reps = 8): number {
  const [a, b] = [tf.randomUniform([n, n]), tf.randomUniform([n, n])];
  try {
    let best = Infinity;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
      best = Math.min(best, performance.now() - t0);
    }
    return (2 * n ** 3) / (best * 1e6);
  } finally {
    tf.dispose([a, b]);
  }
}

/** Kernel time by group, collected by wrapping the backend's kernels. */
class KernelTimer {
  readonly ms = new Map<string, number>();
  readonly byKernel = new Map<string, number>();
  calls = 0;
  #originals: tf.KernelConfig[] = [];

  constructor(readonly backend: string) {}

  install(): void {
    this.#originals = tf.getKernelsForBackend(this.backend);
    for (const kernel of this.#originals) {
      const group = groupOf(kernel.kernelName);
      const inner = kernel.kernelFunc;
      tf.unregisterKernel(kernel.kernelName, this.backend);
      tf.registerKernel({
        ...kernel,
        kernelFunc: ((args: Parameters<tf.KernelFunc>[0]) => {
          const t0 = performance.now();
          try {
            return inner(args);
          } finally {
            const ms = performance.now() - t0;
            this.calls++;
            this.ms.set(group, (this.ms.get(group) ?? 0) + ms);
            this.byKernel.set(
              kernel.kernelName,
              (this.byKernel.get(kernel.kernelName) ?? 0) + ms,
            );
          }
        }) as tf.KernelFunc,
      });
    }
  }

  uninstall(): void {
    for (const kernel of this.#originals) {
      tf.unregisterKernel(kernel.kernelName, this.backend);
      tf.registerKernel(kernel);
    }
  }
}

function groupOf(kernel: string): string {
  if (kernel === "BatchMatMul" || kernel === "_FusedMatMul") return "matmul";
  if (kernel.startsWith("Conv2D") || kernel === "FusedConv2D") return "conv";
  if (kernel.startsWith("AvgPool")) return "pool";
  return "other kernels";
}

const GROUPS = ["matmul", "conv", "pool", "other kernels"] as const;

interface Cell {
  perSecond: number;
  /** The reference peak (GFLOP/s) measured right after this cell. */
  peak: number;
  profile?: {
    wallMs: number;
    groups: Record<string, number>;
    calls: number;
    top: [string, number][];
  };
}

function syntheticBatch(seed: number) {
  return {
    x: values(BATCH * SIZE, seed),
    labels: Uint8Array.from({ length: BATCH }, (_, i) => i % 10),
    count: BATCH,
  };
}

/** One `fit` epoch of `steps` steps of batch 50; returns ms per step (median). */
async function trainStepMs(model: RnnModel, steps: number): Promise<number> {
  const data = {
    x: values(BATCH * steps * SIZE, 11),
    labels: Uint8Array.from({ length: BATCH * steps }, (_, i) => i % 10),
    count: BATCH * steps,
  };
  const stepTimes: number[] = [];
  let last = performance.now();
  await fit(model, data, {
    epochs: 1,
    batchSize: BATCH,
    seed: 1,
    onProgress: () => {
      const now = performance.now();
      stepTimes.push(now - last);
      last = now;
    },
  });
  return median(stepTimes.slice(1));
}

async function measure(
  backend: string,
  architecture: Architecture,
): Promise<Record<Task, Cell>> {
  await tf.setBackend(backend);
  const spec = createSpec({ architecture, steps: STEPS, columns: COLUMNS });
  const model = createModel(spec, { seed: 1 });
  const batch = syntheticBatch(5);
  const runs: Record<Task, () => Promise<unknown>> = {
    train: () => trainStepMs(model, 3),
    classify: () => predict(model, batch.x, BATCH, { batchSize: BATCH }),
    lrp: () =>
      explain(model, batch, "lrp_alpha_beta", {
        params: { alpha: 1.5, beta: 0.5 },
      }),
    taylor: () => explain(model, batch, "deep_taylor"),
    sensitivity: () => explain(model, batch, "sensitivity"),
  };
  try {
    const cells = {} as Record<Task, Cell>;
    for (const task of TASKS) {
      let ms: number;
      if (task === "train") {
        // Fit's own step times: the first step of each epoch is dropped.
        const epochSteps = Math.max(
          4,
          Math.min(
            40,
            Math.round(SECONDS * 1000 / (await trainStepMs(model, 2))),
          ),
        );
        ms = await trainStepMs(model, epochSteps);
      } else {
        ms = await timeMs(runs[task]);
      }
      cells[task] = { perSecond: BATCH / (ms / 1000), peak: await peakNow() };
      await tf.setBackend(backend);
      if (PROFILE) cells[task].profile = await profile(backend, runs[task]);
    }
    return cells;
  } finally {
    model.dispose();
  }
}

async function profile(
  backend: string,
  run: () => Promise<unknown>,
): Promise<NonNullable<Cell["profile"]>> {
  const timer = new KernelTimer(backend);
  timer.install();
  try {
    const t0 = performance.now();
    await run();
    const wallMs = performance.now() - t0;
    return {
      wallMs,
      groups: Object.fromEntries(timer.ms),
      calls: timer.calls,
      top: [...timer.byKernel].sort((a, b) => b[1] - a[1]).slice(0, 4),
    };
  } finally {
    timer.uninstall();
  }
}

const info = await initBackend("auto", { blasThreads: THREADS });
const hasBlas = info.name === "blas";
const began = performance.now();
const loadBefore = loadAverageText();
const peaks: Record<string, number> = {};
await tf.setBackend("wasm");
peaks.wasm = matMulPeak();
if (hasBlas) {
  await tf.setBackend("blas");
  for (const t of [1, 2]) {
    setBlasThreads(t);
    peaks[`sgemm${t}`] = matMulPeak();
  }
  setBlasThreads(THREADS);
}
/**
 * The reference GEMM peak now: sgemm at the model runs' thread count when
 * blas is available, else the wasm matmul. Measured after every cell, since
 * load on shared machines changes within a run.
 */
async function peakNow(): Promise<number> {
  await tf.setBackend(hasBlas ? "blas" : "wasm");
  return matMulPeak(512, 3);
}

const backends = hasBlas ? ["wasm", "blas"] : ["wasm"];
const results: Record<string, Record<string, Record<Task, Cell>>> = {};
for (const architecture of ARCHS) {
  results[architecture] = {};
  for (const backend of backends) {
    results[architecture][backend] = await measure(backend, architecture);
  }
}

const lines = [
  "# OpenBLAS path benchmark",
  "",
  `Deno ${Deno.version.deno}, TF.js ${tf.version.tfjs}, ${navigator.hardwareConcurrency} logical cores; ` +
  `load average before: ${loadBefore}, after: ${loadAverageText()}; ${
    ((performance.now() - began) / 1000).toFixed(0)
  } s.`,
  hasBlas
    ? `blas: ${
      info.blas!.path
    }, ${THREADS} OpenBLAS thread(s) for the model runs.`
    : `blas not measured: ${
      info.skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")
    }`,
  `512³ peaks (GFLOP/s): wasm matmul ${peaks.wasm!.toFixed(1)}` +
  (hasBlas
    ? `, sgemm 1 thread ${peaks.sgemm1!.toFixed(1)}, sgemm 2 threads ${
      peaks.sgemm2!.toFixed(1)
    }`
    : "") +
  `. "per peak" = figure ÷ the ${
    hasBlas ? `sgemm ${THREADS}-thread` : "wasm matmul"
  } peak (GFLOP/s, best of 3 at 512³) measured right after that figure's own cell (wasm, blas); the issue's PyTorch ratio uses its 2-thread sgemm ≈ 200.`,
  `Random models (seed 1), batch ${BATCH}, T = ${STEPS}, 28×${COLUMNS} per step, synthetic inputs; median times.`,
  "",
  `| model | figure | wasm | ${
    hasBlas ? "blas | blas ÷ wasm | " : ""
  }PyTorch | best ÷ PyTorch | best per peak | PyTorch per peak (its 2-core sgemm ≈ 200) |`,
  `| --- | --- | ---: | ${
    hasBlas ? "---: | ---: | " : ""
  }---: | ---: | ---: | ---: |`,
];
for (const architecture of ARCHS) {
  for (const task of TASKS) {
    const wc = results[architecture]!.wasm![task];
    const bc = hasBlas ? results[architecture]!.blas![task] : wc;
    const [w, b] = [wc.perSecond, bc.perSecond];
    const peak = b >= w ? bc.peak : wc.peak;
    const torch = PYTORCH[architecture]?.[task];
    const best = Math.max(w, b);
    const vsTorch = torch === undefined
      ? "— | — | "
      : `${torch} | ${(best / torch).toFixed(2)} | `;
    lines.push(
      `| ${architecture} | ${TASK_LABELS[task]} | ${w.toFixed(0)} | ${
        hasBlas ? `${b.toFixed(0)} | ${(b / w).toFixed(2)} | ` : ""
      }${vsTorch}${(best / peak).toFixed(1)} | ${
        torch === undefined ? "—" : (torch / 200).toFixed(1)
      } |`,
    );
  }
}
if (PROFILE) {
  lines.push(
    "",
    "## Profile (one call each; % of wall time; kernel time from wrapped kernels)",
    "",
    `| model | backend | figure | wall ms | ${
      GROUPS.join(" | ")
    } | outside kernels | kernel calls | top kernels (ms) |`,
    `| --- | --- | --- | ---: | ${
      GROUPS.map(() => "---:").join(" | ")
    } | ---: | ---: | --- |`,
  );
  for (const architecture of ARCHS) {
    for (const backend of backends) {
      for (const task of TASKS) {
        const p = results[architecture]![backend]![task].profile!;
        const inKernels = GROUPS.reduce((s, g) => s + (p.groups[g] ?? 0), 0);
        const pct = (ms: number) => `${(100 * ms / p.wallMs).toFixed(0)}%`;
        lines.push(
          `| ${architecture} | ${backend} | ${task} | ${
            p.wallMs.toFixed(1)
          } | ${GROUPS.map((g) => pct(p.groups[g] ?? 0)).join(" | ")} | ${
            pct(p.wallMs - inKernels)
          } | ${p.calls} | ${
            p.top.map(([k, ms]) => `${k} ${ms.toFixed(1)}`).join(", ")
          } |`,
        );
      }
    }
  }
}
// Scripts report on stdout (STYLE.md §3.11 allows the console in scripts/).
// deno-lint-ignore no-console
console.log(lines.join("\n"));
