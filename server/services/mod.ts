/**
 * The five rnnexplain.v1 services: {@linkcode createRnnExplainHandlers}
 * builds every handler over the server's store, job manager and compute
 * pool, and {@linkcode addRnnExplainServices} registers handlers on a
 * grpc-js server (methods without one answer UNIMPLEMENTED).
 *
 * @module
 */
import type { Server } from "@grpc/grpc-js";
import { type AdapterDeps, buildService } from "./_adapt.ts";
import type { ServiceDeps } from "./_deps.ts";
export {
  type OpenServiceDeps,
  openServiceDeps,
  type OpenServiceDepsOptions,
} from "./_deps.ts";
import {
  createEvaluationService,
  EVALUATION_SERVICE,
  type EvaluationServiceHandlers,
} from "./evaluation_service.ts";
import {
  createExplainService,
  EXPLAIN_SERVICE,
  type ExplainServiceHandlers,
} from "./explain_service.ts";
import {
  createInferenceService,
  INFERENCE_SERVICE,
  type InferenceServiceHandlers,
} from "./inference_service.ts";
import {
  createModelService,
  MODEL_SERVICE,
  type ModelServiceHandlers,
} from "./model_service.ts";
import {
  createTrainingService,
  TRAINING_SERVICE,
  type TrainingServiceHandlers,
} from "./training_service.ts";

export type { ServiceDeps, ServiceLimits } from "./_deps.ts";

export type {
  BidiStreamHandler,
  ClientStreamHandler,
  ServerStreamHandler,
  UnaryHandler,
} from "./_adapt.ts";
export type {
  EvaluationServiceHandlers,
  ExplainServiceHandlers,
  InferenceServiceHandlers,
  ModelServiceHandlers,
  TrainingServiceHandlers,
};

/** Handlers per service; every method left out answers UNIMPLEMENTED. */
export interface RnnExplainHandlers {
  /** rnnexplain.v1.ModelService. */
  model?: Partial<ModelServiceHandlers>;
  /** rnnexplain.v1.TrainingService. */
  training?: Partial<TrainingServiceHandlers>;
  /** rnnexplain.v1.InferenceService. */
  inference?: Partial<InferenceServiceHandlers>;
  /** rnnexplain.v1.ExplainService. */
  explain?: Partial<ExplainServiceHandlers>;
  /** rnnexplain.v1.EvaluationService. */
  evaluation?: Partial<EvaluationServiceHandlers>;
}

/** Full names of the five API services, in contract order. */
export const SERVICE_NAMES: readonly string[] = [
  MODEL_SERVICE.name,
  TRAINING_SERVICE.name,
  INFERENCE_SERVICE.name,
  EXPLAIN_SERVICE.name,
  EVALUATION_SERVICE.name,
];

/**
 * Builds every handler of the five services over the server's domain
 * objects.
 *
 * @param deps the model store, job manager, compute pool and request limits
 * @returns the handlers of every RPC
 */
export function createRnnExplainHandlers(
  deps: ServiceDeps,
): Required<RnnExplainHandlers> {
  return {
    model: createModelService(deps),
    training: createTrainingService(deps),
    inference: createInferenceService(deps),
    explain: createExplainService(deps),
    evaluation: createEvaluationService(deps),
  };
}

/**
 * Registers the five API services on a server.
 *
 * @param server the grpc-js server
 * @param handlers the implemented methods, per service
 * @param deps the root logger
 */
export function addRnnExplainServices(
  server: Pick<Server, "addService">,
  handlers: RnnExplainHandlers,
  deps: AdapterDeps,
): void {
  const add = <D extends Parameters<typeof buildService>[0]>(
    definition: D,
    implemented: Parameters<typeof buildService<D>>[1] | undefined,
  ) =>
    server.addService(
      definition as unknown as Parameters<Server["addService"]>[0],
      buildService(definition, implemented ?? {}, deps),
    );
  add(MODEL_SERVICE.definition, handlers.model);
  add(TRAINING_SERVICE.definition, handlers.training);
  add(INFERENCE_SERVICE.definition, handlers.inference);
  add(EXPLAIN_SERVICE.definition, handlers.explain);
  add(EVALUATION_SERVICE.definition, handlers.evaluation);
}
