/**
 * The relevance methods as attributors: `(model, input, options) =>
 * Promise<Explanation>`, like the gradient methods, so that the registry can
 * list both kinds in one table.
 *
 * @module
 */
import { PreconditionError } from "../../errors.ts";
import type { RnnModel } from "../../arch/rnn_model.ts";
import {
  type Composite,
  createComposite,
  type RelevanceMethod,
} from "../composites.ts";
import type {
  ExplainInput,
  ExplainOptions,
  Explanation,
} from "../explanation.ts";
import { relevancePass } from "./relevance_pass.ts";

/** {@linkcode ExplainOptions} plus the chunk size of the relevance pass. */
export interface RelevanceOptions extends ExplainOptions {
  /**
   * Most sequences traced at once; larger requests run in chunks.
   * @default 256
   */
  readonly maxBatch?: number;
}

/**
 * Checks that every input value lies in [low, high], the domain of the zᴮ
 * rule (and of the mixed rule's pixel part), before any work.
 *
 * @param composite the composite (its params hold the bounds and the input domain)
 * @param x the input values
 * @throws {PreconditionError} naming the first value outside the bounds
 */
export function checkPixelDomain(composite: Composite, x: Float32Array): void {
  const { low, high, inputDomain } = composite.params;
  if (inputDomain !== "bounded" || low === undefined || high === undefined) {
    return;
  }
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!(v >= low && v <= high)) {
      throw new PreconditionError(
        `Cannot explain with "${composite.method}": x[${i}] is ${v}, outside the zᴮ bounds [${low}, ${high}] (set low and high to the data's range, or inputDomain "real")`,
      );
    }
  }
}

async function explainWith(
  method: RelevanceMethod,
  model: RnnModel,
  input: ExplainInput,
  options: RelevanceOptions,
): Promise<Explanation> {
  const composite = createComposite(method, options.params);
  checkPixelDomain(composite, input.x);
  const { relevance, summaries } = await relevancePass(
    model,
    input,
    composite,
    options,
  );
  return { method, params: composite.params, relevance, summaries };
}

/**
 * LRP-αβ through time (thesis eq. 2.34; thesis-code §3.4): αβ on hidden
 * layers, zᴮ on pixels, the mixed rule on `[pixels ; states]`, the R-LSTM
 * cell split. Start: relu(target logit).
 *
 * @param model the network
 * @param input N sequences [N, T, rows · columns]
 * @param options target, `params` (alpha, beta, low, high, stabilizer,
 *   inputDomain), signal, `onStep`, `maxBatch`
 * @returns relevance [N, T, rows · columns] and per-sample summaries
 * @throws {RangeError} if α − β ≠ 1, β < 0, low ≥ high or the stabiliser is negative
 * @throws {PreconditionError} if a pixel lies outside [low, high], the
 *   architecture has a layer without a rule, or the target needs missing labels
 */
export function lrpAlphaBeta(
  model: RnnModel,
  input: ExplainInput,
  options: RelevanceOptions = {},
): Promise<Explanation> {
  return explainWith("lrp_alpha_beta", model, input, options);
}

/**
 * LRP-ε through time: Epsilon(ε) on every layer, bias shares absorbed, the
 * R-LSTM cell split. ε = 0 is LRP-0. Start: relu(target logit).
 *
 * @param model the network
 * @param input N sequences [N, T, rows · columns]
 * @param options target, `params.epsilon`, signal, `onStep`, `maxBatch`
 * @returns relevance [N, T, rows · columns] and per-sample summaries
 * @throws {RangeError} if ε is negative
 * @throws {PreconditionError} if the target needs missing labels
 */
export function lrpEpsilon(
  model: RnnModel,
  input: ExplainInput,
  options: RelevanceOptions = {},
): Promise<Explanation> {
  return explainWith("lrp_epsilon", model, input, options);
}

/**
 * Deep Taylor decomposition through time (thesis Table 2.1): z⁺ on ReLU
 * inputs, zᴮ on bounded pixels (w² with `inputDomain: "real"`), the mixed
 * rule on `[pixels ; states]`, the R-LSTM cell split. Start: relu(target
 * logit).
 *
 * @param model the network
 * @param input N sequences [N, T, rows · columns]
 * @param options target, `params` (low, high, stabilizer, inputDomain),
 *   signal, `onStep`, `maxBatch`
 * @returns relevance [N, T, rows · columns] and per-sample summaries
 * @throws {RangeError} if low ≥ high or the stabiliser is negative
 * @throws {PreconditionError} if a pixel lies outside [low, high], the
 *   architecture has a layer without a rule (w² on a mixed layer), or the
 *   target needs missing labels
 */
export function deepTaylor(
  model: RnnModel,
  input: ExplainInput,
  options: RelevanceOptions = {},
): Promise<Explanation> {
  return explainWith("deep_taylor", model, input, options);
}
