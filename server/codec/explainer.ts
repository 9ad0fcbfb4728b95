/**
 * Explainers on the wire: ExplainerConfig/ExplainerParams ↔ a registry key
 * and `MethodParams`, Target ↔ `models/` targets, and the summaries and
 * listings the explain services send back. Parameters are checked here with
 * the registry's own `resolveParams`, so a bad value (α − β ≠ 1, ε < 0, a
 * field the method does not use) is INVALID_ARGUMENT before any work.
 *
 * @module
 */
import {
  explainerFor,
  type ExplainerListing,
  type ExplanationSummary as DomainSummary,
  type MethodName,
  type MethodParameter,
  type MethodParams,
  resolveParams,
  type Target as DomainTarget,
} from "../../models/mod.ts";
import { Code, OutOfRangeError, RpcError } from "../errors.ts";
import {
  type ExplainerConfig,
  type ExplainerParams,
  ExplanationSummary,
  GateGradient,
  InputDomain,
  type Target,
} from "../../proto/gen/rnnexplain/v1/explainer.ts";
import {
  ExplainerInfo,
  ParameterType,
} from "../../proto/gen/rnnexplain/v1/explain_service.ts";
import {
  decodeEnum,
  encodeEnum,
  GATE_GRADIENT,
  INPUT_DOMAIN,
  METHOD,
  TARGET_KIND,
} from "./enums.ts";

/** An explainer as the domain takes it. */
export interface DecodedExplainer {
  /** The registry key. */
  readonly method: MethodName;
  /** The parameters as given (unset ones left out). */
  readonly params: MethodParams;
  /** Every parameter, defaults filled in. */
  readonly resolved: Readonly<MethodParams>;
}

/** `MethodParams` field → `ExplainerParams` field (snake_case on the wire). */
const WIRE_NAMES: Readonly<Record<keyof MethodParams, string>> = {
  alpha: "alpha",
  beta: "beta",
  epsilon: "epsilon",
  low: "low",
  high: "high",
  stabilizer: "stabilizer",
  inputDomain: "input_domain",
  gateGradient: "gate_gradient",
  steps: "steps",
  baseline: "baseline",
  samples: "samples",
  noise: "noise_stddev",
  seed: "seed",
};

function invalid(field: string, reason: string): RpcError {
  return new RpcError(
    Code.INVALID_ARGUMENT,
    `Cannot read ${field}: ${reason}`,
    { field },
  );
}

/**
 * Wire parameters → `MethodParams` (unset fields left out).
 *
 * @throws {RpcError} INVALID_ARGUMENT for an unknown enum value
 */
export function decodeParams(
  p: ExplainerParams | undefined,
  field: string,
): MethodParams {
  if (p === undefined) return {};
  const out: MethodParams = {};
  if (p.alpha !== undefined) out.alpha = p.alpha;
  if (p.beta !== undefined) out.beta = p.beta;
  if (p.epsilon !== undefined) out.epsilon = p.epsilon;
  if (p.low !== undefined) out.low = p.low;
  if (p.high !== undefined) out.high = p.high;
  if (p.stabilizer !== undefined) out.stabilizer = p.stabilizer;
  if (p.steps !== undefined) out.steps = p.steps;
  if (p.baseline !== undefined) out.baseline = p.baseline;
  if (p.samples !== undefined) out.samples = p.samples;
  if (p.noiseStddev !== undefined) out.noise = p.noiseStddev;
  if (p.seed !== undefined) out.seed = p.seed;
  if (p.gateGradient !== undefined) {
    out.gateGradient = decodeEnum(
      GATE_GRADIENT,
      p.gateGradient,
      `${field}.gate_gradient`,
    );
  }
  if (p.inputDomain !== undefined) {
    out.inputDomain = decodeEnum(
      INPUT_DOMAIN,
      p.inputDomain,
      `${field}.input_domain`,
    );
  }
  return out;
}

/**
 * `MethodParams` → wire parameters (every set field).
 *
 * @param params the parameters, usually with defaults filled in
 * @returns the wire message
 */
export function encodeParams(params: Readonly<MethodParams>): ExplainerParams {
  const out: ExplainerParams = {};
  const copy = <K extends keyof ExplainerParams>(
    key: K,
    value: ExplainerParams[K] | undefined,
  ) => {
    if (value !== undefined) out[key] = value;
  };
  copy("alpha", params.alpha);
  copy("beta", params.beta);
  copy("epsilon", params.epsilon);
  copy("low", params.low);
  copy("high", params.high);
  copy("stabilizer", params.stabilizer);
  copy("steps", params.steps);
  copy("baseline", params.baseline);
  copy("samples", params.samples);
  copy("noiseStddev", params.noise);
  copy("seed", params.seed);
  if (params.gateGradient !== undefined) {
    out.gateGradient = encodeEnum(GATE_GRADIENT, params.gateGradient);
  }
  if (params.inputDomain !== undefined) {
    out.inputDomain = encodeEnum(INPUT_DOMAIN, params.inputDomain);
  }
  return out;
}

/** Renames `MethodParams` fields in a registry message to the wire's names. */
function wireMessage(message: string): string {
  return message.replace(
    /"(\w+)"/g,
    (all, name: string) =>
      name in WIRE_NAMES ? `"${WIRE_NAMES[name as keyof MethodParams]}"` : all,
  );
}

/**
 * Decodes and checks an explainer: the method is required and its
 * parameters must be ones it takes, in range.
 *
 * @param config the wire config (undefined when unset)
 * @param field the request field path, e.g. `explainer`
 * @returns the method, the given parameters and the resolved ones
 * @throws {RpcError} INVALID_ARGUMENT for a missing config, an unset or unknown method, or bad parameters
 */
