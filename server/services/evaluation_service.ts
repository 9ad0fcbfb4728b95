/**
 * rnnexplain.v1.EvaluationService: Evaluate explains the samples of a
 * majority-sample split with each explainer in the compute pool and scores
 * where the relevance lands (thesis §3.3.2; see `server/compute` and
 * `models/metrics`), streaming progress as the worker posts it, then one
 * report per explainer.
 *
 * @module
 */
import { EvaluationServiceService } from "../../proto/gen/rnnexplain/v1/evaluation_service.ts";
import {
  type EvaluateRequest,
  type EvaluateResponse,
  type ExplainerReport as WireReport,
  PerturbationFill,
  type RegionPerturbationOptions,
} from "../../proto/gen/rnnexplain/v1/evaluation_service.ts";
import {
  decodeDataSource,
  decodeExplainer,
  decodeOptionalEnum,
  decodeTarget,
  encodeReport,
  modelDataSource,
  NEGATIVE,
  SPLIT_PART,
} from "../codec/mod.ts";
import type {
  EvaluateProgressEvent,
  EvaluateResult,
  EvaluateTask,
  ExplainerReport,
} from "../compute/mod.ts";
import type { CallContext } from "../call_context.ts";
import { Code, PreconditionError, RpcError } from "../errors.ts";
import type { ServiceHandlers } from "./_adapt.ts";
import { streamTask } from "./_channel.ts";
import { servableModel, type ServiceDeps, trainingJobOf } from "./_deps.ts";
import { checkValidity } from "./explain_service.ts";

/** Handlers of rnnexplain.v1.EvaluationService, keyed by the generated method names. */
export type EvaluationServiceHandlers = ServiceHandlers<
  typeof EvaluationServiceService
>;

/** rnnexplain.v1.EvaluationService: its full name and generated definition. */
export const EVALUATION_SERVICE = {
  name: "rnnexplain.v1.EvaluationService",
  definition: EvaluationServiceService,
} as const;

/** Majority samples: three 28 × 28 items side by side. */
const MAJORITY = { rows: 28, width: 84 } as const;

function invalid(field: string, reason: string): RpcError {
  return new RpcError(
    Code.INVALID_ARGUMENT,
    `Cannot read ${field}: ${reason}`,
    { field },
  );
}

/** Region perturbation defaults: 20 steps of 4 × 4 patches, at most 100 samples. */
const PERTURBATION_DEFAULTS = { steps: 20, patchSize: 4, maxSamples: 100 };

type PerturbationTask = NonNullable<EvaluateTask["regionPerturbation"]>;

function decodePerturbation(
  options: RegionPerturbationOptions,
): PerturbationTask {
  const fills: Record<number, PerturbationTask["fill"]> = {
    [PerturbationFill.PERTURBATION_FILL_UNSPECIFIED]: "uniform",
    [PerturbationFill.PERTURBATION_FILL_UNIFORM]: "uniform",
    [PerturbationFill.PERTURBATION_FILL_MEAN]: "mean",
  };
  const fill = fills[options.fill];
  if (fill === undefined) {
    throw invalid(
      "region_perturbation.fill",
      `unknown fill ${options.fill}`,
    );
  }
  if (options.maxSamples === 0) {
    throw invalid(
      "region_perturbation.max_samples",
      "must be ≥ 1 when set: got 0",
    );
  }
  const patchSize = options.patchSize || PERTURBATION_DEFAULTS.patchSize;
  const steps = options.steps || PERTURBATION_DEFAULTS.steps;
  const patches = Math.ceil(MAJORITY.rows / patchSize) *
    Math.ceil(MAJORITY.width / patchSize);
  if (steps > patches) {
    throw invalid(
      "region_perturbation.steps",
      `${steps} steps exceed the ${patches} patches of ${patchSize} × ${patchSize}`,
    );
  }
  return {
    steps,
    patchSize,
    fill,
    seed: options.seed,
    maxSamples: options.maxSamples ?? PERTURBATION_DEFAULTS.maxSamples,
  };
}

