/**
 * The training loop: Adam, shuffled mini-batches, one `tidy` per step,
 * cancellation and progress between steps.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { RnnModel } from "../arch/rnn_model.ts";
import { deriveSeed, Random } from "../data/mod.ts";
import {
  checkTrainingData,
  gatherBatch,
  type TrainingData,
} from "./training_data.ts";
import { countCorrect, zeroLogitCrossEntropy } from "./loss.ts";
import { evaluate, type Evaluation } from "./evaluate.ts";
import { openEventLoopYielder } from "./_event_loop.ts";

/** Reported after every step. */
export interface FitProgress {
  /** Epoch index, from 0. */
  epoch: number;
  /** Step index within the epoch, from 0. */
  step: number;
  stepsPerEpoch: number;
  /** This step's mean loss. */
  loss: number;
  /** This step's batch accuracy (with dropout active). */
  accuracy: number;
  /** Training throughput of this `fit` call so far. */
  samplesPerSecond: number;
  /** Estimated seconds until the last epoch ends. */
  etaSeconds: number;
}

/** Reported after every epoch. */
export interface EpochSummary {
  epoch: number;
  /** Mean step loss over the epoch. */
  loss: number;
  /** Training accuracy over the epoch (with dropout active). */
  accuracy: number;
  /** Held-out results, when validation data was given. */
  validation?: Evaluation;
  /** Wall time of the epoch, including validation. */
  seconds: number;
}

/** Options of {@linkcode fit}. */
export interface FitOptions {
  /**
   * Total number of epochs (training stops after epoch `epochs − 1`).
   * @default 1
   */
  epochs?: number;
  /** @default 50 */
  batchSize?: number;
  /** Adam's learning rate (β and ε are tf.train.adam's defaults). @default 0.0002 */
  learningRate?: number;
  /**
   * Seed of shuffling, subset choice and dropout, an integer in
   * [0, 2^32 − 1].
   * @default 0
   */
  seed?: number;
  /** Checked before every step; aborting rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called after every step. */
  onProgress?: (progress: FitProgress) => void;
  /** Evaluated after every epoch. */
  validation?: TrainingData;
  /** Train on a fixed, seeded random subset of at most this many samples. */
  maxSamples?: number;
  /**
   * First epoch to run (to resume): epochs before it are skipped but keep
   * their shuffles, so epoch e sees the same order as in an uninterrupted
   * run. Adam's moments start fresh.
   * @default 0
   */
  startEpoch?: number;
  /** Called (and awaited) after every epoch. */
  onEpochEnd?: (summary: EpochSummary) => void | Promise<void>;
}

/** What {@linkcode fit} returns. */
export interface FitResult {
  epochs: EpochSummary[];
  /** Steps run by this call. */
  steps: number;
  /** Samples trained on per epoch. */
  samplesPerEpoch: number;
  seconds: number;
}

/** Seed streams of {@linkcode fit}, one per use. */
const SUBSET_STREAM = 0;
const EPOCH_STREAM = 1;
const DROPOUT_STREAM = 2;

