/**
 * LRP-ε, and LRP-0 as its ε = 0 case.
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

/** Options of {@linkcode Epsilon}. */
export interface EpsilonOptions {
  /**
   * ε ≥ 0, added to each denominator with the sign of `z + b`
   * (`sign⁺(0) = +1`). ε = 0 is LRP-0; a zero denominator then passes no
   * relevance and its share is absorbed.
   * @default 1e-9 (the thesis code's DIVISION_ADJUSTMENT)
   */
  epsilon?: number;
}

/**
 * LRP-ε: `R_i = Σ_j x_i w_ij R_j / (z_j + b_j + ε·sign⁺(z_j + b_j))` with
 * `z_j = Σ_i x_i w_ij`. The effective bias is part of the denominator, so its
 * share `s_j·b_j` and the stabiliser's share `s_j·ε·sign⁺(·)` are absorbed.
 *
 * Meant for any layer whose inputs have no particular domain, and, with
 * ε = 0 and no bias, for checking that LRP equals gradient × input on a ReLU
 * network (Ancona et al. 2018). Works on dense, conv2d and avgPool maps.
 *
 * @see Bach et al. 2015, "On pixel-wise explanations for non-linear classifier decisions by layer-wise relevance propagation"
 * @param options ε
 * @returns the rule
 * @throws {RangeError} if ε is negative or not finite
 */
export function Epsilon(options: EpsilonOptions = {}): Rule {
  const epsilon = options.epsilon ?? 1e-9;
  checkNonNegative("Epsilon", "epsilon", epsilon);
  return Object.freeze({
    name: "Epsilon",
    params: Object.freeze({ epsilon }),
    needsWeight: false,
    usesBias: true,
    terms(context: RuleContext): Term[] {
      return [{ input: context.input, weight: context.weight, coefficient: 1 }];
    },
    normalize(
      relevance: tf.Tensor,
      outputs: tf.Tensor[],
      context: RuleContext,
    ): Normalized {
      if (context.activeOnly && epsilon > 0) {
        // R ≠ 0 only where z + b > 0, where sign⁺ is +1: the stabiliser is
        // +ε, not signed per element. relu(z + b) equals z + b there and
        // keeps the denominator ≥ ε where R = 0 (quotient 0 either way).
        const z = outputs[0] as tf.Tensor;
        const on = tf.relu(context.bias === null ? z : tf.add(z, context.bias));
        const quotient = tf.div(relevance, tf.add(on, epsilon));
        const shift = context.bias === null
          ? tf.scalar(epsilon)
          : tf.add(context.bias, epsilon);
        return { gradients: [quotient], absorbed: tf.mul(quotient, shift) };
      }
      const { quotient, absorbed } = divideStabilized(
        relevance,
        outputs[0] as tf.Tensor,
        epsilon,
        context.bias,
      );
      return { gradients: [quotient], absorbed };
    },
  });
}
