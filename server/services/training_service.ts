/**
 * rnnexplain.v1.TrainingService: training jobs over the job manager —
 * start (validated spec and configuration), watch (the job's state first,
 * then updates, ending after a terminal or interrupted state), cancel, list,
 * get and resume.
 *
 * @module
 */
import { TrainingServiceService } from "../../proto/gen/rnnexplain/v1/training_service.ts";
import type { WatchTrainingResponse } from "../../proto/gen/rnnexplain/v1/training_service.ts";
import {
  decodeEnum,
  decodeModelSpec,
  decodeTrainingConfig,
  encodeEnum,
  encodeJob,
  encodeProgress,
  JOB_STATE,
} from "../codec/mod.ts";
import type { CallContext } from "../call_context.ts";
import type { ServiceHandlers } from "./_adapt.ts";
import type { ServiceDeps } from "./_deps.ts";

/** Handlers of rnnexplain.v1.TrainingService, keyed by the generated method names. */
export type TrainingServiceHandlers = ServiceHandlers<
  typeof TrainingServiceService
>;

/** rnnexplain.v1.TrainingService: its full name and generated definition. */
export const TRAINING_SERVICE = {
  name: "rnnexplain.v1.TrainingService",
  definition: TrainingServiceService,
} as const;

async function* watch(
  deps: ServiceDeps,
  jobId: string,
  ctx: CallContext,
): AsyncGenerator<WatchTrainingResponse> {
  // watch() throws NOT_FOUND at call time, before the first message.
  const events = deps.jobs.watch(jobId, ctx.signal);
  for await (const event of events) {
    yield {
      jobId: event.jobId,
      state: encodeEnum(JOB_STATE, event.state),
      progress: encodeProgress(event.progress),
      modelId: event.modelId,
      error: event.error,
    };
  }
}

/**
 * The TrainingService handlers over a job manager.
 *
 * @param deps the job manager (and the rest of the server's objects)
 * @returns every TrainingService handler
 */
export function createTrainingService(
  deps: ServiceDeps,
): TrainingServiceHandlers {
  const { jobs } = deps;
  return {
    startTraining: (request, ctx) => {
      const spec = decodeModelSpec(request.spec, "spec");
      const config = decodeTrainingConfig(request.config, spec, "config");
      const job = jobs.start(config, spec, {
        displayName: request.displayName,
      });
      ctx.log.info(
        {
          jobId: job.id,
          architecture: spec.architecture,
          epochs: config.epochs,
        },
        "Training job queued",
      );
      return Promise.resolve({ job: encodeJob(job) });
    },
    watchTraining: (request, ctx) => watch(deps, request.jobId, ctx),
    cancelTraining: async (request, ctx) => {
      const job = await jobs.cancel(request.jobId);
      ctx.log.info({ jobId: job.id }, "Training job cancelled");
      return { job: encodeJob(job) };
    },
    listTrainingJobs: (request) => {
      const states = request.states.map((s, i) =>
        decodeEnum(JOB_STATE, s, `states[${i}]`)
      );
      const page = jobs.list({
        pageSize: request.pageSize,
        pageToken: request.pageToken,
        states,
      });
      return Promise.resolve({
        jobs: page.items.map(encodeJob),
        nextPageToken: page.nextPageToken,
      });
    },
    getTrainingJob: (request) =>
      Promise.resolve({ job: encodeJob(jobs.get(request.jobId)) }),
    resumeTraining: async (request, ctx) => {
      const job = await jobs.resume(request.jobId);
      ctx.log.info(
        { jobId: job.id, completedEpochs: job.lastCompletedEpoch },
        "Training job resumed",
      );
      return { job: encodeJob(job) };
    },
  };
}
