/**
 * Test helpers of `explain/`: seeded data, leak checks, closeness asserts.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";

/** A seeded uniform generator on [0, 1) (mulberry32). */
export { createUniform as createRandom } from "../_random.ts";

/** `size` float32 values drawn uniformly from [low, high). */
export function uniform(
  random: () => number,
  size: number,
  low: number,
  high: number,
): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = low + (high - low) * random();
  return out;
}

/** `size` float32 values from a standard normal (Box–Muller). */
export function normal(random: () => number, size: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const u = 1 - random();
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  }
  return out;
}

/**
 * Runs `body` and asserts that `tf.memory().numTensors` is the same
 * afterwards, also when `body` throws (the error is rethrown).
 */
export async function assertNoLeak(body: () => unknown): Promise<void> {
  const before = tf.memory().numTensors;
  try {
    await body();
  } finally {
    assert.equal(tf.memory().numTensors, before, "tensors leaked");
  }
}

/**
 * Asserts `|actual_i − expected_i| ≤ rtol · max(|expected_i|, 1e-2 · max|expected|)`:
 * relative for every entry above 1% of the largest, and an absolute floor of
 * `rtol` percent of the largest below that (cancellation leaves those
 * entries with float32 rounding of the larger terms).
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  label: string,
): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i] as number));
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    const tol = rtol * Math.max(Math.abs(e), 1e-2 * scale);
    assert.ok(
      Math.abs(a - e) <= tol,
      `${label}[${i}]: got ${a}, expected ${e} (tolerance ${tol})`,
    );
  }
}

/** Reads a tensor into a Float64Array (the tensor is not disposed). */
export async function values(t: tf.Tensor): Promise<Float64Array> {
  return Float64Array.from(await t.data() as Float32Array);
}
