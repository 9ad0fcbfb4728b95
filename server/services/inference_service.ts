/**
 * rnnexplain.v1.InferenceService: Classify (a batch in one pool task) and
 * ClassifyStream (online: a start message, then one timestep per message,
 * answered after every step with the prediction so far).
 *
 * ClassifyStream re-runs the prefix: after step k it classifies the k steps
 * received so far with a k-step copy of the model (same weights, see
 * `_prefix_models.ts`) in the compute pool. That costs O(T²) cell steps per
 * sequence (T ≤ 84, a few milliseconds per prefix) but keeps the recurrent
 * state inside the workers' stateless tasks; the answer after step T − 1 is
 * exactly Classify's.
 *
 * @module
 */
import { InferenceServiceService } from "../../proto/gen/rnnexplain/v1/inference_service.ts";
import type {
  ClassifyStreamRequest,
  ClassifyStreamResponse,
} from "../../proto/gen/rnnexplain/v1/inference_service.ts";
import type { Tensor } from "../../proto/gen/rnnexplain/v1/tensor.ts";
import {
  decodeInputs,
  decodeTensor,
  encodeClassification,
  encodeClassifications,
  type InputGeometry,
} from "../codec/mod.ts";
import type { CallContext } from "../call_context.ts";
import { Code, OutOfRangeError, RpcError } from "../errors.ts";
import type { ServiceHandlers } from "./_adapt.ts";
import { servableModel, type ServiceDeps } from "./_deps.ts";
import { prefixModels } from "./_prefix_models.ts";

/** Handlers of rnnexplain.v1.InferenceService, keyed by the generated method names. */
export type InferenceServiceHandlers = ServiceHandlers<
  typeof InferenceServiceService
>;

/** rnnexplain.v1.InferenceService: its full name and generated definition. */
export const INFERENCE_SERVICE = {
  name: "rnnexplain.v1.InferenceService",
  definition: InferenceServiceService,
} as const;

function invalid(field: string, reason: string): RpcError {
  return new RpcError(
    Code.INVALID_ARGUMENT,
    `Cannot read ${field}: ${reason}`,
    { field },
  );
}

/** One timestep: [rows, c] or [rows · c], row-major. */
function decodeStep(
  tensor: Tensor,
  g: InputGeometry,
  field: string,
): Float32Array {
  const { values, shape } = decodeTensor(tensor, field);
  const fits = (shape.length === 2 && shape[0] === g.rows &&
    shape[1] === g.columns) ||
    (shape.length === 1 && shape[0] === g.rows * g.columns);
  if (!fits) {
    throw invalid(
      `${field}.shape`,
      `expected [${g.rows}, ${g.columns}] or [${
        g.rows * g.columns
      }] for one timestep of this model, found [${shape}]`,
    );
  }
  return values;
}

async function* classifyStream(
  deps: ServiceDeps,
  requests: AsyncIterable<ClassifyStreamRequest>,
  ctx: CallContext,
): AsyncGenerator<ClassifyStreamResponse> {
  const iterator = requests[Symbol.asyncIterator]();
  const first = await iterator.next();
  const start = first.done ? undefined : first.value.event;
  if (start?.$case !== "start") {
    throw invalid("requests[0].start", "the first message must be a start");
  }
  const { modelId, label } = start.start;
  if (label !== undefined && label >= 10) {
    throw invalid(
      "requests[0].start.label",
      `must be from 0 to 9: got ${label}`,
    );
  }
  const model = servableModel(deps, modelId);
  const geometry: InputGeometry = model.record.spec;
  const steps = geometry.steps;
  const stepSize = geometry.rows * geometry.columns;
  const refs = await prefixModels(deps, model);
  const sequence = new Float32Array(steps * stepSize);
  ctx.log.debug({ modelId, steps }, "Classify stream opened");
  for (let n = 1;; n++) {
    const next = await iterator.next();
    if (next.done) return;
    const event = next.value.event;
    const field = `requests[${n}]`;
    if (event?.$case !== "step") {
      throw invalid(
        field,
        event?.$case === "start"
          ? "a start message may only come first"
          : "a step is required",
      );
    }
    const t = n - 1;
    if (t >= steps) {
      throw new OutOfRangeError(
        `Cannot classify step ${t}: the model has T = ${steps} steps (0 to ${
          steps - 1
        })`,
        { field },
      );
    }
    sequence.set(
      decodeStep(event.step, geometry, `${field}.step`),
      t * stepSize,
    );
    const values = sequence.slice(0, (t + 1) * stepSize);
    const result = await deps.pool.run({
      kind: "classify",
      model: refs[t]!,
      inputs: [label === undefined ? { values } : { values, label }],
    }, { signal: ctx.signal, transferInputs: true });
    yield {
      timestep: t,
      steps,
      classification: encodeClassification(result, 0),
    };
  }
}

/**
 * The InferenceService handlers over the compute pool.
 *
 * @param deps the store, pool and limits
 * @returns every InferenceService handler
 */
export function createInferenceService(
  deps: ServiceDeps,
): InferenceServiceHandlers {
  return {
    classify: async (request, ctx) => {
      const { record, ref } = servableModel(deps, request.modelId);
      const inputs = decodeInputs(request.inputs, record.spec, {
        maxBatch: deps.limits.maxBatch,
      });
      ctx.log.debug(
        { modelId: ref.id, inputs: inputs.length },
        "Classifying",
      );
      const result = await deps.pool.run(
        { kind: "classify", model: ref, inputs },
        { signal: ctx.signal, transferInputs: true },
      );
      return { classifications: encodeClassifications(result) };
    },
    classifyStream: (requests, ctx) => classifyStream(deps, requests, ctx),
  };
}
