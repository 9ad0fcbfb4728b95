/**
 * The typed messages between the compute pool (`pool.ts`, on the gRPC event
 * loop) and its workers (`worker.ts`): the tasks a worker runs, the events it
 * streams while running one, and the result it ends with. Everything here is
 * plain structured-cloneable data (typed arrays, numbers, strings); tensors
 * never leave a worker.
 *
 * A task's life on the wire:
 *
 * 1. pool → worker `{ type: "run", taskId, task }`;
 * 2. worker → pool zero or more `{ type: "event", taskId, event }`
 *    (per-step relevance, progress, finished epochs), posted as soon as they
 *    exist, their buffers transferred;
 * 3. worker → pool exactly one `{ type: "done" }` or `{ type: "failed" }`.
 *
 * The file is long because it is the one place that lists every message.
 *
 * `{ type: "cancel", taskId }` aborts the worker's `AbortController` for the
 * task; the computation stops between time steps (explanations) or batch
 * steps (training, evaluation) and the task ends `failed` with an
 * `AbortError`.
 *
 * @module
 */
import type {
  BackendChoice,
  CheckpointManifest,
  EpochSummary,
  ExplanationSummary,
  FitProgress,
  MethodParams,
  ModelSpecInit,
  NegativeRelevance,
  ProblemKind,
  ProblemSplit,
  Summary,
  Target,
} from "../../models/mod.ts";
import type { DatasetName } from "../datasets/mod.ts";
import type { WireError } from "./wire_error.ts";

/**
 * A stored model as a worker finds it: the checkpoint `<dir>/<id>.json` +
 * `<dir>/<id>.safetensors` (see `server/storage/checkpoint_files.ts`), whose
 * weights must have this SHA-256. Workers cache loaded models by id and hash.
 */
export interface ModelRef {
  /** The model's (checkpoint's) id. */
  readonly id: string;
  /** The checkpoint directory. */
  readonly dir: string;
  /** The weights' SHA-256 the registry recorded, 64 lowercase hex digits. */
  readonly sha256: string;
}

/** Everything that fixes which samples a server-side dataset problem holds. */
export interface DataSourceRef {
  /** The dataset. */
  readonly dataset: DatasetName;
  /** The problem built from it. */
  readonly problem: ProblemKind;
  /** The standard split or one cross-validation fold. */
  readonly split: ProblemSplit;
  /** Seed of the fold assignment and of the majority composites. */
  readonly seed: number;
}

/** One part of a split. */
export type SplitPartName = "train" | "test";

/** One sample of a server-side problem, cut into the model's T steps. */
export interface SampleRef {
  /** The problem. */
  readonly source: DataSourceRef;
  /** The part `index` counts in. */
  readonly part: SplitPartName;
  /** Zero-based index within the part. */
  readonly index: number;
  /**
   * Sequence length T; must equal the model's T.
   * @default the model's T
   */
  readonly steps?: number;
}

/**
 * One input sequence: raw values [T, rows · columns] (each step row-major,
 * pixels in [−1, 1]) with an optional true class, or a dataset sample (whose
 * label is known).
 */
export type SequenceInput =
  | { readonly values: Float32Array; readonly label?: number }
  | { readonly sample: SampleRef };

/** Classify `inputs` with a stored model. */
export interface ClassifyTask {
  readonly kind: "classify";
  readonly model: ModelRef;
  /** At least one sequence. */
  readonly inputs: readonly SequenceInput[];
}

/** Predictions, one row per input. */
export interface ClassifyResult {
  /** [count, 10] logits. */
  readonly logits: Float32Array;
  /** [count, 11] softmax over the 10 logits and the zero pseudo-logit (last). */
  readonly probabilities: Float32Array;
  /** Argmax over the 10 real logits. */
  readonly predicted: Uint8Array;
  /** Each input's true class, null where unknown. */
  readonly labels: readonly (number | null)[];
}

