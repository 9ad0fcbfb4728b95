/**
 * Test helpers of `arch/`, `training/` and `checkpoint/`: backend set-up,
 * leak checks, seeded inputs, closeness asserts, and a plain per-step
 * replica of every architecture written straight from thesis-code §2 (no
 * batching over time, no split kernels, stock TensorFlow.js ops) to check
 * the optimised interpreter against.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import type { RnnModel } from "./rnn_model.ts";
import { createUniform } from "../_random.ts";

/** Initialises the `wasm` backend once per test process. */
export async function setUpBackend(): Promise<void> {
  await initBackend("wasm");
}

/**
 * Runs `fn` and asserts that it leaves the number of live tensors unchanged,
 * also when it throws.
 */
export async function withoutLeaks<T>(fn: () => T | Promise<T>): Promise<T> {
  await setUpBackend();
  const before = tf.memory().numTensors;
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    const after = tf.memory().numTensors;
    if (after !== before) {
      throw new Error(`leaked ${after - before} tensors while failing`, {
        cause: err,
      });
    }
    throw err;
  }
  const after = tf.memory().numTensors;
  assert.equal(after, before, `leaked ${after - before} tensors`);
  return result;
}

/** Computes a tensor in `tf.tidy`, reads it, and disposes it. */
export async function read(f: () => tf.Tensor): Promise<Float32Array> {
  const t = tf.tidy(f);
  try {
    return await t.data() as Float32Array;
  } finally {
    t.dispose();
  }
}

/** `size` values uniform in [low, high) from a seeded stream. */
export function uniformArray(
  seed: number,
  size: number,
  low = -1,
  high = 1,
): Float32Array {
  const next = createUniform(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = low + (high - low) * next();
  return out;
}

/** Asserts |a − b| ≤ atol + rtol·|b| element-wise. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-4,
  atol = 1e-5,
): void {
  assert.equal(actual.length, expected.length, "lengths differ");
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`element ${i}: ${a} differs from ${e}`);
    }
  }
}

/**
 * Scales every kernel by √2 so that random networks are not dead (thesis-code
 * §8: with the thesis initialisation some layers output only zeros, and
 * checks on them pass vacuously).
 */
export function liven(model: RnnModel, scale = Math.SQRT2): RnnModel {
  for (const [name, v] of model.parameters) {
    if (name.endsWith(".kernel")) tf.tidy(() => v.assign(tf.mul(v, scale)));
  }
  return model;
}

function param(model: RnnModel, name: string): tf.Tensor | undefined {
  return model.parameters.get(name);
}

function dense(
  model: RnnModel,
  layer: string,
  input: tf.Tensor,
  relu: boolean,
): tf.Tensor2D {
  let z: tf.Tensor = tf.matMul(
    tf.reshape(input, [input.shape[0]!, -1]) as tf.Tensor2D,
    param(model, `${layer}.kernel`) as tf.Tensor2D,
  );
  const b = param(model, `${layer}.bias`);
  if (b) z = tf.sub(z, tf.softplus(b));
  return (relu ? tf.relu(z) : z) as tf.Tensor2D;
}

function conv(model: RnnModel, layer: string, input: tf.Tensor4D): tf.Tensor4D {
  let z: tf.Tensor = tf.conv2d(
    input,
    param(model, `${layer}.kernel`) as tf.Tensor4D,
    1,
    "same",
  );
  const b = param(model, `${layer}.bias`);
  if (b) z = tf.sub(z, tf.softplus(b));
  return tf.relu(z) as tf.Tensor4D;
}

/**
 * 2 × SAME average pooling written as window sums over a zero-padded
 * reshape, divided by each window's valid count. (The stock `AvgPoolGrad`
 * of TensorFlow.js divides edge windows by 4 although the forward pass
 * divides by the valid count, so `tf.avgPool` is no reference for gradients.)
 */
export function referencePool(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const ho = Math.ceil(h / 2);
    const wo = Math.ceil(w / 2);
    const padded = tf.pad(x, [[0, 0], [0, 2 * ho - h], [0, 2 * wo - w], [
      0,
      0,
    ]]);
    const sums = tf.sum(tf.reshape(padded, [b, ho, 2, wo, 2, c]), [2, 4]);
    const counts: number[] = [];
    for (let y = 0; y < ho; y++) {
      for (let z = 0; z < wo; z++) {
        counts.push(Math.min(2, h - 2 * y) * Math.min(2, w - 2 * z));
      }
    }
    return tf.div(
      tf.mul(sums, 2),
      tf.tensor4d(counts, [1, ho, wo, 1]),
    ) as tf.Tensor4D;
  });
}

