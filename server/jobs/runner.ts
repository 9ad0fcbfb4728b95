/**
 * The contract between the job manager and whatever trains: the manager
 * decides when and what; the injected {@linkcode RunTraining} (the compute
 * pool in the server, a fake in tests) does the tensor work and reports back
 * through the context's callbacks. The shapes match `models/`'s `fit`:
 * `onProgress` takes a `FitProgress` as is, and an `EpochSummary` maps to
 * `onEpochEnd(summary.epoch + 1, weights, { loss, accuracy, heldoutLoss:
 * summary.validation?.loss, heldoutAccuracy: summary.validation?.accuracy })`.
 *
 * @module
 */
import type { JobConfig, JobRecord } from "../storage/mod.ts";

/** One optimiser step, as `fit`'s `FitProgress` reports it. */
export interface StepProgress {
  /** Epoch index, from 0. */
  epoch: number;
  /** Step index within the epoch, from 0. */
  step: number;
  /** Steps per epoch. */
  stepsPerEpoch: number;
  /** This step's mean loss. */
  loss: number;
  /** This step's batch accuracy. */
  accuracy: number;
  /** Training throughput so far. */
  samplesPerSecond: number;
  /** Estimated seconds until the last epoch ends. */
  etaSeconds: number;
}

/** Figures of a completed epoch; all optional. */
export interface EpochMetrics {
  /** Mean training loss over the epoch. */
  loss?: number;
  /** Training accuracy over the epoch. */
  accuracy?: number;
  /** Held-out loss after the epoch. */
  heldoutLoss?: number;
  /** Held-out accuracy after the epoch. */
  heldoutAccuracy?: number;
}

/** What the manager hands to a training run. */
export interface RunTrainingContext {
  /**
   * Aborted when the job is cancelled or the manager shuts down; the runner
   * stops between steps and rejects (typically with `signal.reason`).
   */
  signal: AbortSignal;
  /**
   * Epochs already completed: the first epoch to run, as `fit`'s 0-based
   * `startEpoch`.
   */
  startEpoch: number;
  /**
   * Safetensors weights after epoch `startEpoch`, when resuming; otherwise
   * `undefined` (a fresh seeded initialisation).
   */
  initialWeights: Uint8Array | undefined;
  /** Call after every optimiser step; cheap, never throws. */
  onProgress(progress: StepProgress): void;
  /**
   * Call after every epoch with the weights to resume from; resolves once
   * they are checkpointed and recorded. Await it (as `fit` awaits its
   * `onEpochEnd`) so that a failed checkpoint stops the run.
   *
   * @param epoch epochs completed, 1-based (`startEpoch + 1` first)
   * @param weights the safetensors bytes
   * @param metrics the epoch's figures
   */
  onEpochEnd(
    epoch: number,
    weights: Uint8Array,
    metrics?: EpochMetrics,
  ): Promise<void>;
}

/** The trained model: checkpoint files as `encodeCheckpoint` produces them. */
export interface TrainingOutput {
  /** The safetensors bytes. */
  weights: Uint8Array;
  /** The checkpoint manifest (verified when stored). */
  manifest: unknown;
}

/**
 * Trains the model of a job (from `context.startEpoch`) and returns it.
 *
 * @typeParam C the job configuration type
 */
export type RunTraining<C extends JobConfig = JobConfig> = (
  job: JobRecord<C>,
  context: RunTrainingContext,
) => Promise<TrainingOutput>;
