/**
 * rnnexplain.v1.ExplainService: ListExplainers (the registry, with validity
 * for a model or an architecture), Explain (one message per timestep from
 * T − 1 down to 0, each written as soon as the worker posts it, then the
 * summary) and ExplainBatch (one batched pool task).
 *
 * Inputs, the method's parameters, the target and the method's validity for
 * the model's architecture are all checked here, before a task is queued.
 *
 * @module
 */
import {
  explainerValidity,
  listExplainers,
  type MethodParams,
  type Target,
} from "../../models/mod.ts";
import {
  ExplainBatchResponse as ExplainBatchResponseCodec,
  ExplainResponse as ExplainResponseCodec,
  ExplainServiceService,
} from "../../proto/gen/rnnexplain/v1/explain_service.ts";
import type {
  ExplainBatchRequest,
  ExplainBatchResponse,
  ExplainRequest,
  ExplainResponse,
  ListExplainersRequest,
  ListExplainersResponse,
} from "../../proto/gen/rnnexplain/v1/explain_service.ts";
import {
  ARCHITECTURE,
  type DecodedExplainer,
  decodeEnum,
  decodeExplainer,
  decodeInput,
  decodeInputs,
  decodeTarget,
  encodeExplainerInfo,
  encodeSummary,
  encodeTensor,
} from "../codec/mod.ts";
import type {
  ExplainResult,
  SequenceInput,
  StepEvent,
} from "../compute/mod.ts";
import type { CallContext } from "../call_context.ts";
import { PreconditionError } from "../errors.ts";
import type { ModelSpec } from "../../models/mod.ts";
import { type ServiceHandlers, withResponseSerializers } from "./_adapt.ts";
import { servableModel, type ServiceDeps } from "./_deps.ts";
import { streamTask } from "./_channel.ts";

/** Handlers of rnnexplain.v1.ExplainService, keyed by the generated method names. */
export type ExplainServiceHandlers = ServiceHandlers<
  typeof ExplainServiceService
>;

/**
 * rnnexplain.v1.ExplainService: its full name and its generated definition,
 * whose Explain and ExplainBatch responses (up to ~0.5 MB of relevance per
 * call) are serialized through one reused writer.
 */
export const EXPLAIN_SERVICE = {
  name: "rnnexplain.v1.ExplainService",
  definition: withResponseSerializers(ExplainServiceService, {
    explain: ExplainResponseCodec,
    explainBatch: ExplainBatchResponseCodec,
  }),
} as const;

/** Validity answers already computed, keyed by method, parameters and spec. */
const VALIDITY = new Map<string, ReturnType<typeof explainerValidity>>();
/** Entries kept before the memo starts over (a few specs × methods in practice). */
const VALIDITY_ENTRIES = 512;

/**
 * The registry's validity of a method for a spec, memoized: it builds the
 * architecture graph each time, about 0.5 ms per request on our machines,
 * a noticeable share of a batch-1 explanation.
 */
function validityOf(explainer: DecodedExplainer, spec: ModelSpec) {
  const key = JSON.stringify([explainer.method, explainer.resolved, spec]);
  let validity = VALIDITY.get(key);
  if (validity === undefined) {
    validity = explainerValidity(explainer.method, spec, explainer.resolved);
    if (VALIDITY.size >= VALIDITY_ENTRIES) VALIDITY.clear();
    VALIDITY.set(key, validity);
  }
  return validity;
}

/**
 * Refuses a method that is not defined for a model's architecture.
 *
 * @throws {PreconditionError} with the registry's reason
 */
export function checkValidity(
  explainer: DecodedExplainer,
  spec: ModelSpec,
  field: string,
): void {
  const validity = validityOf(explainer, spec);
  if (!validity.valid) {
    throw new PreconditionError(
      `Cannot explain with ${explainer.method}: ${validity.reason}`,
      { field },
    );
  }
}

function listing(
  deps: ServiceDeps,
  request: ListExplainersRequest,
): ListExplainersResponse {
  const subject = request.subject;
  const explainers = subject === undefined
    ? listExplainers()
    : subject.$case === "modelId"
    ? listExplainers(deps.store.get(subject.modelId).spec)
    : listExplainers(
      decodeEnum(ARCHITECTURE, subject.architecture, "architecture"),
    );
  return { explainers: explainers.map(encodeExplainerInfo) };
}

