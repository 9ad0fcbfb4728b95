/**
 * Training jobs: the job manager (queue, state machine, progress fan-out,
 * epoch checkpoints, resume) and the contract of the injected runner. No
 * gRPC types; the training service adapts these to the wire.
 *
 * @example
 * ```ts
 * using store = await openModelStore({ dir: "./data" });
 * await using jobs = createJobManager({ store, runTraining });
 * const job = jobs.start({ epochs: 2, seed: 1 }, spec);
 * for await (const event of jobs.watch(job.id, signal)) console.log(event.state);
 * ```
 *
 * @module
 */
export {
  createJobManager,
  INTERRUPTED_BY_SHUTDOWN,
  type JobLog,
  type JobManager,
  type JobManagerOptions,
  type StartJobOptions,
} from "./training_jobs.ts";
export {
  type JobEvent,
  JobWatchers,
  WATCH_END_STATES,
} from "./job_watchers.ts";
export type {
  EpochMetrics,
  RunTraining,
  RunTrainingContext,
  StepProgress,
  TrainingOutput,
} from "./runner.ts";
