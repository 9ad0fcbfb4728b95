/**
 * rnnexplain.v1.EvaluationService: Evaluation of explainers against the ground truth of majority samples
 * (streamed progress, then one report per explainer).
 *
 * This file names the service and the handler type its implementation
 * provides; `./_adapt.ts` turns handlers into grpc-js calls, and any method
 * without a handler answers UNIMPLEMENTED.
 *
 * @module
 */
import { EvaluationServiceService } from "../../proto/gen/rnnexplain/v1/evaluation_service.ts";
import type { ServiceHandlers } from "./_adapt.ts";

/** Handlers of rnnexplain.v1.EvaluationService, keyed by the generated method names. */
export type EvaluationServiceHandlers = ServiceHandlers<
  typeof EvaluationServiceService
>;

/** rnnexplain.v1.EvaluationService: its full name and generated definition. */
export const EVALUATION_SERVICE = {
  name: "rnnexplain.v1.EvaluationService",
  definition: EvaluationServiceService,
} as const;