function encodePerturbation(
  report: ExplainerReport,
): Partial<WireReport> {
  const r = report.regionPerturbation;
  if (r === undefined) return {};
  const metric = (s: typeof r.aopc) => ({
    mean: s.mean,
    std: s.std,
    ci95Low: s.ciLow,
    ci95High: s.ciHigh,
  });
  return {
    regionPerturbation: {
      aopc: metric(r.aopc),
      randomAopc: metric(r.randomAopc),
      curve: [...r.curve],
      randomCurve: [...r.randomCurve],
      sampleCount: r.sampleCount,
      options: {
        steps: r.options.steps,
        patchSize: r.options.patchSize,
        fill: r.options.fill === "mean"
          ? PerturbationFill.PERTURBATION_FILL_MEAN
          : PerturbationFill.PERTURBATION_FILL_UNIFORM,
        seed: r.options.seed,
        maxSamples: r.options.maxSamples,
      },
    },
  };
}

function prepare(deps: ServiceDeps, request: EvaluateRequest): EvaluateTask {
  const { record, ref } = servableModel(deps, request.modelId);
  const spec = record.spec;
  const data = request.data === undefined
    ? modelDataSource(record, trainingJobOf(deps, record))
    : decodeDataSource(request.data, "data");
  if (data.problem !== "majority") {
    throw invalid(
      request.data === undefined ? "data" : "data.problem",
      `evaluation needs a majority problem, found "${data.problem}"${
        request.data === undefined ? " (the model's training data)" : ""
      }`,
    );
  }
  if (
    spec.rows !== MAJORITY.rows || spec.steps * spec.columns !== MAJORITY.width
  ) {
    throw new PreconditionError(
      `Cannot evaluate model "${ref.id}": its input is ${spec.rows} × ${
        spec.steps * spec.columns
      }, majority samples are ${MAJORITY.rows} × ${MAJORITY.width}`,
    );
  }
  if (request.explainers.length === 0) {
    throw invalid("explainers", "at least one explainer is required");
  }
  const explainers = request.explainers.map((config, i) => {
    const decoded = decodeExplainer(config, `explainers[${i}]`);
    checkValidity(decoded, spec, `explainers[${i}].method`);
    return { method: decoded.method, params: decoded.params };
  });
  const negative = decodeOptionalEnum(
    NEGATIVE,
    request.negativeRelevance,
    "negative_relevance",
    undefined,
  );
  const target = decodeTarget(request.target, "target");
  if (request.maxSamples === 0) {
    throw invalid("max_samples", "must be ≥ 1 when set: got 0");
  }
  return {
    kind: "evaluate",
    model: ref,
    data,
    part: decodeOptionalEnum(SPLIT_PART, request.part, "part", "test"),
    explainers,
    perSample: request.includePerSample,
    ...(request.maxSamples === undefined
      ? {}
      : { maxSamples: request.maxSamples }),
    ...(negative === undefined ? {} : { negative }),
    ...(target === undefined ? {} : { target }),
    ...(request.regionPerturbation === undefined ? {} : {
      regionPerturbation: decodePerturbation(request.regionPerturbation),
    }),
  };
}

async function* evaluate(
  deps: ServiceDeps,
  request: EvaluateRequest,
  ctx: CallContext,
): AsyncGenerator<EvaluateResponse> {
  const task = prepare(deps, request);
  ctx.log.info(
    {
      modelId: task.model.id,
      explainers: task.explainers.map((e) => e.method),
      maxSamples: task.maxSamples,
    },
    "Evaluation started",
  );
  const events = streamTask<EvaluateProgressEvent, EvaluateResult>(
    ctx.signal,
    (signal, onEvent) => deps.pool.run(task, { signal, onEvent }),
  );
  let next = await events.next();
  try {
    for (; !next.done; next = await events.next()) {
      yield {
        event: {
          $case: "progress",
          progress: {
            samplesDone: next.value.samplesDone,
            samplesTotal: next.value.samplesTotal,
          },
        },
      };
    }
  } finally {
    if (!next.done) await events.return(undefined as never);
  }
  for (const report of next.value.reports) {
    yield {
      event: {
        $case: "report",
        report: { ...encodeReport(report), ...encodePerturbation(report) },
      },
    };
  }
}

/**
 * The EvaluationService handlers over the compute pool.
 *
 * @param deps the store and pool
 * @returns every EvaluationService handler
 */
export function createEvaluationService(
  deps: ServiceDeps,
): EvaluationServiceHandlers {
  return { evaluate: (request, ctx) => evaluate(deps, request, ctx) };
}