/** Explain `inputs` with one method. */
export interface ExplainTask {
  /** `explain` streams a {@linkcode StepEvent} per step; `explainBatch` does not. */
  readonly kind: "explain" | "explainBatch";
  readonly model: ModelRef;
  /** At least one sequence. */
  readonly inputs: readonly SequenceInput[];
  /** Registry key, e.g. `"lrp_alpha_beta"`. */
  readonly method: string;
  /** @default the method's defaults */
  readonly params?: MethodParams;
  /**
   * The explained class.
   * @default the true label when every input has one, else the predicted class
   */
  readonly target?: Target;
}

/** The relevance of one time step for every input (`explain` only). */
export interface StepEvent {
  readonly kind: "step";
  /** Time step t; events arrive from T − 1 down to 0. */
  readonly step: number;
  /** [count, rows · columns]. */
  readonly relevance: Float32Array;
  /** Σ of each input's relevance at this step, [count]. */
  readonly sums: Float64Array;
}

/** A finished explanation. */
export interface ExplainResult {
  /** The method's registry key. */
  readonly method: string;
  /** The parameters used, defaults filled in. */
  readonly params: MethodParams;
  /** The target used. */
  readonly target: Target;
  /** [count, T, rows · columns]. */
  readonly relevance: Float32Array;
  /** One per input. */
  readonly summaries: readonly ExplanationSummary[];
  /** Each input's true class, null where unknown. */
  readonly labels: readonly (number | null)[];
  /** The model's input geometry: T, rows, columns per step. */
  readonly shape: {
    readonly steps: number;
    readonly rows: number;
    readonly columns: number;
  };
}

/** One method of an evaluation. */
export interface ExplainerConfig {
  /** Registry key. */
  readonly method: string;
  /** @default the method's defaults */
  readonly params?: MethodParams;
}

/** Explain a majority problem's samples with each explainer and score where the relevance lands. */
export interface EvaluateTask {
  readonly kind: "evaluate";
  /** A majority-sample model (28 × 84 input). */
  readonly model: ModelRef;
  /** A majority problem. */
  readonly data: DataSourceRef;
  /** @default "test" */
  readonly part?: SplitPartName;
  /**
   * Score only the first this many samples of the part.
   * @default every sample
   */
  readonly maxSamples?: number;
  /** At least one. */
  readonly explainers: readonly ExplainerConfig[];
  /**
   * Negative-relevance handling for every explainer.
   * @default the thesis text's choice per explainer: `clip` for LRP-αβ with β > 0, else `keep`
   */
  readonly negative?: NegativeRelevance;
  /** @default { kind: "true_label" } */
  readonly target?: Target;
  /**
   * Whether reports carry every sample's values.
   * @default false
   */
  readonly perSample?: boolean;
  /**
   * Samples per explanation pass.
   * @default 50
   */
  readonly batchSize?: number;
  /** Region perturbation (AOPC); none when unset. */
  readonly regionPerturbation?: RegionPerturbationTask;
}

/** Region perturbation options, defaults filled in (see `_evaluate.ts`). */
export interface RegionPerturbationTask {
  /** Perturbation steps L. */
  readonly steps: number;
  /** Patch side in pixels. */
  readonly patchSize: number;
  /** Uniform noise in [−1, 1], or the train part's per-pixel mean. */
  readonly fill: "uniform" | "mean";
  /** Seed of the noise and the random order. */
  readonly seed: number;
  /** Samples perturbed, at most. */
  readonly maxSamples: number;
}

/** Region perturbation results of one explainer. */
export interface RegionPerturbationResult {
  readonly options: RegionPerturbationTask;
  readonly aopc: Summary;
  readonly randomAopc: Summary;
  /** Mean true-class logit after 0…L steps. */
  readonly curve: readonly number[];
  readonly randomCurve: readonly number[];
  readonly sampleCount: number;
}

/** How far an evaluation has come. */
export interface EvaluateProgressEvent {
  readonly kind: "progress";
  /** Sample explanations done, over all explainers. */
  readonly samplesDone: number;
  /** Samples × explainers. */
  readonly samplesTotal: number;
}

