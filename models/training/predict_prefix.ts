/**
 * The running prediction of an online classification: the model's output
 * after the first t of its T steps (the head reads the state after step t).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { RnnModel } from "../arch/mod.ts";
import type { Prediction } from "./evaluate.ts";
import { withZeroLogit } from "./loss.ts";

/**
 * Predicts from a prefix of each sequence (no dropout).
 *
 * @param model the model
 * @param x inputs [count, t, rows·columns], row-major, 1 ≤ t ≤ T
 * @param count number of samples
 * @returns logits, probabilities over 11 classes (the last is the zero
 *   pseudo-logit) and predicted classes after step t
 * @throws {RangeError} if x does not hold count prefixes of the model's shape
 */
export async function predictPrefix(
  model: RnnModel,
  x: Float32Array,
  count: number,
): Promise<Prediction> {
  const { steps, rows, columns } = model.spec;
  const stepSize = rows * columns;
  if (
    !Number.isInteger(count) || count < 1 || x.length % (count * stepSize) !== 0
  ) {
    throw new RangeError(
      `Cannot predict from a prefix: ${x.length} values are not ${count} sequences of whole ${rows}×${columns} steps`,
    );
  }
  const t = x.length / (count * stepSize);
  if (t < 1 || t > steps) {
    throw new RangeError(
      `Cannot predict from a prefix: ${t} steps given, the model reads 1 to ${steps}`,
    );
  }
  const [z, p, k] = tf.tidy(() => {
    const out = model.forward(tf.tensor3d(x, [count, t, stepSize]), {
      prefix: true,
    });
    return [out, tf.softmax(withZeroLogit(out)), tf.argMax(out, 1)];
  });
  try {
    return {
      logits: await z.data() as Float32Array,
      probabilities: await p.data() as Float32Array,
      predicted: Uint8Array.from(await k.data()),
    };
  } finally {
    tf.dispose([z, p, k]);
  }
}
