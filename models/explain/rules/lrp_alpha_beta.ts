/**
 * LRP-αβ in the standard two-normalisation form, and z⁺ as its α = 1, β = 0
 * case.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  checkNonNegative,
  divideStabilized,
  negativePart,
  type Normalized,
  positiveMask,
  type Rule,
  type RuleContext,
  type Term,
} from "../core.ts";

/** Options of {@linkcode AlphaBeta}. */
export interface AlphaBetaOptions {
  /** Weight α ≥ 1 of the positive (excitatory) part. */
  alpha: number;
  /** Weight β ≥ 0 of the negative (inhibitory) part; α − β must be 1. */
  beta: number;
  /**
   * Added to each part's denominator with the part's sign (`+` for z⁺,
   * `−` for z⁻).
   * @default 1e-9 (the thesis code's DIVISION_ADJUSTMENT)
   */
  stabilizer?: number;
}

/**
 * Checks that α − β = 1 with α ≥ 1 and β ≥ 0 (up to 1e-9 of rounding, so
 * that `{ alpha: 1.2, beta: 0.2 }` passes).
 *
 * @param rule the rule name for the message
 * @param alpha α
 * @param beta β
 * @throws {RangeError} if the constraint fails or a value is not finite
 */
export function checkAlphaBeta(
  rule: string,
  alpha: number,
  beta: number,
): void {
  checkNonNegative(rule, "beta", beta);
  if (!Number.isFinite(alpha) || Math.abs(alpha - beta - 1) > 1e-9) {
    throw new RangeError(
      `Cannot create rule "${rule}": alpha - beta must be 1, got alpha ${alpha} and beta ${beta}`,
    );
  }
}

/**
 * The divide step of β > 0 where R ≠ 0 only on units that are on (the
 * caller's `activeOnly`), in fewer element-wise passes than the general
 * form (15 instead of 21 over a ReLU layer's outputs, the conv layers'
 * largest cost after the convolutions): where R ≠ 0, z⁺ ≥ z > 0, so the
 * positive part is never empty there and "both parts non-empty" reduces to
 * z⁻ < 0; where R = 0 every share is 0 whatever the masks say. With
 * `u = relu(−z⁻) = −z⁻` and `t = β R [z⁻ < 0]`:
 * `s⁺ = (R + t) / (relu(z⁺) + ε)`, and the negative term's
 * `s⁻ = −t / (z⁻ − ε) = t / (u + ε)`; absorbed `ε s⁺ − ε s⁻`. Same values as
 * the general form (tested against the replica).
 */
function activeShares(
  relevance: tf.Tensor,
  zPlus: tf.Tensor,
  zMinus: tf.Tensor,
  beta: number,
  stabilizer: number,
): Normalized {
  const u = tf.relu(tf.neg(zMinus));
  const t = tf.mul(tf.mul(relevance, beta), positiveMask(u));
  const plus = tf.div(
    tf.add(relevance, t),
    tf.add(tf.relu(zPlus), stabilizer),
  );
  const minus = tf.div(t, tf.add(u, stabilizer));
  return {
    gradients: [plus, minus],
    absorbed: tf.sub(plus, minus),
    absorbedScale: stabilizer,
  };
}

function rule(
  name: string,
  alpha: number,
  beta: number,
  stabilizer: number,
): Rule {
  return Object.freeze({
    name,
    params: Object.freeze({ alpha, beta, stabilizer }),
    needsWeight: true,
    usesBias: false,
    terms(context: RuleContext): Term[] {
      const w = context.weight as tf.Tensor;
      const positive = {
        input: context.input,
        weight: context.derive("w+", () => tf.relu(w)),
      };
      if (beta === 0) return [{ ...positive, coefficient: 1 }];
      const negative = {
        input: context.input,
        weight: context.derive("w-", () => negativePart(w)),
        coefficient: 1 as const,
      };
      if (context.output === null || !context.activeOnly) {
        return [{ ...positive, coefficient: 1 }, negative];
      }
      // z⁺ = z − z⁻ from the given z = W·x: one map instead of two. Where
      // R ≠ 0 the unit is on, z > 0, so z⁺ ≥ z > 0 and |z⁻| < z⁺: the
      // difference loses no precision there (z⁻, summed directly, stays
      // exact, also exactly 0 for an empty negative part). Where R = 0 the
      // quotients are 0 whatever z⁺ is.
      const zMinus = context.layer.forward(negative.input, negative.weight);
      return [
        {
          ...positive,
          coefficient: 1,
          output: tf.sub(context.output, zMinus),
        },
        { ...negative, output: zMinus },
      ];
    },
    normalize(
      relevance: tf.Tensor,
      outputs: tf.Tensor[],
      context: RuleContext,
    ): Normalized {
      const zPlus = outputs[0] as tf.Tensor;
      // activeOnly: R ≠ 0 only where the unit is on, z > 0, so z⁺ ≥ z > 0
      // (inputs ≥ 0), and a negative share only where z⁻ < 0: the
      // stabilisers' signs are known (+ε on z⁺, −ε on z⁻). Elsewhere the
      // share is 0; taking the part's own sign (relu(z⁺), min(z⁻, 0))
      // keeps every denominator ≥ ε away from 0 there too, without
      // divNoNan's slow comparison.
      const divide = (share: tf.Tensor, z: tf.Tensor, sign: 1 | -1) => {
        if (!context.activeOnly) {
          return divideStabilized(share, z, stabilizer);
        }
        const part = sign === 1 ? tf.relu(z) : negativePart(z);
        const stab = sign * stabilizer;
        const quotient = tf.div(share, tf.add(part, stab));
        return { quotient, absorbed: tf.mul(quotient, stab) };
      };
      if (beta === 0) {
        if (context.activeOnly) {
          // As divide(): the absorbed share is the quotient times +ε,
          // scaled after the engine's per-sample sums.
          const quotient = tf.div(
            relevance,
            tf.add(tf.relu(zPlus), stabilizer),
          );
          return {
            gradients: [quotient],
            absorbed: quotient,
            absorbedScale: stabilizer,
          };
        }
        const p = divide(relevance, zPlus, 1);
        return { gradients: [p.quotient], absorbed: p.absorbed };
      }
      const zMinus = outputs[1] as tf.Tensor;
      if (context.activeOnly && stabilizer > 0) {
        return activeShares(relevance, zPlus, zMinus, beta, stabilizer);
      }
      // Both parts non-empty: α and −β. Otherwise the neuron falls back to
      // z⁺ (share 1 on the positive part, 0 on the negative part): an empty
      // negative part hands its β share to the positive part, and an empty
      // positive part makes z⁺'s denominator 0 + ε, so all of R_j is absorbed.
      const both = tf.mul(positiveMask(zPlus), positiveMask(tf.neg(zMinus)));
      const betaShare = tf.mul(relevance, tf.mul(both, beta));
      const p = divide(tf.add(relevance, betaShare), zPlus, 1);
      const n = divide(tf.neg(betaShare), zMinus, -1);
      return {
        gradients: [p.quotient, n.quotient],
        absorbed: tf.add(p.absorbed, n.absorbed),
      };
    },
  });
}