function positiveInt(value: number, name: string, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Cannot fit: ${name} must be an integer ≥ ${min}: got ${value}`,
    );
  }
  return value;
}

function trainingOrder(
  count: number,
  seed: number,
  maxSamples: number | undefined,
): Uint32Array {
  if (maxSamples === undefined || maxSamples >= count) {
    return Uint32Array.from({ length: count }, (_, i) => i);
  }
  return new Random(deriveSeed(seed, SUBSET_STREAM)).permutation(count)
    .slice(0, maxSamples).sort();
}

/**
 * Trains a model in place with Adam on the thesis's loss (11-way softmax
 * with the zero logit), reshuffling with a seeded permutation every epoch.
 * Same seed, same data and same backend give bit-identical weights.
 *
 * @param model the model; its variables are updated
 * @param data the training samples
 * @param options epochs, batch size, learning rate, seed, callbacks
 * @returns per-epoch summaries
 * @throws {TypeError|RangeError} if the data or options are invalid
 * @throws the signal's reason when aborted (the model keeps the weights of the last finished step)
 */
export async function fit(
  model: RnnModel,
  data: TrainingData,
  options: FitOptions = {},
): Promise<FitResult> {
  checkTrainingData(data, model.spec);
  if (options.validation) {
    checkTrainingData(options.validation, model.spec, "validation data");
  }
  const epochs = positiveInt(options.epochs ?? 1, "epochs");
  const batchSize = positiveInt(options.batchSize ?? 50, "batchSize");
  const startEpoch = positiveInt(options.startEpoch ?? 0, "startEpoch", 0);
  if (options.maxSamples !== undefined) {
    positiveInt(options.maxSamples, "maxSamples");
  }
  const learningRate = options.learningRate ?? 0.0002;
  if (!(learningRate > 0 && Number.isFinite(learningRate))) {
    throw new RangeError(
      `Cannot fit: learningRate must be a positive number: got ${learningRate}`,
    );
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(
      `Cannot fit: seed must be an integer in [0, 2^32 − 1]: got ${seed}`,
    );
  }
  const dropoutSeed = deriveSeed(seed, DROPOUT_STREAM);
  const subset = trainingOrder(data.count, seed, options.maxSamples);
  const stepsPerEpoch = Math.ceil(subset.length / batchSize);
  const totalSamples = Math.max(0, epochs - startEpoch) * subset.length;
  const optimizer = tf.train.adam(learningRate);
  const variables = [...model.parameters.values()];
  const { steps, rows, columns } = model.spec;
  const loop = openEventLoopYielder();
  const summaries: EpochSummary[] = [];
  const started = performance.now();
  let done = 0;
  let samples = 0;
  try {
    for (let epoch = startEpoch; epoch < epochs; epoch++) {
      const epochStart = performance.now();
      const order = new Random(
        deriveSeed(deriveSeed(seed, EPOCH_STREAM), epoch),
      )
        .permutation(subset.length);
      let lossSum = 0;
      let correctSum = 0;
      for (let step = 0; step < stepsPerEpoch; step++) {
        options.signal?.throwIfAborted();
        const picks = order.subarray(step * batchSize, (step + 1) * batchSize)
          .map((k) => subset[k]!);
        const batch = gatherBatch(data, picks);
        const n = picks.length;
        const stats = tf.tidy(() => {
          const x = tf.tensor3d(batch.x, [n, steps, rows * columns]);
          const labels = tf.tensor1d(batch.labels, "int32");
          let correct: tf.Scalar | undefined;
          const loss = optimizer.minimize(
            () => {
              const logits = model.forward(x, {
                training: true,
                seed: deriveSeed(deriveSeed(dropoutSeed, epoch), step),
                inputGradient: false,
              });
              correct = tf.keep(countCorrect(logits, labels));
              return zeroLogitCrossEntropy(logits, labels);
            },
            true,
            variables,
          )!;
          const out = tf.stack([loss, correct!]);
          correct!.dispose();
          return out;
        });
        let loss: number;
        let correct: number;
        try {
          [loss, correct] = await stats.data() as unknown as [number, number];
        } finally {
          stats.dispose();
        }
        lossSum += loss * n;
        correctSum += correct;
        done++;
        samples += n;
        const seconds = (performance.now() - started) / 1000;
        const samplesPerSecond = samples / Math.max(seconds, 1e-9);
        options.onProgress?.({
          epoch,
          step,
          stepsPerEpoch,
          loss,
          accuracy: correct / n,
          samplesPerSecond,
          etaSeconds: (totalSamples - samples) / samplesPerSecond,
        });
        await loop.yield();
      }
      const summary: EpochSummary = {
        epoch,
        loss: lossSum / subset.length,
        accuracy: correctSum / subset.length,
        seconds: 0,
      };
      if (options.validation) {
        summary.validation = await evaluate(
          model,
          options.validation,
          options.signal ? { signal: options.signal } : {},
        );
      }
      summary.seconds = (performance.now() - epochStart) / 1000;
      summaries.push(summary);
      await options.onEpochEnd?.(summary);
    }
  } finally {
    loop.close();
    optimizer.dispose();
  }
  return {
    epochs: summaries,
    steps: done,
    samplesPerEpoch: subset.length,
    seconds: (performance.now() - started) / 1000,
  };
}
