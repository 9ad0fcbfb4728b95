/**
 * The single entry point of explanations: {@linkcode explain} validates the
 * parameters against the registry, checks the input and the method's
 * preconditions before any work, and dispatches to the method's attributor
 * (the LRP / deep Taylor relevance passes in `lrp/` or the gradient methods
 * in `gradient/`).
 *
 * @module
 */
import { type ArchitectureGraph, buildGraph } from "../arch/graph.ts";
import type { RnnModel } from "../arch/rnn_model.ts";
import {
  type Architecture,
  createSpec,
  type ModelSpec,
  NUM_CLASSES,
} from "../arch/spec.ts";
import { PreconditionError } from "../errors.ts";
import { checkExplainInput } from "./check_input.ts";
import {
  type ExplainInput,
  type ExplainOptions,
  type Explanation,
  type MethodParams,
  resolveTargets,
  type Target,
} from "./explanation.ts";
import {
  defaultParams,
  type ExplainerEntry,
  explainerFor,
  EXPLAINERS,
  type MethodParameter,
  type Validity,
} from "./registry.ts";

function fail(method: string, reason: string, Kind = RangeError): never {
  throw new Kind(`Cannot explain with "${method}": ${reason}`);
}

function checkValue(method: string, p: MethodParameter, value: unknown): void {
  if (p.type === "choice") {
    if (typeof value !== "string" || !p.choices?.includes(value)) {
      fail(
        method,
        `${p.name} must be one of ${
          p.choices?.map((c) => `"${c}"`).join(", ")
        }: got ${JSON.stringify(value)}`,
        TypeError,
      );
    }
    return;
  }
  if (typeof value !== "number") {
    fail(method, `${p.name} must be a number: got ${typeof value}`, TypeError);
  }
  if (!Number.isFinite(value)) {
    fail(method, `${p.name} must be finite: got ${value}`);
  }
  if (p.type === "integer" && !Number.isInteger(value)) {
    fail(method, `${p.name} must be an integer: got ${value}`);
  }
  if (
    p.min !== undefined && (p.minInclusive ? value < p.min : value <= p.min)
  ) {
    fail(
      method,
      `${p.name} must be ${p.minInclusive ? "≥" : ">"} ${p.min}: got ${value}`,
    );
  }
  if (
    p.max !== undefined && (p.maxInclusive ? value > p.max : value >= p.max)
  ) {
    fail(
      method,
      `${p.name} must be ${p.maxInclusive ? "≤" : "<"} ${p.max}: got ${value}`,
    );
  }
}

/**
 * Checks a method's parameters against the registry and fills in the
 * defaults. For LRP-αβ, one of α, β given sets the other (α − β = 1).
 *
 * @param method the registry key
 * @param params the parameters as given
 * @returns every parameter of the method, defaults filled in
 * @throws {RangeError} if the method is unknown, a parameter is one the
 *   method does not use, out of range, or α − β ≠ 1, or low ≥ high
 * @throws {TypeError} if a parameter has the wrong type or an unknown choice
 */
export function resolveParams(
  method: string,
  params: Readonly<MethodParams> = {},
): Readonly<MethodParams> {
  const entry = explainerFor(method);
  const given = Object.entries(params).filter(([, v]) => v !== undefined);
  for (const [name, value] of given) {
    const p = entry.parameters.find((q) => q.name === name);
    if (p === undefined) {
      const takes = entry.parameters.map((q) => q.name).join(", ");
      fail(
        method,
        `it does not use "${name}" (${
          takes === "" ? "it takes no parameters" : `it takes ${takes}`
        })`,
      );
    }
    checkValue(method, p, value);
  }
  const out: Record<string, unknown> = {
    ...defaultParams(method),
    ...Object.fromEntries(given),
  };
  if (method === "lrp_alpha_beta") {
    if (params.alpha !== undefined && params.beta === undefined) {
      out.beta = params.alpha - 1;
    }
    if (params.alpha === undefined && params.beta !== undefined) {
      out.alpha = params.beta + 1;
    }
    const alpha = out.alpha as number;
    const beta = out.beta as number;
    if (Math.abs(alpha - beta - 1) > 1e-9) {
      fail(
        method,
        `alpha - beta must be 1: got alpha ${alpha} and beta ${beta}`,
      );
    }
  }
  if (
    "low" in out && "high" in out &&
    !((out.low as number) < (out.high as number))
  ) {
    fail(
      method,
      `low must be below high: got low ${out.low} and high ${out.high}`,
    );
  }
  return Object.freeze(out) as Readonly<MethodParams>;
}

