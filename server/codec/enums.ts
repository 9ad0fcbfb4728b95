/**
 * The proto enums and their domain strings, one table each, and the one
 * decoder that refuses `*_UNSPECIFIED` and unknown numbers with
 * INVALID_ARGUMENT naming the field.
 *
 * @module
 */
import type {
  Architecture as DomainArchitecture,
  BiasMode as DomainBiasMode,
  DropoutMode as DomainDropoutMode,
  MethodName,
  NegativeRelevance as DomainNegative,
  ProblemKind,
} from "../../models/mod.ts";
import type { DatasetName } from "../datasets/mod.ts";
import type { JobState as DomainJobState } from "../storage/mod.ts";
import { RpcError } from "../errors.ts";
import { Code } from "../errors.ts";
import {
  Architecture,
  BiasMode,
  Dataset,
  DropoutMode,
  Problem,
  SplitPart,
} from "../../proto/gen/rnnexplain/v1/types.ts";
import {
  GateGradient,
  InputDomain,
  Method,
  TargetKind,
} from "../../proto/gen/rnnexplain/v1/explainer.ts";
import { JobState } from "../../proto/gen/rnnexplain/v1/training_service.ts";
import { NegativeRelevance } from "../../proto/gen/rnnexplain/v1/evaluation_service.ts";

/** A two-way table between a proto enum's numbers and domain strings. */
export interface EnumTable<D extends string> {
  /** The proto enum's name, for messages. */
  readonly name: string;
  /** Proto number → domain value (UNSPECIFIED excluded). */
  readonly toDomain: ReadonlyMap<number, D>;
  /** Domain value → proto number. */
  readonly toWire: ReadonlyMap<D, number>;
}

function table<D extends string>(
  name: string,
  pairs: readonly (readonly [number, D])[],
): EnumTable<D> {
  return {
    name,
    toDomain: new Map(pairs),
    toWire: new Map(pairs.map(([wire, domain]) => [domain, wire])),
  };
}

/** Architecture ↔ `models/` architecture keys. */
export const ARCHITECTURE: EnumTable<DomainArchitecture> = table(
  "Architecture",
  [
    [Architecture.ARCHITECTURE_SHALLOW, "shallow"],
    [Architecture.ARCHITECTURE_DEEP, "deep"],
    [Architecture.ARCHITECTURE_DEEP_V2, "deep_v2"],
    [Architecture.ARCHITECTURE_CONV_DEEP, "conv_deep"],
    [Architecture.ARCHITECTURE_CONV_PLUS_DEEP, "conv_plus_deep"],
    [Architecture.ARCHITECTURE_R_LSTM, "r_lstm"],
    [Architecture.ARCHITECTURE_CONV_R_LSTM, "conv_r_lstm"],
    [Architecture.ARCHITECTURE_CONV_PLUS_R_LSTM, "conv_plus_r_lstm"],
  ],
);

/** DropoutMode ↔ `models/` dropout modes. */
export const DROPOUT: EnumTable<DomainDropoutMode> = table("DropoutMode", [
  [DropoutMode.DROPOUT_MODE_NONE, "none"],
  [DropoutMode.DROPOUT_MODE_NAIVE, "naive"],
  [DropoutMode.DROPOUT_MODE_STATIONARY, "stationary"],
]);

/** BiasMode ↔ `models/` bias modes. */
export const BIAS: EnumTable<DomainBiasMode> = table("BiasMode", [
  [BiasMode.BIAS_MODE_SOFTPLUS, "softplus"],
  [BiasMode.BIAS_MODE_NONE, "none"],
]);

/** Dataset ↔ `server/datasets` names. */
export const DATASET: EnumTable<DatasetName> = table("Dataset", [
  [Dataset.DATASET_MNIST, "mnist"],
  [Dataset.DATASET_FASHION_MNIST, "fashion_mnist"],
]);

/** Problem ↔ `models/` problem kinds. */
export const PROBLEM: EnumTable<ProblemKind> = table("Problem", [
  [Problem.PROBLEM_SEQUENCE, "sequence"],
  [Problem.PROBLEM_MAJORITY, "majority"],
]);

/** SplitPart ↔ the compute pool's part names. */
export const SPLIT_PART: EnumTable<"train" | "test"> = table("SplitPart", [
  [SplitPart.SPLIT_PART_TRAIN, "train"],
  [SplitPart.SPLIT_PART_TEST, "test"],
]);

