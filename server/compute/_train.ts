/**
 * The `train` task inside a worker: build the problem, create (or restore)
 * the model, run `models/` fit with the task's signal, and hand out a
 * checkpoint after every epoch so that an interrupted job can resume.
 *
 * @module
 */
import {
  type CheckpointInfo,
  createModel,
  createSpec,
  decodeSafetensors,
  encodeCheckpoint,
  type EpochSummary,
  fit,
  type ModelSpec,
  type RnnModel,
} from "../../models/mod.ts";
import { DataLossError } from "../errors.ts";
import { owned, type TaskContext } from "./_context.ts";
import type {
  TrainConfig,
  TrainMetrics,
  TrainResult,
  TrainTask,
} from "./protocol.ts";

function checkConfig(config: TrainConfig, startEpoch: number): void {
  if (typeof config !== "object" || config === null) {
    throw new TypeError("Cannot train: config must be an object");
  }
  if (!Number.isInteger(config.epochs) || config.epochs < 1) {
    throw new RangeError(
      `Cannot train: epochs must be an integer ≥ 1: got ${config.epochs}`,
    );
  }
  if (
    !Number.isInteger(startEpoch) || startEpoch < 0 ||
    startEpoch >= config.epochs
  ) {
    throw new RangeError(
      `Cannot train: startEpoch must be an integer from 0 to ${
        config.epochs - 1
      }: got ${startEpoch}`,
    );
  }
  if (!Number.isInteger(config.seed) || config.seed < 0) {
    throw new RangeError(
      `Cannot train: seed must be an integer ≥ 0: got ${config.seed}`,
    );
  }
}

function initialModel(spec: ModelSpec, task: TrainTask): RnnModel {
  if (task.initialWeights === undefined) {
    return createModel(spec, { seed: task.config.seed });
  }
  const { tensors } = decodeSafetensors(task.initialWeights);
  try {
    return createModel(spec, { weights: tensors });
  } catch (err) {
    throw new DataLossError(
      `Cannot resume training: the initial weights do not fit the spec: ${
        (err as Error).message
      }`,
      { cause: err },
    );
  }
}

function checkpointInfo(
  config: TrainConfig,
  spec: ModelSpec,
  metrics: Record<string, number>,
): CheckpointInfo {
  const { split } = config.data;
  return {
    dataset: config.data.dataset,
    problem: config.data.problem,
    fold: split.kind === "fold"
      ? { index: split.fold, folds: split.folds }
      : null,
    seed: config.seed,
    training: {
      optimizer: "adam",
      epochs: config.epochs,
      batchSize: config.batchSize ?? 50,
      learningRate: config.learningRate ?? 0.0002,
      keepProb: spec.keepProb,
      ...(config.maxSamples === undefined
        ? {}
        : { maxSamples: config.maxSamples }),
    },
    // Manifests hold finite numbers only (a diverged loss is left out).
    metrics: Object.fromEntries(
      Object.entries(metrics).filter(([, v]) => Number.isFinite(v)),
    ),
  };
}

function epochMetrics(
  summary: EpochSummary,
  trainSamples: number,
): TrainMetrics {
  return {
    trainLoss: summary.loss,
    trainAccuracy: summary.accuracy,
    heldoutLoss: summary.validation?.loss ?? NaN,
    heldoutAccuracy: summary.validation?.accuracy ?? NaN,
    trainSamples,
    heldoutSamples: summary.validation?.count ?? 0,
    epochsCompleted: summary.epoch + 1,
  };
}

/**
 * Trains a model. Posts a `progress` event after every optimiser step and an
 * `epoch` event (summary, weights bytes, manifest) after every epoch.
 *
 * @param task spec, configuration, and optionally where to resume from
 * @param context signal, event sink and caches
 * @returns the final weights, manifest and metrics
 * @throws {RangeError|TypeError} for an invalid spec or configuration, or a
 *   problem whose images the spec's T does not fit
 * @throws {DataLossError} if the initial weights are corrupt or do not fit
 * @throws the signal's reason when cancelled
 */
export async function runTrain(
  task: TrainTask,
  context: TaskContext,
): Promise<TrainResult> {
  const startEpoch = task.startEpoch ?? 0;
  checkConfig(task.config, startEpoch);
  const spec = createSpec(task.spec);
  const { config } = task;
  const problem = await context.problems.get(config.data, spec.steps);
  if (problem.height !== spec.rows || problem.columns !== spec.columns) {
    throw new RangeError(
      `Cannot train: the samples have ${problem.height} rows and ${problem.columns} columns per step, the spec expects ${spec.rows} and ${spec.columns}`,
    );
  }
  const model = initialModel(spec, task);
  try {
    const trainSamples = Math.min(
      config.maxSamples ?? problem.train.count,
      problem.train.count,
    );
    const result = await fit(model, problem.train, {
      epochs: config.epochs,
      seed: config.seed,
      startEpoch,
      validation: problem.test,
      signal: context.signal,
      ...(config.batchSize === undefined
        ? {}
        : { batchSize: config.batchSize }),
      ...(config.learningRate === undefined
        ? {}
        : { learningRate: config.learningRate }),
      ...(config.maxSamples === undefined
        ? {}
        : { maxSamples: config.maxSamples }),
      onProgress: (progress) => {
        // fit() checks the signal before the next step.
        context.pollCancel();
        context.emit({ kind: "progress", progress });
      },
      onEpochEnd: async (summary) => {
        const metrics = epochMetrics(summary, trainSamples);
        const { weights, manifest } = await encodeCheckpoint(
          model,
          checkpointInfo(config, spec, { ...metrics }),
        );
        const bytes = owned(weights);
        context.emit({ kind: "epoch", summary, weights: bytes, manifest }, [
          bytes.buffer,
        ]);
      },
    });
    const last = result.epochs.at(-1)!;
    const metrics = epochMetrics(last, trainSamples);
    const { weights, manifest } = await encodeCheckpoint(
      model,
      checkpointInfo(config, spec, { ...metrics }),
    );
    return { weights, manifest, metrics, epochs: result.epochs };
  } finally {
    model.dispose();
  }
}
