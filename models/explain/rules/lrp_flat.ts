/**
 * The flat rule: relevance spread uniformly over each output's receptive
 * field.
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

/** Options of {@linkcode Flat}. */
export interface FlatOptions {
  /**
   * Added to the denominator (the receptive-field size, ≥ 1).
   * @default 1e-9 (the thesis code's DIVISION_ADJUSTMENT)
   */
  stabilizer?: number;
}

/**
 * The flat rule: `R_i = Σ_j 1[i → j] / (Σ_i' 1[i' → j] + ε) · R_j`, where
 * `i → j` means input i is connected to output j (every pair for dense, the
 * in-bounds window positions for conv2d). Inputs and weight values do not
 * enter. Biases are ignored.
 *
 * Meant for input layers where neither the input domain nor the weights
 * should shape the explanation (a baseline for the w² and z^B rules).
 *
 * @see Lapuschkin et al. 2019, "Unmasking Clever Hans predictors"; zennit's `Flat` rule
 * @param options the stabiliser
 * @returns the rule, for dense and conv2d maps
 * @throws {RangeError} if the stabiliser is negative or not finite
 */
export function Flat(options: FlatOptions = {}): Rule {
  const stabilizer = options.stabilizer ?? 1e-9;
  checkNonNegative("Flat", "stabilizer", stabilizer);
  return Object.freeze({
    name: "Flat",
    params: Object.freeze({ stabilizer }),
    needsWeight: true,
    usesBias: false,
    terms(context: RuleContext): Term[] {
      const ones = tf.ones([1, ...context.input.shape.slice(1)]);
      const weight = tf.onesLike(context.weight as tf.Tensor);
      return [{ input: ones, weight, coefficient: 1 }];
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
