/**
 * Test helpers of the gradient methods: tiny seeded models, inputs, and
 * target logits computed with a plain forward pass.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { createModel, type RnnModel } from "../../arch/rnn_model.ts";
import {
  type Architecture,
  type BiasMode,
  createSpec,
  type LayerSizes,
  NUM_CLASSES,
} from "../../arch/spec.ts";
import type { ExplainInput } from "../explanation.ts";
import { createRandom, uniform } from "../_testing.ts";

/** Small layer sizes per architecture, so that every test runs in well under a second. */
const TINY_LAYERS: Readonly<Record<Architecture, LayerSizes>> = {
  shallow: { hidden: 8, recur: 8 },
  deep: { in1: 10, hidden: 8, recur: 8, out1: 6 },
  "deep_v2": { in1: 10, in2: 8, hidden: 8, recur: 8, out1: 6 },
  "conv_deep": { conv1: 3, conv2: 4, in1: 8, hidden: 8, recur: 8, out1: 6 },
  "conv_plus_deep": {
    conv1: 3,
    conv2: 4,
    in1: 8,
    hidden: 8,
    recur: 8,
    out1: 6,
  },
  "r_lstm": { in1: 10, recur: 6 },
  "conv_r_lstm": { conv1: 3, conv2: 4, in1: 8, recur: 6 },
  "conv_plus_r_lstm": { conv1: 3, conv2: 4, in1: 8, recur: 6 },
};

/** Options of {@linkcode tinyModel}. */
export interface TinyModelOptions {
  /** @default 3 */
  steps?: number;
  /** @default 4 (28 for convolutional models) */
  rows?: number;
  /** @default 3 (7 for convolutional models) */
  columns?: number;
  /** @default "softplus" */
  bias?: BiasMode;
  /** @default 1 */
  seed?: number;
}

/** A small seeded model; caller disposes it. */
export function tinyModel(
  architecture: Architecture,
  options: TinyModelOptions = {},
): RnnModel {
  const conv = architecture.startsWith("conv");
  const spec = createSpec({
    architecture,
    steps: options.steps ?? 3,
    rows: options.rows ?? (conv ? 28 : 4),
    columns: options.columns ?? (conv ? 7 : 3),
    bias: options.bias ?? "softplus",
    layers: TINY_LAYERS[architecture],
  });
  return createModel(spec, { seed: options.seed ?? 1 });
}

/** `count` sequences with values uniform in [low, high) and labels 0, 1, 2, … */
export function randomInput(
  model: RnnModel,
  count: number,
  seed: number,
  low = -1,
  high = 1,
): ExplainInput & { labels: Uint8Array } {
  const { steps, rows, columns } = model.spec;
  const x = uniform(
    createRandom(seed),
    count * steps * rows * columns,
    low,
    high,
  );
  const labels = Uint8Array.from({ length: count }, (_, n) => n % NUM_CLASSES);
  return { x, count, labels };
}

/** Target logits logit[n, targets[n]] of `count` sequences, by a plain forward pass. */
export function targetLogits(
  model: RnnModel,
  x: Float32Array,
  count: number,
  targets: ArrayLike<number>,
): Float64Array {
  const { steps, rows, columns } = model.spec;
  // tidy returns the tensor, not its data: tidy walks every element of a
  // returned typed array looking for tensors.
  const out = tf.tidy(() =>
    model.forward(tf.tensor3d(x, [count, steps, rows * columns]))
  );
  const logits = out.dataSync();
  out.dispose();
  return Float64Array.from(
    { length: count },
    (_, n) => logits[n * NUM_CLASSES + targets[n]!]!,
  );
}

/** ∂(Σ_n logit[n, targets[n]])/∂x by `tf.grad`, [count · T · D]. */
export function plainGradient(
  model: RnnModel,
  x: Float32Array,
  count: number,
  targets: ArrayLike<number>,
): Float32Array {
  const { steps, rows, columns } = model.spec;
  const grad = tf.tidy(() => {
    const mask = tf.oneHot(
      tf.tensor1d(Array.from(targets), "int32"),
      NUM_CLASSES,
    );
    const f = (z: tf.Tensor) =>
      tf.sum(tf.mul(model.forward(z as tf.Tensor3D), mask));
    return tf.grad(f)(tf.tensor3d(x, [count, steps, rows * columns]));
  });
  const values = grad.dataSync() as Float32Array;
  grad.dispose();
  return values;
}

/**
 * Rewrites a model's weights in place: `update(name, values)` returns the new
 * values of parameter `name`.
 */
export async function mapWeights(
  model: RnnModel,
  update: (name: string, values: Float32Array) => Float32Array,
): Promise<void> {
  const weights = await model.exportWeights();
  const out: Record<string, { shape: readonly number[]; data: Float32Array }> =
    {};
  for (const [name, w] of Object.entries(weights)) {
    out[name] = {
      shape: w.shape,
      data: update(name, Float32Array.from(w.data)),
    };
  }
  model.importWeights(out);
}