/** Every scored sample's values, in sample order. */
export interface PerSampleValues {
  /** Indices within the part. */
  readonly indices: Uint32Array;
  readonly labels: Uint8Array;
  readonly predicted: Uint8Array;
  /** [n, 3] block shares after negative handling. */
  readonly blockRelevance: Float64Array;
  readonly cosineSimilarity: Float64Array;
  readonly correctBlockShare: Float64Array;
  readonly relevanceMassAccuracy: Float64Array;
  readonly relevanceRankAccuracy: Float64Array;
}

/** The scores of one explainer. */
export interface ExplainerReport {
  readonly method: string;
  /** Defaults filled in. */
  readonly params: MethodParams;
  /** The handling used. */
  readonly negative: NegativeRelevance;
  readonly sampleCount: number;
  /** The model's accuracy on the scored samples. */
  readonly modelAccuracy: number;
  readonly cosineSimilarity: Summary;
  readonly correctBlockShare: Summary;
  readonly relevanceMassAccuracy: Summary;
  readonly relevanceRankAccuracy: Summary;
  /** Present when the task asked for it. */
  readonly perSample?: PerSampleValues;
  /** Present when the task asked for it. */
  readonly regionPerturbation?: RegionPerturbationResult;
}

/** One report per explainer, in task order. */
export interface EvaluateResult {
  readonly reports: readonly ExplainerReport[];
}

/** Data and hyper-parameters of a training task. */
export interface TrainConfig {
  /** The problem; the model trains on its train part and is scored on its test part. */
  readonly data: DataSourceRef;
  /** Total epochs, at least 1. */
  readonly epochs: number;
  /** @default 50 */
  readonly batchSize?: number;
  /** @default 0.0002 */
  readonly learningRate?: number;
  /** Seed of initialisation, dropout and shuffling. */
  readonly seed: number;
  /** @default every training sample */
  readonly maxSamples?: number;
}

/** Train a new model (or resume one). */
export interface TrainTask {
  readonly kind: "train";
  /** The architecture; its T must divide the problem's image width. */
  readonly spec: ModelSpecInit;
  readonly config: TrainConfig;
  /**
   * First epoch to run, to resume after `startEpoch` completed epochs.
   * @default 0
   */
  readonly startEpoch?: number;
  /**
   * Safetensors bytes to start from (an epoch event's `weights`).
   * @default a seeded random initialisation
   */
  readonly initialWeights?: Uint8Array;
}

/** After every optimiser step. */
export interface TrainProgressEvent {
  readonly kind: "progress";
  readonly progress: FitProgress;
}

/** After every epoch: its summary and a checkpoint to resume from. */
export interface TrainEpochEvent {
  readonly kind: "epoch";
  readonly summary: EpochSummary;
  /** Safetensors bytes of the weights after this epoch. */
  readonly weights: Uint8Array;
  /** The matching manifest (`metrics.epochsCompleted` = epoch + 1). */
  readonly manifest: CheckpointManifest;
}

/** Quality figures of a trained model. */
export interface TrainMetrics {
  /** Mean loss over the last epoch's steps (dropout active). */
  readonly trainLoss: number;
  /** Accuracy over the last epoch's steps (dropout active). */
  readonly trainAccuracy: number;
  /** Mean loss over the test part after the last epoch. */
  readonly heldoutLoss: number;
  /** Accuracy over the test part after the last epoch. */
  readonly heldoutAccuracy: number;
  /** Training samples per epoch. */
  readonly trainSamples: number;
  /** Test samples scored. */
  readonly heldoutSamples: number;
  /** Epochs completed, counting resumed ones. */
  readonly epochsCompleted: number;
}

/** A trained model as checkpoint bytes. */
export interface TrainResult {
  /** Safetensors bytes. */
  readonly weights: Uint8Array;
  /** The manifest; its `metrics` holds {@linkcode TrainMetrics}. */
  readonly manifest: CheckpointManifest;
  readonly metrics: TrainMetrics;
  /** Summaries of the epochs this task ran. */
  readonly epochs: readonly EpochSummary[];
}