function checkTarget(target: Target, input: ExplainInput): void {
  const kinds = ["true_label", "predicted", "class"];
  if (
    typeof target !== "object" || target === null ||
    !kinds.includes(target.kind)
  ) {
    throw new TypeError(
      `Cannot explain target: kind must be one of "true_label", "predicted", "class": got ${
        JSON.stringify((target as { kind?: unknown } | null)?.kind)
      }`,
    );
  }
  // The logits are only read for the predicted class: zeros stand in here.
  if (target.kind !== "predicted") {
    resolveTargets(
      new Float32Array(input.count * NUM_CLASSES),
      input.count,
      target,
      input.labels,
    );
  }
}

/**
 * Explains `input.count` sequences with one method, in one batched pass.
 * Checks everything before any tensor work: the parameters (defaults filled
 * in and echoed in the result), the input, the target, the method's
 * validity for the architecture, and (zᴮ) that every pixel lies within
 * [low, high].
 *
 * @param model the network
 * @param input [count, T, rows · columns] and, for the true-label target, labels
 * @param method the registry key, e.g. `"deep_taylor"`
 * @param options target (default: the true label), `params`, abort signal,
 *   `onStep` (each step's relevance from T − 1 down to 0)
 * @returns relevance [count, T, rows · columns] and one summary per sample
 * @throws {RangeError} for an unknown method, a parameter out of range or not
 *   used by the method (α − β ≠ 1, ε < 0, low ≥ high, steps < 1, …), or a
 *   malformed input
 * @throws {TypeError} for a parameter or target of the wrong type
 * @throws {PreconditionError} if the method is invalid for the architecture,
 *   a pixel lies outside the zᴮ bounds, or the true label is asked for
 *   without labels
 * @throws {OutOfRangeError} if an explicit target class is past the last class
 * @throws the signal's reason when aborted; nothing leaks
 * @example
 * ```ts
 * const explanation = await explain(model, { x, count: 1, labels }, "lrp_alpha_beta", {
 *   params: { alpha: 1.5, beta: 0.5 },
 *   onStep: ({ step, sums }) => send(step, sums),
 * });
 * ```
 */
export async function explain(
  model: RnnModel,
  input: ExplainInput,
  method: string,
  options: ExplainOptions = {},
): Promise<Explanation> {
  const entry = explainerFor(method);
  const params = resolveParams(method, options.params);
  checkExplainInput(model, input);
  checkTarget(options.target ?? { kind: "true_label" }, input);
  const validity = entry.validity(model.graph, params);
  if (!validity.valid) throw new PreconditionError(validity.reason);
  return await entry.attributor(model, input, { ...options, params });
}

/** Something a method's validity can be checked against. */
export type ExplainSubject = ArchitectureGraph | ModelSpec | Architecture;

function graphOf(subject: ExplainSubject): ArchitectureGraph {
  if (typeof subject === "string") {
    return buildGraph(createSpec({ architecture: subject }));
  }
  return "stepLayers" in subject ? subject : buildGraph(subject);
}

/**
 * Whether a method is defined for an architecture (see the table in
 * `registry.ts`).
 *
 * @param method the registry key
 * @param subject a graph, a spec, or an architecture (with default sizes)
 * @param params the parameters (defaults filled in)
 * @returns valid, or invalid with the reason
 * @throws {RangeError|TypeError} for an unknown method or invalid parameters or spec
 */
export function explainerValidity(
  method: string,
  subject: ExplainSubject,
  params: Readonly<MethodParams> = {},
): Validity {
  return explainerFor(method).validity(
    graphOf(subject),
    resolveParams(method, params),
  );
}

/** One method as `ListExplainers` reports it. */
export interface ExplainerListing {
  readonly entry: ExplainerEntry;
  /** Every parameter with its default. */
  readonly defaults: Readonly<MethodParams>;
  readonly validity: Validity;
}

/**
 * Lists every method with its defaults and its validity for a subject (with
 * default parameters); without a subject every method is valid.
 *
 * @param subject a graph, a spec, or an architecture
 * @returns one listing per method, in the API's order
 * @throws {RangeError|TypeError} if the spec is invalid
 */
export function listExplainers(subject?: ExplainSubject): ExplainerListing[] {
  const graph = subject === undefined ? undefined : graphOf(subject);
  return EXPLAINERS.map((entry) => {
    const defaults = defaultParams(entry.method);
    return {
      entry,
      defaults,
      validity: graph === undefined
        ? { valid: true }
        : entry.validity(graph, defaults),
    };
  });
}