/** Method ↔ registry keys. */
export const METHOD: EnumTable<MethodName> = table("Method", [
  [Method.METHOD_SENSITIVITY, "sensitivity"],
  [Method.METHOD_GUIDED_BACKPROP, "guided_backprop"],
  [Method.METHOD_GRADIENT_X_INPUT, "gradient_x_input"],
  [Method.METHOD_LRP_ALPHA_BETA, "lrp_alpha_beta"],
  [Method.METHOD_LRP_EPSILON, "lrp_epsilon"],
  [Method.METHOD_DEEP_TAYLOR, "deep_taylor"],
  [Method.METHOD_INTEGRATED_GRADIENTS, "integrated_gradients"],
  [Method.METHOD_SMOOTHGRAD, "smoothgrad"],
]);

/** TargetKind ↔ `models/` target kinds. */
export const TARGET_KIND: EnumTable<"true_label" | "predicted" | "class"> =
  table("TargetKind", [
    [TargetKind.TARGET_KIND_TRUE_LABEL, "true_label"],
    [TargetKind.TARGET_KIND_PREDICTED, "predicted"],
    [TargetKind.TARGET_KIND_CLASS, "class"],
  ]);

/** GateGradient ↔ guided backprop's gate choice. */
export const GATE_GRADIENT: EnumTable<"zero" | "keep"> = table(
  "GateGradient",
  [
    [GateGradient.GATE_GRADIENT_ZERO, "zero"],
    [GateGradient.GATE_GRADIENT_KEEP, "keep"],
  ],
);

/** InputDomain ↔ deep Taylor's input domain. */
export const INPUT_DOMAIN: EnumTable<"bounded" | "real"> = table(
  "InputDomain",
  [
    [InputDomain.INPUT_DOMAIN_BOUNDED, "bounded"],
    [InputDomain.INPUT_DOMAIN_REAL, "real"],
  ],
);

/** JobState ↔ the registry's job states. */
export const JOB_STATE: EnumTable<DomainJobState> = table("JobState", [
  [JobState.JOB_STATE_QUEUED, "QUEUED"],
  [JobState.JOB_STATE_RUNNING, "RUNNING"],
  [JobState.JOB_STATE_SUCCEEDED, "SUCCEEDED"],
  [JobState.JOB_STATE_FAILED, "FAILED"],
  [JobState.JOB_STATE_CANCELLED, "CANCELLED"],
  [JobState.JOB_STATE_INTERRUPTED, "INTERRUPTED"],
]);

/** NegativeRelevance ↔ the metrics' negative handling. */
export const NEGATIVE: EnumTable<DomainNegative> = table(
  "NegativeRelevance",
  [
    [NegativeRelevance.NEGATIVE_RELEVANCE_CLIP, "clip"],
    [NegativeRelevance.NEGATIVE_RELEVANCE_KEEP, "keep"],
  ],
);

/**
 * Decodes a required enum field.
 *
 * @param t the enum's table
 * @param value the wire number
 * @param field the request field path, for the error
 * @returns the domain value
 * @throws {RpcError} INVALID_ARGUMENT for `*_UNSPECIFIED` or an unknown number
 */
export function decodeEnum<D extends string>(
  t: EnumTable<D>,
  value: number,
  field: string,
): D {
  const domain = t.toDomain.get(value);
  if (domain !== undefined) return domain;
  throw new RpcError(
    Code.INVALID_ARGUMENT,
    value === 0
      ? `Cannot read ${field}: ${t.name} is required, found UNSPECIFIED`
      : `Cannot read ${field}: ${value} is not a known ${t.name}`,
    { field },
  );
}

/**
 * Decodes an optional enum field: `*_UNSPECIFIED` means `fallback`.
 *
 * @throws {RpcError} INVALID_ARGUMENT for an unknown number
 */
export function decodeOptionalEnum<D extends string, F>(
  t: EnumTable<D>,
  value: number | undefined,
  field: string,
  fallback: F,
): D | F {
  if (value === undefined || value === 0) return fallback;
  return decodeEnum(t, value, field);
}

/**
 * Encodes a domain value.
 *
 * @returns the wire number; 0 (UNSPECIFIED) for a value the table lacks
 */
export function encodeEnum<D extends string>(
  t: EnumTable<D>,
  value: D,
): number {
  return t.toWire.get(value) ?? 0;
}

/** The proto enum value name of a domain value, e.g. `GATE_GRADIENT_ZERO`. */
export function enumValueName<D extends string>(
  t: EnumTable<D>,
  names: Record<number, string>,
  value: D,
): string {
  return names[encodeEnum(t, value)] ?? String(value);
}