/**
 * LRP-αβ (thesis eq. 2.34), with positive and negative parts normalised
 * separately and biases ignored (as the thesis code does):
 *
 * `R_i = Σ_j x_i [ a_j w⁺_ij / (z⁺_j + ε) + b_j w⁻_ij / (z⁻_j − ε) ] R_j`,
 * `z⁺_j = Σ_i x_i w⁺_ij`, `z⁻_j = Σ_i x_i w⁻_ij`.
 *
 * Empty parts are handled explicitly so that relevance is conserved for any
 * α (thesis-code §8): where both parts are non-empty (z⁺_j > 0 and
 * z⁻_j < 0), `a_j = α`, `b_j = −β`; where the negative part is empty
 * (z⁻_j = 0, exactly, since it is a sum of non-positive terms), the neuron is
 * explained by z⁺ alone (`a_j = 1`, `b_j = 0`), so its β share goes to the
 * positive part rather than vanishing; where the positive part is empty, the
 * neuron's whole R_j is absorbed (as z⁺ does). Absorbed relevance is then
 * `s⁺ ε − s⁻ ε` per neuron: the stabiliser's share plus any empty neuron.
 *
 * Meant for layers whose inputs are non-negative (ReLU activations, pooled
 * ReLU maps, R-LSTM states); the inputs are not checked (that would need a
 * device read), and negative inputs void the rule's meaning.
 *
 * @see Bach et al. 2015; Montavon et al. 2017, "Explaining nonlinear classification decisions with deep Taylor decomposition"
 * @param options α, β and the stabiliser
 * @returns the rule
 * @throws {RangeError} unless α − β = 1, β ≥ 0, and the stabiliser is ≥ 0
 *
 * @example
 * ```ts
 * const rule = AlphaBeta({ alpha: 1.5, beta: 0.5 });
 * ```
 */
export function AlphaBeta(options: AlphaBetaOptions): Rule {
  const { alpha, beta } = options;
  const stabilizer = options.stabilizer ?? 1e-9;
  checkAlphaBeta("AlphaBeta", alpha, beta);
  checkNonNegative("AlphaBeta", "stabilizer", stabilizer);
  return rule("AlphaBeta", alpha, beta, stabilizer);
}

/** Options of {@linkcode ZPlus}. */
export interface ZPlusOptions {
  /**
   * Added to the denominator `z⁺_j`; an empty positive part then absorbs
   * its R_j.
   * @default 1e-9 (the thesis code's DIVISION_ADJUSTMENT)
   */
  stabilizer?: number;
}

/**
 * The z⁺ rule of deep Taylor decomposition (thesis eq. 2.66, Table 2.1):
 * `R_i = Σ_j x_i w⁺_ij / (Σ_i' x_i' w⁺_i'j + ε) R_j`, i.e. LRP-α1β0, biases
 * ignored. Meant for layers whose inputs are ReLU activations (≥ 0).
 *
 * @see Montavon et al. 2017, "Explaining nonlinear classification decisions with deep Taylor decomposition"
 * @param options the stabiliser
 * @returns the rule
 * @throws {RangeError} if the stabiliser is negative or not finite
 */
export function ZPlus(options: ZPlusOptions = {}): Rule {
  const stabilizer = options.stabilizer ?? 1e-9;
  checkNonNegative("ZPlus", "stabilizer", stabilizer);
  return rule("ZPlus", 1, 0, stabilizer);
}
