/**
 * The proportional z-rule with a fixed stabiliser, for pooling.
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

/** Options of {@linkcode Norm}. */
export interface NormOptions {
  /**
   * Added to each denominator with the sign of z (`sign⁺(0) = +1`); on
   * pooled ReLU outputs z ≥ 0, so this is `+stabilizer`. An all-zero window
   * passes no relevance: its R is absorbed.
   * @default 1e-9 (the thesis code's DIVISION_ADJUSTMENT)
   */
  stabilizer?: number;
}

/**
 * The pooling rule: `R_in = x ⊙ Pᵀ(R / (P x + stabilizer·sign⁺(P x)))`, the
 * proportional z-rule through a linear map P without bias. Through the
 * thesis's average pooling each input of a window gets the share
 * `x_i / Σ_window x`, whatever the pooling scale (up to the stabiliser).
 *
 * Meant for the avgPool layers of the convolutional models (thesis-code
 * §3.3 (g)); it also accepts dense and conv2d maps (a bias, if given, is
 * ignored).
 *
 * @see Bach et al. 2015; zennit's `Norm` rule
 * @param options the stabiliser
 * @returns the rule
 * @throws {RangeError} if the stabiliser is negative or not finite
 */
export function Norm(options: NormOptions = {}): Rule {
  const stabilizer = options.stabilizer ?? 1e-9;
  checkNonNegative("Norm", "stabilizer", stabilizer);
  return Object.freeze({
    name: "Norm",
    params: Object.freeze({ stabilizer }),
    needsWeight: false,
    usesBias: false,
    terms(context: RuleContext): Term[] {
      return [{ input: context.input, weight: context.weight, coefficient: 1 }];
    },
    normalize(
      relevance: tf.Tensor,
      outputs: tf.Tensor[],
      context: RuleContext,
    ): Normalized {
      if (context.activeOnly && stabilizer > 0) {
        // R ≠ 0 only where z > 0 (sign⁺ = +1); relu(z) keeps the
        // denominator ≥ ε where R = 0 (quotient 0 either way).
        const quotient = tf.div(
          relevance,
          tf.add(tf.relu(outputs[0] as tf.Tensor), stabilizer),
        );
        return {
          gradients: [quotient],
          absorbed: quotient,
          absorbedScale: stabilizer,
        };
      }
      const { quotient, absorbed } = divideStabilized(
        relevance,
        outputs[0] as tf.Tensor,
        stabilizer,
      );
      return { gradients: [quotient], absorbed };
    },
  });
}
