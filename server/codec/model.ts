/**
 * Models and training on the wire: ModelSpec and TrainingConfig → domain
 * specs and the pool's training configuration (validated with `models/`
 * `createSpec`), and stored records → ModelInfo, TrainingJob and
 * TrainingProgress.
 *
 * @module
 */
import {
  createSpec,
  type LayerSizes as DomainLayerSizes,
  type ModelSpec as DomainSpec,
  type ModelSpecInit,
} from "../../models/mod.ts";
import type { DataSourceRef, TrainConfig } from "../compute/mod.ts";
import { Code, RpcError } from "../errors.ts";
import type {
  JobRecord,
  ModelRecord,
  TrainingProgress as DomainProgress,
} from "../storage/mod.ts";
import {
  type DataSource,
  type DataSplit,
  type LayerSizes,
  ModelInfo,
  type ModelSpec,
  type TrainingConfig,
} from "../../proto/gen/rnnexplain/v1/types.ts";
import {
  TrainingJob,
  TrainingProgress,
} from "../../proto/gen/rnnexplain/v1/training_service.ts";
import {
  ARCHITECTURE,
  BIAS,
  DATASET,
  decodeEnum,
  decodeOptionalEnum,
  DROPOUT,
  encodeEnum,
  JOB_STATE,
  PROBLEM,
} from "./enums.ts";
import { decodeDataSource } from "./inputs.ts";

function invalid(field: string, reason: string, cause?: unknown): RpcError {
  return new RpcError(
    Code.INVALID_ARGUMENT,
    `Cannot read ${field}: ${reason}`,
    { field, cause },
  );
}

const LAYER_FIELDS = [
  ["in1", "in1"],
  ["in2", "in2"],
  ["hidden", "hidden"],
  ["recur", "recur"],
  ["out1", "out1"],
  ["conv1Filters", "conv1"],
  ["conv2Filters", "conv2"],
] as const;

/**
 * Decodes and validates a model spec; defaults are filled in.
 *
 * @param spec the wire spec (undefined when unset)
 * @param field the request field path
 * @returns the frozen domain spec
 * @throws {RpcError} INVALID_ARGUMENT for a missing spec, an unset or unknown enum, or values `createSpec` refuses
 */
export function decodeModelSpec(
  spec: ModelSpec | undefined,
  field: string,
): DomainSpec {
  if (spec === undefined) throw invalid(field, "a model spec is required");
  const init: ModelSpecInit = {
    architecture: decodeEnum(
      ARCHITECTURE,
      spec.architecture,
      `${field}.architecture`,
    ),
    steps: spec.steps,
    columns: spec.columns,
  };
  if (spec.rows !== undefined) init.rows = spec.rows;
  const dropout = decodeOptionalEnum(
    DROPOUT,
    spec.dropout,
    `${field}.dropout`,
    undefined,
  );
  if (dropout !== undefined) init.dropout = dropout;
  if (spec.keepProb !== undefined) init.keepProb = spec.keepProb;
  const bias = decodeOptionalEnum(BIAS, spec.bias, `${field}.bias`, undefined);
  if (bias !== undefined) init.bias = bias;
  if (spec.layerSizes !== undefined) {
    const layers: DomainLayerSizes = {};
    for (const [wire, domain] of LAYER_FIELDS) {
      const value = spec.layerSizes[wire];
      if (value !== undefined) layers[domain] = value;
    }
    init.layers = layers;
  }
  try {
    return createSpec(init);
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError) {
      throw invalid(field, err.message, err);
    }
    throw err;
  }
}

/** Image width of each problem's samples. */
const PROBLEM_WIDTH = { sequence: 28, majority: 84 } as const;
/** Image rows of every dataset. */
const IMAGE_ROWS = 28;

/**
 * Decodes a training configuration and checks that the spec fits its data.
 *
 * @param config the wire configuration (undefined when unset)
 * @param spec the decoded spec it trains
 * @param field the request field path
 * @returns the pool's training configuration
 * @throws {RpcError} INVALID_ARGUMENT for a missing or out-of-range value, or a spec whose rows or T × c do not match the problem's images
 */
export function decodeTrainingConfig(
  config: TrainingConfig | undefined,
  spec: DomainSpec,
  field: string,
): TrainConfig {
  if (config === undefined) {
    throw invalid(field, "a training configuration is required");
  }
  const data = decodeDataSource(config.data, `${field}.data`);
  if (config.epochs < 1) {
    throw invalid(`${field}.epochs`, `must be ≥ 1: got ${config.epochs}`);
  }
  if (config.batchSize !== undefined && config.batchSize < 1) {
    throw invalid(
      `${field}.batch_size`,
      `must be ≥ 1: got ${config.batchSize}`,
    );
  }
  const lr = config.learningRate;
  if (lr !== undefined && !(lr > 0 && Number.isFinite(lr))) {
    throw invalid(`${field}.learning_rate`, `must be above 0: got ${lr}`);
  }
  if (config.maxTrainSamples !== undefined && config.maxTrainSamples < 1) {
    throw invalid(
      `${field}.max_train_samples`,
      `must be ≥ 1: got ${config.maxTrainSamples}`,
    );
  }
  const width = PROBLEM_WIDTH[data.problem];
  if (spec.rows !== IMAGE_ROWS || spec.steps * spec.columns !== width) {
    throw invalid(
      "spec",
      `the ${data.problem} problem has ${IMAGE_ROWS} × ${width} images, the spec reads ${spec.rows} × ${spec.steps}·${spec.columns}`,
    );
  }
  return {
    data,
    epochs: config.epochs,
    seed: config.seed,
    ...(config.batchSize === undefined ? {} : { batchSize: config.batchSize }),
    ...(lr === undefined ? {} : { learningRate: lr }),
    ...(config.maxTrainSamples === undefined
      ? {}
      : { maxSamples: config.maxTrainSamples }),
  };
}

