/**
 * The compute pool as the job manager's training runner (`server/jobs`
 * `RunTraining`): a job's spec and configuration become a `train` task,
 * its step and epoch events become the context's callbacks.
 *
 * The worker does not wait for an epoch's checkpoint to be written: the
 * writes are chained here in epoch order, the task's result waits for all
 * of them, and a failed write cancels the task and fails the run with the
 * write's error.
 *
 * @module
 */
import type {
  RunTraining,
  RunTrainingContext,
  TrainingOutput,
} from "../jobs/mod.ts";
import type { JobRecord } from "../storage/mod.ts";
import type { ComputePool } from "./pool.ts";
import type { TrainConfig } from "./protocol.ts";

/**
 * Wraps a pool as a training runner for jobs whose configuration is a
 * {@linkcode TrainConfig}.
 *
 * @param pool the compute pool
 * @returns a `RunTraining` for `createJobManager`
 * @example
 * ```ts
 * await using jobs = createJobManager({ store, runTraining: createTrainingRunner(pool) });
 * ```
 */
export function createTrainingRunner(
  pool: ComputePool,
): RunTraining<TrainConfig> {
  return (job, context) => train(pool, job, context);
}

async function train(
  pool: ComputePool,
  job: JobRecord<TrainConfig>,
  context: RunTrainingContext,
): Promise<TrainingOutput> {
  const failed = new AbortController();
  const signal = AbortSignal.any([context.signal, failed.signal]);
  let written: Promise<void> = Promise.resolve();
  const result = await pool.run({
    kind: "train",
    spec: job.spec,
    config: job.config,
    startEpoch: context.startEpoch,
    ...(context.initialWeights === undefined
      ? {}
      : { initialWeights: context.initialWeights }),
  }, {
    signal,
    onEvent: (event) => {
      if (event.kind === "progress") {
        context.onProgress(event.progress);
        return;
      }
      const { summary, weights } = event;
      written = written.then(() =>
        context.onEpochEnd(summary.epoch + 1, weights, {
          loss: summary.loss,
          accuracy: summary.accuracy,
          ...(summary.validation === undefined ? {} : {
            heldoutLoss: summary.validation.loss,
            heldoutAccuracy: summary.validation.accuracy,
          }),
        })
      );
      written.catch((err) => failed.abort(err));
    },
  }).catch(async (err) => {
    // A failed checkpoint is the cause; the cancel it triggered is not.
    await written.catch((cause) => {
      throw cause;
    });
    throw err;
  });
  await written;
  return { weights: result.weights, manifest: result.manifest };
}
