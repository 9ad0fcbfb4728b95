/**
 * rnnexplain.v1.ExplainService: Explanations: ListExplainers, Explain (streamed per timestep, then a
 * summary) and ExplainBatch.
 *
 * This file names the service and the handler type its implementation
 * provides; `./_adapt.ts` turns handlers into grpc-js calls, and any method
 * without a handler answers UNIMPLEMENTED.
 *
 * @module
 */
import { ExplainServiceService } from "../../proto/gen/rnnexplain/v1/explain_service.ts";
import type { ServiceHandlers } from "./_adapt.ts";

/** Handlers of rnnexplain.v1.ExplainService, keyed by the generated method names. */
export type ExplainServiceHandlers = ServiceHandlers<
  typeof ExplainServiceService
>;

/** rnnexplain.v1.ExplainService: its full name and generated definition. */
export const EXPLAIN_SERVICE = {
  name: "rnnexplain.v1.ExplainService",
  definition: ExplainServiceService,
} as const;