/** A decoded explain request, ready for the pool. */
interface Prepared {
  readonly model: ReturnType<typeof servableModel>;
  readonly inputs: SequenceInput[];
  readonly explainer: DecodedExplainer;
  readonly target: Target | undefined;
}

function prepare(
  deps: ServiceDeps,
  request: ExplainRequest | ExplainBatchRequest,
  inputs: (spec: ModelSpec) => SequenceInput[],
): Prepared {
  const model = servableModel(deps, request.modelId);
  const decoded = inputs(model.record.spec);
  const explainer = decodeExplainer(request.explainer, "explainer");
  const target = decodeTarget(request.target, "target");
  checkValidity(explainer, model.record.spec, "explainer.method");
  return { model, inputs: decoded, explainer, target };
}

function task<K extends "explain" | "explainBatch">(kind: K, p: Prepared) {
  return {
    kind,
    model: p.model.ref,
    inputs: p.inputs,
    method: p.explainer.method,
    params: p.explainer.params as MethodParams,
    ...(p.target === undefined ? {} : { target: p.target }),
  };
}

function summaries(result: ExplainResult) {
  return result.summaries.map((s, n) =>
    encodeSummary(s, {
      method: result.method,
      params: result.params,
      target: result.target,
      label: result.labels[n] ?? null,
    })
  );
}

async function* explain(
  deps: ServiceDeps,
  request: ExplainRequest,
  ctx: CallContext,
): AsyncGenerator<ExplainResponse> {
  const p = prepare(
    deps,
    request,
    (spec) => [decodeInput(request.input, spec, "input")],
  );
  const { rows, columns } = p.model.record.spec;
  const started = performance.now();
  ctx.log.debug(
    { modelId: p.model.ref.id, method: p.explainer.method },
    "Explaining",
  );
  const events = streamTask<StepEvent, ExplainResult>(
    ctx.signal,
    (signal, onEvent) =>
      deps.pool.run(task("explain", p), {
        signal,
        onEvent,
        transferInputs: true,
      }),
  );
  let next = await events.next();
  try {
    for (; !next.done; next = await events.next()) {
      const step = next.value;
      yield {
        event: {
          $case: "step",
          step: {
            timestep: step.step,
            relevance: encodeTensor(step.relevance, [rows, columns]),
            relevanceSum: step.sums[0]!,
          },
        },
      };
    }
  } finally {
    // Left early (cancelled, or a write failed): stop the pool task.
    if (!next.done) await events.return(undefined as never);
  }
  const [summary] = summaries(next.value);
  ctx.log.debug(
    {
      modelId: p.model.ref.id,
      durationMs: Math.round(performance.now() - started),
      workerTensors: deps.pool.stats().tensors,
    },
    "Explained",
  );
  yield { event: { $case: "summary", summary: summary! } };
}

async function explainBatch(
  deps: ServiceDeps,
  request: ExplainBatchRequest,
  ctx: CallContext,
): Promise<ExplainBatchResponse> {
  const t0 = performance.now();
  const p = prepare(
    deps,
    request,
    (spec) =>
      decodeInputs(request.inputs, spec, { maxBatch: deps.limits.maxBatch }),
  );
  const t1 = performance.now();
  const result = await deps.pool.run(task("explainBatch", p), {
    signal: ctx.signal,
    transferInputs: true,
  });
  const t2 = performance.now();
  const { steps, rows, columns } = result.shape;
  const response = {
    relevance: encodeTensor(result.relevance, [
      p.inputs.length,
      steps,
      rows,
      columns,
    ]),
    summaries: summaries(result),
  };
  ctx.log.debug(
    {
      modelId: p.model.ref.id,
      method: p.explainer.method,
      inputs: p.inputs.length,
      decodeMs: round(t1 - t0),
      computeMs: round(t2 - t1),
      encodeMs: round(performance.now() - t2),
      workerTensors: deps.pool.stats().tensors,
    },
    "Explained batch",
  );
  return response;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/**
 * The ExplainService handlers over the registry and the compute pool.
 *
 * @param deps the store, pool and limits
 * @returns every ExplainService handler
 */
export function createExplainService(
  deps: ServiceDeps,
): ExplainServiceHandlers {
  return {
    listExplainers: (request) => Promise.resolve(listing(deps, request)),
    explain: (request, ctx) => explain(deps, request, ctx),
    explainBatch: (request, ctx) => explainBatch(deps, request, ctx),
  };
}