/** Each task kind's task, event and result types. */
export interface TaskTypes {
  classify: { task: ClassifyTask; event: never; result: ClassifyResult };
  explain: {
    task: ExplainTask & { readonly kind: "explain" };
    event: StepEvent;
    result: ExplainResult;
  };
  explainBatch: {
    task: ExplainTask & { readonly kind: "explainBatch" };
    event: never;
    result: ExplainResult;
  };
  evaluate: {
    task: EvaluateTask;
    event: EvaluateProgressEvent;
    result: EvaluateResult;
  };
  train: {
    task: TrainTask;
    event: TrainProgressEvent | TrainEpochEvent;
    result: TrainResult;
  };
}

/** A task kind. */
export type TaskKind = keyof TaskTypes;
/** Any task. */
export type ComputeTask = TaskTypes[TaskKind]["task"];
/** The events of a task kind. */
export type EventOf<K extends TaskKind> = TaskTypes[K]["event"];
/** The result of a task kind. */
export type ResultOf<K extends TaskKind> = TaskTypes[K]["result"];
/** Any event. */
export type TaskEvent = TaskTypes[TaskKind]["event"];
/** Any result. */
export type TaskResult = TaskTypes[TaskKind]["result"];

/** Worker settings, sent once before any task. */
export interface WorkerSettings {
  /** The worker's own TensorFlow.js backend. */
  readonly backend: BackendChoice;
  /** Loaded models kept per worker (least recently used evicted first). */
  readonly modelCacheSize: number;
  /** Built dataset problems kept per worker. */
  readonly problemCacheSize: number;
  /** Data folder searched for IDX files (see `server/datasets`). */
  readonly dataDir?: string;
}

/** Messages from the pool to a worker. */
export type ToWorker =
  | {
    readonly type: "init";
    readonly settings: WorkerSettings;
    /**
     * One Int32 the pool sets (`Atomics.store`) to the id of the task it
     * cancels, next to the `cancel` message: a worker busy computing reads
     * it between steps without waiting for its event loop.
     */
    readonly cancelFlag: SharedArrayBuffer;
  }
  | {
    readonly type: "run";
    readonly taskId: number;
    readonly task: ComputeTask;
  }
  | { readonly type: "cancel"; readonly taskId: number }
  | { readonly type: "evict"; readonly modelId: string };

/** Messages from a worker to the pool. */
export type FromWorker =
  | { readonly type: "ready"; readonly backend: string }
  | { readonly type: "initFailed"; readonly error: WireError }
  | {
    readonly type: "event";
    readonly taskId: number;
    readonly event: TaskEvent;
  }
  | {
    readonly type: "done";
    readonly taskId: number;
    readonly result: TaskResult;
    /** Cache keys (`id@sha256`) of the models the worker holds now. */
    readonly models: readonly string[];
    /** Live tensors in the worker now (cached models' weights only, unless something leaked). */
    readonly tensors: number;
  }
  | {
    readonly type: "failed";
    readonly taskId: number;
    readonly error: WireError;
    readonly models: readonly string[];
    readonly tensors: number;
  };

/**
 * The cache key of a model reference: `id@sha256`.
 *
 * @param model the reference
 * @returns the key
 */
export function modelKey(model: ModelRef): string {
  return `${model.id}@${model.sha256}`;
}

/**
 * Cuts a batch [count, T, rows · columns] into per-sequence inputs (views of
 * the same buffer, no copy).
 *
 * @param x the batch
 * @param count number of sequences; must divide `x.length`
 * @param labels true classes, one per sequence
 * @returns one input per sequence
 * @throws {RangeError} if count does not divide the values or labels has the wrong length
 */
export function batchInputs(
  x: Float32Array,
  count: number,
  labels?: ArrayLike<number>,
): SequenceInput[] {
  if (!Number.isInteger(count) || count < 1 || x.length % count !== 0) {
    throw new RangeError(
      `Cannot cut batch: ${x.length} values do not split into ${count} sequences`,
    );
  }
  if (labels !== undefined && labels.length !== count) {
    throw new RangeError(
      `Cannot cut batch: expected ${count} labels, found ${labels.length}`,
    );
  }
  const size = x.length / count;
  return Array.from({ length: count }, (_, n) => {
    const values = x.subarray(n * size, (n + 1) * size);
    return labels === undefined ? { values } : { values, label: labels[n]! };
  });
}