/**
 * A domain spec for the wire, every default filled in.
 *
 * @param spec the validated spec
 * @returns the wire spec
 */
export function encodeModelSpec(spec: DomainSpec): ModelSpec {
  const layerSizes: LayerSizes = {};
  for (const [wire, domain] of LAYER_FIELDS) {
    const value = spec.layers[domain];
    if (value !== undefined) layerSizes[wire] = value;
  }
  return {
    architecture: encodeEnum(ARCHITECTURE, spec.architecture),
    steps: spec.steps,
    columns: spec.columns,
    rows: spec.rows,
    dropout: encodeEnum(DROPOUT, spec.dropout),
    keepProb: spec.keepProb,
    bias: encodeEnum(BIAS, spec.bias),
    layerSizes,
  };
}

function encodeDataSource(data: DataSourceRef): DataSource {
  const split: DataSplit = data.split.kind === "fold"
    ? {
      kind: {
        $case: "crossValidation",
        crossValidation: { folds: data.split.folds, fold: data.split.fold },
      },
    }
    : { kind: { $case: "standard", standard: {} } };
  return {
    dataset: encodeEnum(DATASET, data.dataset),
    problem: encodeEnum(PROBLEM, data.problem),
    split,
    seed: data.seed,
  };
}

/**
 * A pool training configuration for the wire, every default filled in.
 *
 * @param config the configuration
 * @returns the wire configuration
 */
export function encodeTrainConfig(config: TrainConfig): TrainingConfig {
  return {
    data: encodeDataSource(config.data),
    epochs: config.epochs,
    batchSize: config.batchSize ?? 50,
    learningRate: config.learningRate ?? 0.0002,
    seed: config.seed,
    ...(config.maxSamples === undefined
      ? {}
      : { maxTrainSamples: config.maxSamples }),
  };
}

/**
 * The data source a stored model was trained on. Manifests record one seed,
 * the training seed; the data seed of a job-trained model is the job's (see
 * {@linkcode encodeModelInfo}'s `job`), else the manifest's seed stands in.
 *
 * @param record the stored model
 * @returns the pool's data source reference
 */
export function modelDataSource(
  record: ModelRecord,
  job?: JobRecord<TrainConfig>,
): DataSourceRef {
  if (job !== undefined) return job.config.data;
  return {
    dataset: record.dataset as DataSourceRef["dataset"],
    problem: record.problem as DataSourceRef["problem"],
    split: record.fold === null
      ? { kind: "standard" }
      : { kind: "fold", folds: record.fold.folds, fold: record.fold.index },
    seed: record.seed,
  };
}

/**
 * A stored model for the wire.
 *
 * @param record the registry row
 * @param job the job that trained it, when it is still recorded (its data seed is exact)
 * @returns the wire info
 */
export function encodeModelInfo(
  record: ModelRecord,
  job?: JobRecord<TrainConfig>,
): ModelInfo {
  const m = record.metrics;
  const t = record.training;
  return ModelInfo.fromPartial({
    id: record.id,
    displayName: record.displayName,
    spec: encodeModelSpec(record.spec),
    training: encodeTrainConfig({
      data: modelDataSource(record, job),
      epochs: t.epochs,
      batchSize: t.batchSize,
      learningRate: t.learningRate,
      seed: record.seed,
      ...(t.maxSamples === undefined ? {} : { maxSamples: t.maxSamples }),
    }),
    metrics: {
      trainLoss: m.trainLoss ?? 0,
      trainAccuracy: m.trainAccuracy ?? 0,
      heldoutLoss: m.heldoutLoss ?? 0,
      heldoutAccuracy: m.heldoutAccuracy ?? 0,
      trainSamples: m.trainSamples ?? 0,
      heldoutSamples: m.heldoutSamples ?? 0,
      epochsCompleted: m.epochsCompleted ?? 0,
    },
    parameterCount: record.parameterCount,
    weightsSha256: record.weightsSha256,
    createTime: record.created,
    sizeBytes: record.sizeBytes,
    trainingJobId: record.trainingJobId,
    formatVersion: record.formatVersion,
  });
}

/**
 * Training progress for the wire.
 *
 * @param p the registry's progress
 * @returns the wire progress
 */
export function encodeProgress(p: DomainProgress): TrainingProgress {
  return TrainingProgress.fromPartial({
    epoch: p.epoch,
    epochs: p.epochs,
    step: p.step,
    stepsPerEpoch: p.stepsPerEpoch,
    loss: p.loss,
    accuracy: p.accuracy,
    samplesPerSecond: p.samplesPerSecond,
    etaSeconds: p.etaSeconds,
    completedEpochs: p.completedEpochs,
    ...(p.heldoutLoss === undefined ? {} : { heldoutLoss: p.heldoutLoss }),
    ...(p.heldoutAccuracy === undefined
      ? {}
      : { heldoutAccuracy: p.heldoutAccuracy }),
  });
}

/**
 * A training job for the wire.
 *
 * @param job the job record
 * @returns the wire job
 */
export function encodeJob(job: JobRecord<TrainConfig>): TrainingJob {
  return TrainingJob.fromPartial({
    id: job.id,
    state: encodeEnum(JOB_STATE, job.state),
    spec: encodeModelSpec(job.spec),
    config: encodeTrainConfig(job.config),
    progress: encodeProgress(job.progress),
    modelId: job.modelId,
    error: job.error,
    displayName: job.displayName,
    createTime: job.created,
    startTime: job.started,
    endTime: job.ended,
  });
}
