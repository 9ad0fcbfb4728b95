/**
 * The engine of the gradient methods: batched gradients of the target logits
 * with respect to the input, over "points" per sample (the input itself, the
 * points of an integration path, noisy copies), chunked to a row budget.
 *
 * One computation differentiates Σ_rows logit[row, target_row] with respect
 * to all rows at once. Rows do not interact in the network, so each row's
 * gradient is that sample's own ∂f/∂x.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { ForwardOptions, RnnModel } from "../../arch/rnn_model.ts";
import { NUM_CLASSES } from "../../arch/spec.ts";
import {
  type ExplainInput,
  resolveTargets,
  yieldIfDue,
} from "../explanation.ts";
import { DEFAULT_MAX_BATCH, type GradientOptions } from "./gradient_options.ts";
import { integerParam } from "./_validate.ts";

/** What to differentiate, per sample. */
export interface GradientPass {
  /** Points per sample. */
  readonly points: number;
  /**
   * The rows of points `first … first + count − 1` for a chunk of samples
   * `x` [s, T, D], sample-major ([s · count, T, D]). Runs inside `tf.tidy`.
   */
  readonly rows: (x: tf.Tensor3D, first: number, count: number) => tf.Tensor;
  /** Square every gradient before summing over points. */
  readonly square: boolean;
  /** ReLU and gate-gradient choices of the forward pass. */
  readonly forward?: ForwardOptions;
  /** Also return the rows' logits (only meaningful when the rows are x). */
  readonly keepLogits?: boolean;
}

/** The result of {@linkcode runGradientPass}. */
export interface PassOutput {
  /** Σ over points of the (squared) gradient, [N, T · D]. */
  readonly sums: Float32Array;
  /** [N, 10] logits of the rows when `keepLogits` and points = 1. */
  readonly logits?: Float32Array;
}

/**
 * Reads the `maxBatch` option.
 *
 * @throws {RangeError} if it is not an integer ≥ 1
 */
export function maxBatchOf(options: GradientOptions): number {
  return integerParam(
    "maxBatch",
    options.maxBatch,
    DEFAULT_MAX_BATCH,
    1,
    Number.MAX_SAFE_INTEGER,
  );
}

function chunkGradient(
  model: RnnModel,
  x: Float32Array,
  chunk: { from: number; samples: number; first: number; count: number },
  targets: Int32Array,
  pass: GradientPass,
): { sums: tf.Tensor; logits: tf.Tensor } {
  const { steps, rows, columns } = model.spec;
  const size = steps * rows * columns;
  const { from, samples, first, count } = chunk;
  return tf.tidy(() => {
    const xs = tf.tensor3d(
      x.subarray(from * size, (from + samples) * size),
      [samples, steps, rows * columns],
    );
    const inputs = pass.rows(xs, first, count);
    const labels = new Int32Array(samples * count);
    for (let s = 0; s < samples; s++) {
      labels.fill(targets[from + s]!, s * count, (s + 1) * count);
    }
    const dy = tf.cast(
      tf.oneHot(tf.tensor1d(labels, "int32"), NUM_CLASSES),
      "float32",
    );
    const forward = (z: tf.Tensor): tf.Tensor =>
      model.forward(z as tf.Tensor3D, pass.forward);
    // dy = one-hot(targets) makes the backward pass start from
    // Σ_rows logit[row, target_row].
    const { value, grad } = tf.valueAndGrad(forward)(inputs, dy);
    const g = pass.square ? tf.square(grad) : grad;
    const sums = count === 1
      ? tf.reshape(g, [samples, size])
      : tf.sum(tf.reshape(g, [samples, count, size]), 1);
    return { sums, logits: value };
  });
}

/**
 * Sums each sample's (squared) gradients over the pass's points, in chunks of
 * at most `maxBatch` rows, checking `signal` and yielding between chunks.
 *
 * @param targets the explained class of every sample
 * @returns the sums; tensors never escape
 */