function pool(x: tf.Tensor4D): tf.Tensor4D {
  return referencePool(x);
}

/**
 * Evaluation-mode logits of `model` computed step by step with plain ops,
 * directly from the formulas of thesis-code §2. Caller owns the result.
 */
export function referenceLogits(model: RnnModel, x: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const { architecture, steps, rows, columns } = model.spec;
    const n = x.shape[0];
    const literal = architecture.startsWith("conv_plus");
    const convolutional = architecture.startsWith("conv");
    const lstm = architecture.endsWith("r_lstm");
    const units = (name: string) =>
      model.parameters.get(`${name}.kernel`)!.shape.at(-1)!;
    let state: tf.Tensor2D = tf.zeros([
      n,
      lstm ? units("lstm") / 4 : units("recur"),
    ]);
    let cell: tf.Tensor2D = tf.zeros(state.shape);
    let conv1Prev: tf.Tensor4D | undefined;
    let conv2Prev: tf.Tensor4D | undefined;
    for (let t = 0; t < steps; t++) {
      const xt = tf.squeeze(tf.slice(x, [0, t, 0], [n, 1, rows * columns]), [
        1,
      ]) as tf.Tensor2D;
      let features: tf.Tensor2D = xt;
      if (convolutional) {
        let image = tf.reshape(xt, [n, rows, columns, 1]) as tf.Tensor4D;
        if (literal) {
          image = tf.concat([
            image,
            conv1Prev ?? tf.zeros([n, rows, columns, units("conv1")]),
          ], 3);
        }
        const c1 = conv(model, "conv1", image);
        let p1 = pool(c1);
        if (literal) {
          p1 = tf.concat([
            p1,
            conv2Prev ??
              tf.zeros(
                [...p1.shape.slice(0, 3), units("conv2")] as [
                  number,
                  number,
                  number,
                  number,
                ],
              ),
          ], 3);
        }
        const c2 = conv(model, "conv2", p1);
        conv1Prev = c1;
        conv2Prev = c2;
        features = tf.reshape(pool(c2), [n, -1]);
      }
      if (architecture === "shallow") {
        const ha = dense(model, "hidden", tf.concat([xt, state], 1), true);
        state = dense(model, "recur", ha, true);
        if (t === steps - 1) return dense(model, "out", ha, false);
        continue;
      }
      let in1 = dense(model, "in1", features, true);
      if (architecture === "deep_v2") in1 = dense(model, "in2", in1, true);
      if (lstm) {
        const z = tf.add(
          tf.matMul(
            tf.concat([in1, state], 1),
            param(model, "lstm.kernel") as tf.Tensor2D,
          ),
          tf.concat([
            param(model, "lstm.gate_bias")!,
            param(model, "lstm.candidate_bias")
              ? tf.neg(tf.softplus(param(model, "lstm.candidate_bias")!))
              : tf.zeros([state.shape[1]]),
          ]),
        );
        const r = state.shape[1];
        const gate = (k: number) => tf.sigmoid(tf.slice(z, [0, k * r], [n, r]));
        const g = tf.relu(tf.slice(z, [0, 3 * r], [n, r]));
        cell = tf.add(tf.mul(gate(0), g), tf.mul(gate(1), cell)) as tf.Tensor2D;
        state = tf.mul(gate(2), cell) as tf.Tensor2D;
        if (t === steps - 1) return dense(model, "out2", state, false);
        continue;
      }
      const ha = dense(model, "hidden", tf.concat([in1, state], 1), true);
      state = dense(model, "recur", ha, true);
      if (t === steps - 1) {
        return dense(model, "out2", dense(model, "out1", ha, true), false);
      }
    }
    throw new Error("unreachable");
  });
}
