/**
 * The plain records the registry stores: models and training jobs. They are
 * JSON-able domain types (no proto types); `server/codec.ts` maps them to the
 * wire.
 *
 * @module
 */
import type {
  CheckpointManifest,
  FoldInfo,
  ModelSpec,
} from "../../models/mod.ts";

/** Whether a stored model can be served. */
export type ModelState =
  /** Files present and consistent with the row. */
  | "READY"
  /** Files missing, truncated or failing their hash; only `delete` helps. */
  | "DATA_LOSS";

/** A stored model: its manifest's facts plus where it came from. */
export interface ModelRecord {
  /** The model id, also the checkpoint file name. */
  id: string;
  /** The architecture. */
  spec: ModelSpec;
  /** The training configuration recorded in the manifest. */
  training: CheckpointManifest["training"];
  /** Dataset name, e.g. `mnist`. */
  dataset: string;
  /** Problem name, e.g. `majority`. */
  problem: string;
  /** Sequence length T. */
  steps: number;
  /** The cross-validation fold, or `null` for the standard split. */
  fold: FoldInfo | null;
  /** Seed of initialisation, data order and dropout. */
  seed: number;
  /** Named results, e.g. `{ heldoutAccuracy: 0.9 }`. */
  metrics: Record<string, number>;
  /** Trainable scalars. */
  parameterCount: number;
  /** Lower-case hex SHA-256 of the weights file. */
  weightsSha256: string;
  /** Bytes on disk: weights plus manifest. */
  sizeBytes: number;
  /** Checkpoint format version. */
  formatVersion: number;
  /** When the checkpoint was written, ISO 8601 in UTC. */
  created: string;
  /** Whether the model can be served. */
  state: ModelState;
  /** Human-readable name, or `""`. */
  displayName: string;
  /** The training job that produced the model, or `""` (imported models). */
  trainingJobId: string;
}

/** Every job state, in life-cycle order. */
export const JOB_STATES = Object.freeze(
  [
    "QUEUED",
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
    "CANCELLED",
    "INTERRUPTED",
  ] as const,
);

/** The life cycle of a training job (see `server/jobs/training_jobs.ts`). */
export type JobState = typeof JOB_STATES[number];

/** States from which a job never moves again. */
export const TERMINAL_JOB_STATES: ReadonlySet<JobState> = new Set([
  "SUCCEEDED",
  "FAILED",
  "CANCELLED",
]);

/** Where a training job stands (mirrors `rnnexplain.v1.TrainingProgress`). */
export interface TrainingProgress {
  /** The current epoch, 1-based (the last one once the job has ended). */
  epoch: number;
  /** Total epochs of the job. */
  epochs: number;
  /** Optimiser steps done in the current epoch. */
  step: number;
  /** Optimiser steps per epoch (0 before the first step). */
  stepsPerEpoch: number;
  /** Mean training loss over the current epoch so far. */
  loss: number;
  /** Training accuracy over the current epoch so far, in [0, 1]. */
  accuracy: number;
  /** Training throughput. */
  samplesPerSecond: number;
  /** Estimated seconds until the job ends. */
  etaSeconds: number;
  /** Epochs completed and checkpointed. */
  completedEpochs: number;
  /** Held-out loss after the last completed epoch, when known. */
  heldoutLoss?: number;
  /** Held-out accuracy after the last completed epoch, when known. */
  heldoutAccuracy?: number;
}

/**
 * The least a job configuration must say; the rest (data source, batch size,
 * learning rate, seed…) is for the training runner and stored as JSON.
 */
export interface JobConfig {
  /** Total epochs, an integer ≥ 1. */
  epochs: number;
}

/** A training job. */
export interface JobRecord<C extends JobConfig = JobConfig> {
  /** Server-assigned id. */
  id: string;
  /** Current state. */
  state: JobState;
  /** The training configuration (JSON-able). */
  config: C;
  /** The architecture to train. */
  spec: ModelSpec;
  /** Latest persisted or reported progress. */
  progress: TrainingProgress;
  /** Epochs completed and checkpointed; a resumed job continues after them. */
  lastCompletedEpoch: number;
  /** The trained model, once SUCCEEDED; `""` before. */
  modelId: string;
  /** Why the job FAILED or was INTERRUPTED; `""` otherwise. */
  error: string;
  /** Human-readable name, or `""`. */
  displayName: string;
  /** When the job was created, ISO 8601 in UTC. */
  created: string;
  /** When the row last changed, ISO 8601 in UTC. */
  updated: string;
  /** When the job last started running; `""` before. */
  started: string;
  /** When the job last stopped (terminal or interrupted); `""` before. */
  ended: string;
}

/** One page of a listing, newest first. */
export interface Page<T> {
  /** The items of this page. */
  items: T[];
  /** Token of the next page; `""` on the last page. */
  nextPageToken: string;
}

/** Options of the paged listings. */
export interface ListOptions {
  /**
   * Maximum items per page, 0–1000; 0 means the default.
   * @default 100
   */
  pageSize?: number;
  /**
   * `nextPageToken` of the previous page; `""` for the first page.
   * @default ""
   */
  pageToken?: string;
}

/**
 * A progress record before anything ran.
 *
 * @param epochs the job's total epochs
 * @param completedEpochs epochs already completed (for a resumed job)
 * @returns progress with zero counters
 */
export function initialProgress(
  epochs: number,
  completedEpochs = 0,
): TrainingProgress {
  return {
    epoch: Math.min(completedEpochs + 1, epochs),
    epochs,
    step: 0,
    stepsPerEpoch: 0,
    loss: 0,
    accuracy: 0,
    samplesPerSecond: 0,
    etaSeconds: 0,
    completedEpochs,
  };
}
