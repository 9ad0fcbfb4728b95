/**
 * rnnexplain.v1.TrainingService: Training jobs: start, watch (streamed progress), cancel, list, get and
 * resume.
 *
 * This file names the service and the handler type its implementation
 * provides; `./_adapt.ts` turns handlers into grpc-js calls, and any method
 * without a handler answers UNIMPLEMENTED.
 *
 * @module
 */
import { TrainingServiceService } from "../../proto/gen/rnnexplain/v1/training_service.ts";
import type { ServiceHandlers } from "./_adapt.ts";

/** Handlers of rnnexplain.v1.TrainingService, keyed by the generated method names. */
export type TrainingServiceHandlers = ServiceHandlers<
  typeof TrainingServiceService
>;

/** rnnexplain.v1.TrainingService: its full name and generated definition. */
export const TRAINING_SERVICE = {
  name: "rnnexplain.v1.TrainingService",
  definition: TrainingServiceService,
} as const;
