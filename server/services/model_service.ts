/**
 * rnnexplain.v1.ModelService: Stored models: list, get, delete, and moving checkpoints between servers
 * (ExportModel streams a checkpoint out, ImportModel streams one in).
 *
 * This file names the service and the handler type its implementation
 * provides; `./_adapt.ts` turns handlers into grpc-js calls, and any method
 * without a handler answers UNIMPLEMENTED.
 *
 * @module
 */
import { ModelServiceService } from "../../proto/gen/rnnexplain/v1/model_service.ts";
import type { ServiceHandlers } from "./_adapt.ts";

/** Handlers of rnnexplain.v1.ModelService, keyed by the generated method names. */
export type ModelServiceHandlers = ServiceHandlers<typeof ModelServiceService>;

/** rnnexplain.v1.ModelService: its full name and generated definition. */
export const MODEL_SERVICE = {
  name: "rnnexplain.v1.ModelService",
  definition: ModelServiceService,
} as const;
