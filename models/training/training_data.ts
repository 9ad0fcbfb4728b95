/**
 * The arrays a model trains on, and how batches are cut from them.
 *
 * @module
 */
import type { ModelSpec } from "../arch/spec.ts";

/**
 * Samples as plain arrays (the data contract of `models/data`): inputs shaped
 * [count, T, rows·columns], row-major; labels are classes 0–9.
 */
export interface TrainingData {
  /** Inputs, count·T·rows·columns values in [−1, 1]. */
  x: Float32Array;
  /** One class per sample. */
  labels: Uint8Array;
  /** Number of samples. */
  count: number;
}

/**
 * Checks that data fits a spec.
 *
 * @param data the samples
 * @param spec the model's spec
 * @param what names the data in error messages
 * @throws {TypeError} if the arrays have the wrong types
 * @throws {RangeError} if sizes disagree or a label is not in 0–9
 */
export function checkTrainingData(
  data: TrainingData,
  spec: ModelSpec,
  what = "data",
): void {
  if (
    !(data.x instanceof Float32Array) || !(data.labels instanceof Uint8Array)
  ) {
    throw new TypeError(
      `Cannot use ${what}: x must be a Float32Array and labels a Uint8Array`,
    );
  }
  if (!Number.isInteger(data.count) || data.count < 1) {
    throw new RangeError(
      `Cannot use ${what}: count must be a positive integer: got ${data.count}`,
    );
  }
  const perSample = spec.steps * spec.rows * spec.columns;
  if (data.x.length !== data.count * perSample) {
    throw new RangeError(
      `Cannot use ${what}: x has ${data.x.length} values, expected ${data.count} × ${spec.steps} × ${
        spec.rows * spec.columns
      } = ${data.count * perSample}`,
    );
  }
  if (data.labels.length !== data.count) {
    throw new RangeError(
      `Cannot use ${what}: labels has ${data.labels.length} entries, expected ${data.count}`,
    );
  }
  const bad = data.labels.findIndex((l) => l > 9);
  if (bad >= 0) {
    throw new RangeError(
      `Cannot use ${what}: labels[${bad}] is ${data.labels[bad]}, expected 0–9`,
    );
  }
}

/**
 * Copies the samples at `indices` into one contiguous batch.
 *
 * @param data the samples
 * @param indices which samples, in batch order
 * @returns inputs [indices.length · perSample] and labels as int32
 */
export function gatherBatch(
  data: TrainingData,
  indices: ArrayLike<number>,
): { x: Float32Array; labels: Int32Array } {
  const perSample = data.x.length / data.count;
  const x = new Float32Array(indices.length * perSample);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    x.set(data.x.subarray(i * perSample, (i + 1) * perSample), k * perSample);
    labels[k] = data.labels[i]!;
  }
  return { x, labels };
}
