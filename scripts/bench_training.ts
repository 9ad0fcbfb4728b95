/**
 * Training throughput of every architecture at batch 50, T = 12 (28×84
 * inputs, c = 7), on synthetic data, with the `wasm` backend:
 *
 * - samples/s of `fit()` (the real training loop: batch assembly, forward,
 *   backward, Adam, progress, yielding), after warm-up steps: from the
 *   fastest step (the machine's uncontended speed) and the median step;
 * - achieved GFLOP/s = samples/s × the analytic FLOPs of one sample's
 *   training step (`countFlops`: matrix products and convolutions, 3× the
 *   forward product per edge, 2× for edges that read the data; element-wise
 *   ops not counted);
 * - next to the backend's 512×512×512 matmul peak (2·512³ FLOPs per
 *   product), measured in the same run interleaved with the training steps
 *   and taken as the best round, like the fastest step: the machine is
 *   shared and its speed drifts, so both are best-of estimates of the
 *   uncontended speed. "% of peak" compares the two.
 *
 * Acceptance target: R-LSTM training ≥ 30% of the matmul peak.
 *
 * Usage: `deno task bench:training [--seconds=S] [--arch=NAME ...]
 * [--backend=wasm|blas|auto|cpu]` (default `wasm`; `blas` is the OpenBLAS
 * path the server's `auto` prefers; `--allow-read` loads the wasm binary
 * from node_modules;
 * `--allow-sys=loadavg` reports the machine's load).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { backendOption, loadAverageText } from "./_bench.ts";
import {
  type Architecture,
  ARCHITECTURES,
  countFlops,
  createModel,
  createSpec,
  fit,
  initBackend,
  type TrainingData,
} from "../models/mod.ts";

const BATCH = 50;
const STEPS = 12;
const COLUMNS = 7;
const WARM_UP_STEPS = 2;

function option(name: string, fallback: string): string[] {
  const values = Deno.args
    .filter((a) => a.startsWith(`--${name}=`))
    .map((a) => a.slice(name.length + 3));
  return values.length > 0 ? values : [fallback];
}

/** GFLOP/s of one round of 512³ products. */
function matmulRound(a: tf.Tensor2D, b: tf.Tensor2D, reps: number): number {
  const start = performance.now();
  for (let i = 0; i < reps; i++) {
    // Returning the values from tidy would make it walk 262,144 numbers.
    tf.tidy(() => {
      tf.matMul(a, b).dataSync();
    });
  }
  const seconds = (performance.now() - start) / 1000;
  return (2 * a.shape[0] * a.shape[1] * b.shape[1] * reps) / seconds / 1e9;
}

function syntheticData(count: number): TrainingData {
  const features = 28 * COLUMNS;
  const x = new Float32Array(count * STEPS * features);
  let state = 12345;
  for (let i = 0; i < x.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    x[i] = state / 2147483648 - 1;
  }
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { x, labels, count };
}

interface Row {
  architecture: Architecture;
  dropout: string;
  parameters: number;
  flops: number;
  /** From the fastest measured step. */
  samplesPerSecond: number;
  /** From the median measured step. */
  medianSamplesPerSecond: number;
  /** Best and median matmul rounds. */
  peak: number;
  medianPeak: number;
  steps: number;
}

async function measure(
  architecture: Architecture,
  seconds: number,
): Promise<Row> {
  const spec = createSpec({ architecture, steps: STEPS, columns: COLUMNS });
  const model = createModel(spec, { seed: 1 });
  const a = tf.randomNormal([512, 512], 0, 1, "float32", 1) as tf.Tensor2D;
  const b = tf.randomNormal([512, 512], 0, 1, "float32", 2) as tf.Tensor2D;
  try {
    matmulRound(a, b, 1);
    const peaks = [matmulRound(a, b, 4)];
    const data = syntheticData(BATCH * 4);
    const stepTimes: number[] = [];
    const started = performance.now();
    let last = started;
    const controller = new AbortController();
    await fit(model, data, {
      epochs: 1000,
      batchSize: BATCH,
      seed: 1,
      signal: controller.signal,
      onProgress: () => {
        const now = performance.now();
        stepTimes.push(now - last);
        // Interleave a peak round every few steps, outside the timed steps.
        if (stepTimes.length % 3 === 0) {
          peaks.push(matmulRound(a, b, 2));
        }
        const measured = stepTimes.length - WARM_UP_STEPS;
        if (measured >= 5 && now - started > seconds * 1000) controller.abort();
        last = performance.now();
      },
    }).catch((err) => {
      if (!controller.signal.aborted) throw err;
    });
    peaks.push(matmulRound(a, b, 4));
    peaks.sort((x, y) => y - x);
    const timed = stepTimes.slice(WARM_UP_STEPS).sort((x, y) => x - y);
    const median = timed[Math.floor(timed.length / 2)]!;
    return {
      architecture,
      dropout: spec.dropout,
      parameters: model.parameterCount(),
      flops: countFlops(model.graph).training,
      samplesPerSecond: BATCH / (timed[0]! / 1000),
      medianSamplesPerSecond: BATCH / (median / 1000),
      peak: peaks[0]!,
      medianPeak: peaks[Math.floor(peaks.length / 2)]!,
      steps: timed.length,
    };
  } finally {
    tf.dispose([a, b]);
    model.dispose();
  }
}

function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}

async function main(): Promise<void> {
  const backend = await initBackend(backendOption(Deno.args, "wasm"));
  const seconds = Number(option("seconds", "4")[0]);
  const wanted = option("arch", "all");
  const architectures = wanted[0] === "all"
    ? ARCHITECTURES
    : wanted.map((a) => {
      if (!ARCHITECTURES.includes(a as Architecture)) {
        throw new RangeError(`Cannot benchmark: unknown architecture "${a}"`);
      }
      return a as Architecture;
    });
  const rows: Row[] = [];
  const started = performance.now();
  for (const architecture of architectures) {
    rows.push(await measure(architecture, seconds));
  }
  const load = loadAverageText();
  const lines = [
    `Training throughput, backend ${backend.name}, batch ${BATCH}, T = ${STEPS}, 28×${
      STEPS * COLUMNS
    } inputs, synthetic data; load average ${load}; ${
      fixed((performance.now() - started) / 1000, 0)
    } s`,
    "",
    "| architecture | dropout | parameters | MFLOP/sample (train) | samples/s best (median) | GFLOP/s best (median) | matmul peak GFLOP/s best (median) | % of peak best (median) | steps | one epoch of 60,000 (median) |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const gflops = (r.flops * r.samplesPerSecond) / 1e9;
    const medianGflops = (r.flops * r.medianSamplesPerSecond) / 1e9;
    lines.push(
      `| ${r.architecture} | ${r.dropout} | ${r.parameters} | ${
        fixed(r.flops / 1e6, 2)
      } | ${fixed(r.samplesPerSecond, 0)} (${
        fixed(r.medianSamplesPerSecond, 0)
      }) | ${fixed(gflops, 2)} (${fixed(medianGflops, 2)}) | ${
        fixed(r.peak, 2)
      } (${fixed(r.medianPeak, 2)}) | ${fixed((100 * gflops) / r.peak, 0)}% (${
        fixed((100 * medianGflops) / r.medianPeak, 0)
      }%) | ${r.steps} | ${
        fixed(60000 / r.medianSamplesPerSecond / 60, 1)
      } min |`,
    );
  }
  // Scripts report on stdout (STYLE.md §3.11 allows the console in scripts/).
  // deno-lint-ignore no-console
  console.log(lines.join("\n"));
}

if (import.meta.main) await main();