export async function runGradientPass(
  model: RnnModel,
  input: ExplainInput,
  targets: Int32Array,
  pass: GradientPass,
  options: GradientOptions,
): Promise<PassOutput> {
  const { steps, rows, columns } = model.spec;
  const size = steps * rows * columns;
  const maxBatch = maxBatchOf(options);
  const perPass = Math.min(pass.points, maxBatch);
  const samplesPerPass = Math.max(1, Math.floor(maxBatch / perPass));
  const sums = new Float32Array(input.count * size);
  const logits = pass.keepLogits
    ? new Float32Array(input.count * NUM_CLASSES)
    : undefined;
  let last = performance.now();
  for (let from = 0; from < input.count; from += samplesPerPass) {
    const samples = Math.min(samplesPerPass, input.count - from);
    for (let first = 0; first < pass.points; first += perPass) {
      const count = Math.min(perPass, pass.points - first);
      const chunk = { from, samples, first, count };
      const out = chunkGradient(model, input.x, chunk, targets, pass);
      try {
        const part = await out.sums.data() as Float32Array;
        const offset = from * size;
        for (let i = 0; i < part.length; i++) sums[offset + i]! += part[i]!;
        if (logits !== undefined && count === 1) {
          logits.set(
            await out.logits.data() as Float32Array,
            from * NUM_CLASSES,
          );
        }
      } finally {
        tf.dispose(out);
      }
      last = await yieldIfDue(last, options);
    }
  }
  return logits === undefined ? { sums } : { sums, logits };
}

/**
 * Logits of `count` sequences, in chunks of at most `maxBatch`.
 *
 * @param x [count, T, D]
 * @returns [count, 10]
 */
export async function forwardLogits(
  model: RnnModel,
  x: Float32Array,
  count: number,
  options: GradientOptions,
): Promise<Float32Array> {
  const { steps, rows, columns } = model.spec;
  const size = steps * rows * columns;
  const maxBatch = maxBatchOf(options);
  const out = new Float32Array(count * NUM_CLASSES);
  let last = performance.now();
  for (let from = 0; from < count; from += maxBatch) {
    const samples = Math.min(maxBatch, count - from);
    const logits = tf.tidy(() =>
      model.forward(
        tf.tensor3d(
          x.subarray(from * size, (from + samples) * size),
          [samples, steps, rows * columns],
        ),
      )
    );
    try {
      out.set(await logits.data() as Float32Array, from * NUM_CLASSES);
    } finally {
      logits.dispose();
    }
    last = await yieldIfDue(last, options);
  }
  return out;
}

/** The gradient (or its square) at the input itself, with logits and targets. */
export interface InputGradient {
  /** [N, T · D]. */
  readonly gradient: Float32Array;
  /** [N, 10]. */
  readonly logits: Float32Array;
  /** [N]. */
  readonly targets: Int32Array;
}

/**
 * Resolves targets that do not depend on the logits (true label, explicit
 * class) before any tensor work, so bad targets fail fast.
 *
 * @returns the targets, or `undefined` for the predicted class
 * @throws {PreconditionError} for the true-label target without labels
 * @throws {OutOfRangeError} for a class past the last class
 */
export function targetsWithoutLogits(
  input: ExplainInput,
  options: GradientOptions,
): Int32Array | undefined {
  const target = options.target ?? { kind: "true_label" };
  if (target.kind === "predicted") return undefined;
  // Only the predicted target reads the logits: pass none.
  return resolveTargets(
    new Float32Array(0),
    input.count,
    target,
    input.labels,
  );
}

/**
 * Logits at x and the targets: resolved before the forward pass where they
 * do not depend on it.
 */
export async function logitsAndTargets(
  model: RnnModel,
  input: ExplainInput,
  options: GradientOptions,
): Promise<{ logits: Float32Array; targets: Int32Array }> {
  const early = targetsWithoutLogits(input, options);
  const logits = await forwardLogits(model, input.x, input.count, options);
  const targets = early ??
    resolveTargets(logits, input.count, { kind: "predicted" });
  return { logits, targets };
}

/**
 * Resolves the targets and differentiates the target logits at x. For the
 * true-label and explicit-class targets this is one pass that also yields
 * the logits; the predicted class needs a forward pass first.
 *
 * @throws {PreconditionError} for the true-label target without labels
 * @throws {OutOfRangeError} for a class past the last class
 */
export async function gradientAtInput(
  model: RnnModel,
  input: ExplainInput,
  options: GradientOptions,
  pass: { square: boolean; forward?: ForwardOptions },
): Promise<InputGradient> {
  const early = targetsWithoutLogits(input, options);
  const predicted = early === undefined
    ? await logitsAndTargets(model, input, options)
    : undefined;
  const targets = early ?? predicted!.targets;
  const out = await runGradientPass(model, input, targets, {
    ...pass,
    points: 1,
    rows: (x) => x,
    keepLogits: predicted === undefined,
  }, options);
  return {
    gradient: out.sums,
    logits: predicted?.logits ?? out.logits!,
    targets,
  };
}
