/**
 * Turns the runner's per-step reports (one step's loss, 0-based indices, as
 * `fit` reports them) into a job's {@linkcode TrainingProgress}: 1-based
 * epoch, steps done, and the running mean loss and accuracy of the epoch.
 *
 * @module
 */
import type { TrainingProgress } from "../storage/mod.ts";
import { initialProgress } from "../storage/mod.ts";
import type { EpochMetrics, StepProgress } from "./runner.ts";

/** Tracks one job run's progress. */
export class ProgressTracker {
  #progress: TrainingProgress;
  #epochIndex = -1;
  #lossSum = 0;
  #accuracySum = 0;
  #steps = 0;

  /**
   * @param epochs the job's total epochs
   * @param completed epochs already completed (resume)
   * @param previous the stored progress, whose held-out figures are kept
   */
  constructor(epochs: number, completed: number, previous?: TrainingProgress) {
    this.#progress = initialProgress(epochs, completed);
    if (previous?.heldoutLoss !== undefined) {
      this.#progress.heldoutLoss = previous.heldoutLoss;
    }
    if (previous?.heldoutAccuracy !== undefined) {
      this.#progress.heldoutAccuracy = previous.heldoutAccuracy;
    }
  }

  /** The latest progress (a copy). */
  get current(): TrainingProgress {
    return { ...this.#progress };
  }

  /** Folds in one optimiser step; returns the new progress. */
  step(p: StepProgress): TrainingProgress {
    if (p.epoch !== this.#epochIndex) {
      this.#epochIndex = p.epoch;
      this.#lossSum = 0;
      this.#accuracySum = 0;
      this.#steps = 0;
    }
    this.#lossSum += p.loss;
    this.#accuracySum += p.accuracy;
    this.#steps++;
    Object.assign(this.#progress, {
      epoch: Math.min(p.epoch + 1, this.#progress.epochs),
      step: p.step + 1,
      stepsPerEpoch: p.stepsPerEpoch,
      loss: this.#lossSum / this.#steps,
      accuracy: this.#accuracySum / this.#steps,
      samplesPerSecond: p.samplesPerSecond,
      etaSeconds: p.etaSeconds,
    });
    return this.current;
  }

  /**
   * Records a completed epoch.
   *
   * @param epoch epochs completed, 1-based
   * @param metrics the epoch's summary, when the runner gives one
   * @returns the new progress
   */
  epochEnd(epoch: number, metrics: EpochMetrics = {}): TrainingProgress {
    const p = this.#progress;
    p.completedEpochs = epoch;
    p.epoch = epoch;
    if (p.stepsPerEpoch > 0) p.step = p.stepsPerEpoch;
    if (metrics.loss !== undefined) p.loss = metrics.loss;
    if (metrics.accuracy !== undefined) p.accuracy = metrics.accuracy;
    if (metrics.heldoutLoss !== undefined) p.heldoutLoss = metrics.heldoutLoss;
    if (metrics.heldoutAccuracy !== undefined) {
      p.heldoutAccuracy = metrics.heldoutAccuracy;
    }
    return this.current;
  }

  /** The progress of a finished job: every epoch completed. */
  finished(): TrainingProgress {
    const p = this.#progress;
    p.completedEpochs = p.epochs;
    p.epoch = p.epochs;
    p.etaSeconds = 0;
    return this.current;
  }
}
