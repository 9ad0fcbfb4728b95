/**
 * The w² rule of deep Taylor decomposition for unbounded real inputs.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  checkNonNegative,
  divideStabilized,
  type Normalized,
  type Rule,
  type RuleContext,
  type Term,
} from "../core.ts";

/** Options of {@linkcode WSquare}. */
export interface WSquareOptions {
  /**
   * Added to the denominator `Σ_i w_ij²` (≥ 0); an output with no non-zero
   * weight then absorbs its R_j.
   * @default 1e-9 (the thesis code's DIVISION_ADJUSTMENT)
   */
  stabilizer?: number;
}

/**
 * The w² rule (thesis eq. 2.58, Table 2.1):
 * `R_i = Σ_j w_ij² / (Σ_i' w_i'j² + ε) · R_j`. The input values do not enter;
 * in conv2d form, `Σ_i'` runs over the positions a window actually covers
 * (the zero padding is not an input).
 *
 * Meant for a first layer whose inputs are unbounded reals (a_j ∈ ℝ). Biases
 * are ignored. The thesis code has no w² rule; it is here for Table 2.1.
 *
 * @see Montavon et al. 2017, "Explaining nonlinear classification decisions with deep Taylor decomposition"
 * @param options the stabiliser
 * @returns the rule, for dense and conv2d maps
 * @throws {RangeError} if the stabiliser is negative or not finite
 */
export function WSquare(options: WSquareOptions = {}): Rule {
  const stabilizer = options.stabilizer ?? 1e-9;
  checkNonNegative("WSquare", "stabilizer", stabilizer);
  return Object.freeze({
    name: "WSquare",
    params: Object.freeze({ stabilizer }),
    needsWeight: true,
    usesBias: false,
    terms(context: RuleContext): Term[] {
      const w = context.weight as tf.Tensor;
      // One all-ones sample: Σ_i w_ij² does not depend on the batch.
      const ones = tf.ones([1, ...context.input.shape.slice(1)]);
      return [{ input: ones, weight: tf.square(w), coefficient: 1 }];
    },
    normalize(relevance: tf.Tensor, outputs: tf.Tensor[]): Normalized {
      const p = divideStabilized(
        relevance,
        outputs[0] as tf.Tensor,
        stabilizer,
      );
      return { gradients: [p.quotient], absorbed: p.absorbed };
    },
  });
}
