/**
 * rnnexplain.v1.InferenceService: Predictions: Classify (a batch of sequences) and ClassifyStream (online,
 * one timestep at a time).
 *
 * This file names the service and the handler type its implementation
 * provides; `./_adapt.ts` turns handlers into grpc-js calls, and any method
 * without a handler answers UNIMPLEMENTED.
 *
 * @module
 */
import { InferenceServiceService } from "../../proto/gen/rnnexplain/v1/inference_service.ts";
import type { ServiceHandlers } from "./_adapt.ts";

/** Handlers of rnnexplain.v1.InferenceService, keyed by the generated method names. */
export type InferenceServiceHandlers = ServiceHandlers<
  typeof InferenceServiceService
>;

/** rnnexplain.v1.InferenceService: its full name and generated definition. */
export const INFERENCE_SERVICE = {
  name: "rnnexplain.v1.InferenceService",
  definition: InferenceServiceService,
} as const;
