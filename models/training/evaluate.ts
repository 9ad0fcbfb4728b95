/**
 * Evaluation and prediction in batches, returning plain numbers and arrays.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { RnnModel } from "../arch/rnn_model.ts";
import {
  checkTrainingData,
  gatherBatch,
  type TrainingData,
} from "./training_data.ts";
import {
  countCorrect,
  withZeroLogit,
  zeroLogitCrossEntropySum,
} from "./loss.ts";

/** Options of {@linkcode evaluate} and {@linkcode predict}. */
export interface EvaluateOptions {
  /**
   * Samples per forward pass.
   * @default 500
   */
  batchSize?: number;
  /** Checked between batches. */
  signal?: AbortSignal;
}

/** What {@linkcode evaluate} returns. */
export interface Evaluation {
  /** Mean cross-entropy over 11 classes (10 logits plus the zero logit). */
  loss: number;
  /** Fraction of samples whose argmax over the 10 logits is the label. */
  accuracy: number;
  /** Number of samples evaluated. */
  count: number;
}

/** What {@linkcode predict} returns. */
export interface Prediction {
  /** [count, 10] logits, row-major. */
  logits: Float32Array;
  /**
   * [count, 11] softmax over the 10 logits and the constant zero logit
   * (column 10, the "pseudo class"), row-major; rows sum to 1.
   */
  probabilities: Float32Array;
  /** Argmax over the 10 real logits. */
  predicted: Uint8Array;
}

function batchSizeOf(options: EvaluateOptions): number {
  const size = options.batchSize ?? 500;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(
      `Cannot evaluate: batchSize must be a positive integer: got ${size}`,
    );
  }
  return size;
}

function range(start: number, end: number): Uint32Array {
  const out = new Uint32Array(end - start);
  for (let i = 0; i < out.length; i++) out[i] = start + i;
  return out;
}

function input(model: RnnModel, x: Float32Array, n: number): tf.Tensor3D {
  const { steps, rows, columns } = model.spec;
  return tf.tensor3d(x, [n, steps, rows * columns]);
}

/**
 * Evaluates a model (no dropout) on labelled samples.
 *
 * @param model the model
 * @param data the samples
 * @param options batch size and cancellation
 * @returns mean loss and accuracy
 * @throws {TypeError|RangeError} if the data does not fit the model
 * @throws the signal's reason when aborted
 */
export async function evaluate(
  model: RnnModel,
  data: TrainingData,
  options: EvaluateOptions = {},
): Promise<Evaluation> {
  checkTrainingData(data, model.spec);
  const size = batchSizeOf(options);
  let loss = 0;
  let correct = 0;
  for (let start = 0; start < data.count; start += size) {
    options.signal?.throwIfAborted();
    const n = Math.min(size, data.count - start);
    const batch = gatherBatch(data, range(start, start + n));
    const stats = tf.tidy(() => {
      const labels = tf.tensor1d(batch.labels, "int32");
      const logits = model.forward(input(model, batch.x, n));
      return tf.stack([
        zeroLogitCrossEntropySum(logits, labels),
        countCorrect(logits, labels),
      ]);
    });
    try {
      const [l, c] = await stats.data();
      loss += l!;
      correct += c!;
    } finally {
      stats.dispose();
    }
  }
  return {
    loss: loss / data.count,
    accuracy: correct / data.count,
    count: data.count,
  };
}

/**
 * Predicts classes of unlabelled samples (no dropout).
 *
 * @param model the model
 * @param x inputs [count, T, rows·columns], row-major
 * @param count number of samples
 * @param options batch size and cancellation
 * @returns logits, probabilities over 11 classes and predicted classes
 * @throws {RangeError} if x does not hold count samples of the model's shape
 * @throws the signal's reason when aborted
 */
export async function predict(
  model: RnnModel,
  x: Float32Array,
  count: number,
  options: EvaluateOptions = {},
): Promise<Prediction> {
  checkTrainingData(
    { x, labels: new Uint8Array(count), count },
    model.spec,
    "inputs",
  );
  const size = batchSizeOf(options);
  const perSample = x.length / count;
  const logits = new Float32Array(count * 10);
  const probabilities = new Float32Array(count * 11);
  const predicted = new Uint8Array(count);
  for (let start = 0; start < count; start += size) {
    options.signal?.throwIfAborted();
    const n = Math.min(size, count - start);
    const [z, p, k] = tf.tidy(() => {
      const out = model.forward(
        input(model, x.subarray(start * perSample, (start + n) * perSample), n),
      );
      return [out, tf.softmax(withZeroLogit(out)), tf.argMax(out, 1)];
    });
    try {
      logits.set(await z.data() as Float32Array, start * 10);
      probabilities.set(await p.data() as Float32Array, start * 11);
      predicted.set(await k.data(), start);
    } finally {
      tf.dispose([z, p, k]);
    }
  }
  return { logits, probabilities, predicted };
}