export function decodeExplainer(
  config: ExplainerConfig | undefined,
  field: string,
): DecodedExplainer {
  if (config === undefined) throw invalid(field, "an explainer is required");
  const method = decodeEnum(METHOD, config.method, `${field}.method`);
  const params = decodeParams(config.params, `${field}.params`);
  try {
    return { method, params, resolved: resolveParams(method, params) };
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError) {
      throw new RpcError(Code.INVALID_ARGUMENT, wireMessage(err.message), {
        field: `${field}.params`,
        cause: err,
      });
    }
    throw err;
  }
}

/**
 * Decodes a target; unset means the default (`undefined`).
 *
 * @throws {RpcError} INVALID_ARGUMENT for an unset kind, a missing class
 *   index for CLASS, or a class index with another kind
 * @throws {OutOfRangeError} for a class index past the last class
 */
export function decodeTarget(
  target: Target | undefined,
  field: string,
): DomainTarget | undefined {
  if (target === undefined) return undefined;
  const kind = decodeEnum(TARGET_KIND, target.kind, `${field}.kind`);
  if (kind !== "class") {
    if (target.classIndex !== undefined) {
      throw invalid(
        `${field}.class_index`,
        `a class index is only used with TARGET_KIND_CLASS`,
      );
    }
    return { kind };
  }
  if (target.classIndex === undefined) {
    throw invalid(
      `${field}.class_index`,
      "TARGET_KIND_CLASS needs a class index",
    );
  }
  if (target.classIndex >= 10) {
    throw new OutOfRangeError(
      `Cannot explain class ${target.classIndex}: classes run from 0 to 9`,
      { field: `${field}.class_index` },
    );
  }
  return { kind, index: target.classIndex };
}

/** What {@linkcode encodeSummary} needs besides the domain summary. */
export interface SummaryContext {
  /** The method used. */
  readonly method: string;
  /** The parameters used, defaults filled in. */
  readonly params: Readonly<MethodParams>;
  /** The target used. */
  readonly target: DomainTarget;
  /** The input's true class, null when unknown. */
  readonly label: number | null;
}

/**
 * One explanation's summary for the wire.
 *
 * @param summary the domain summary
 * @param context method, parameters, target and label
 * @returns the wire summary
 */
export function encodeSummary(
  summary: DomainSummary,
  context: SummaryContext,
): ExplanationSummary {
  return ExplanationSummary.fromPartial({
    method: encodeEnum(METHOD, context.method as MethodName),
    params: encodeParams(context.params),
    targetKind: encodeEnum(TARGET_KIND, context.target.kind),
    targetClass: summary.targetClass,
    predictedClass: summary.predictedClass,
    ...(context.label === null ? {} : { trueLabel: context.label }),
    targetLogit: summary.targetLogit,
    startRelevance: summary.startRelevance,
    inputRelevance: summary.inputRelevance,
    absorbedRelevance: summary.absorbedRelevance,
    initialStateRelevance: summary.initialStateRelevance,
    conservationResidual: summary.residual,
    conservative: explainerFor(context.method).conservative,
  });
}

const PARAMETER_TYPES = {
  double: ParameterType.PARAMETER_TYPE_DOUBLE,
  integer: ParameterType.PARAMETER_TYPE_INTEGER,
  choice: ParameterType.PARAMETER_TYPE_CHOICE,
} as const;

/** A choice value → its proto enum value name, e.g. `"zero"` → `GATE_GRADIENT_ZERO`. */
function choiceName(parameter: keyof MethodParams, value: string): string {
  if (parameter === "gateGradient") {
    return GateGradient[encodeEnum(GATE_GRADIENT, value as "zero" | "keep")] ??
      value;
  }
  if (parameter === "inputDomain") {
    return InputDomain[
      encodeEnum(INPUT_DOMAIN, value as "bounded" | "real")
    ] ?? value;
  }
  return value;
}

function encodeParameter(p: MethodParameter, constraint: string) {
  return {
    name: WIRE_NAMES[p.name],
    description: p.description,
    type: PARAMETER_TYPES[p.type],
    defaultValue: p.defaultValue ?? 0,
    ...(p.min === undefined ? {} : { minValue: p.min }),
    minInclusive: p.minInclusive ?? false,
    ...(p.max === undefined ? {} : { maxValue: p.max }),
    maxInclusive: p.maxInclusive ?? false,
    choices: (p.choices ?? []).map((c) => choiceName(p.name, c)),
    defaultChoice: p.defaultChoice === undefined
      ? ""
      : choiceName(p.name, p.defaultChoice),
    constraint,
  };
}

/** The clauses of a method's constraint (e.g. "alpha - beta = 1; low < high") that name a parameter. */
function constraintOf(constraint: string, name: keyof MethodParams): string {
  const wire = WIRE_NAMES[name];
  return constraint.split(";").map((c) => c.trim()).filter((c) =>
    new RegExp(`\\b(${name}|${wire})\\b`).test(c)
  ).join("; ");
}

/**
 * One method of `listExplainers` for the wire.
 *
 * @param listing the registry's listing with defaults and validity
 * @returns the wire info
 */
export function encodeExplainerInfo(listing: ExplainerListing): ExplainerInfo {
  const { entry, defaults, validity } = listing;
  return ExplainerInfo.fromPartial({
    method: encodeEnum(METHOD, entry.method),
    key: entry.method,
    displayName: entry.displayName,
    description: entry.description,
    parameters: entry.parameters.map((p) =>
      encodeParameter(p, constraintOf(entry.constraint, p.name))
    ),
    defaults: encodeParams(defaults),
    valid: validity.valid,
    invalidReason: validity.valid ? "" : wireMessage(validity.reason),
  });
}
