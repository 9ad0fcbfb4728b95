/**
 * The z^B rule of deep Taylor decomposition for bounded inputs.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import {
  checkNonNegative,
  type LinearLayer,
  type Normalized,
  type Rule,
  type RuleContext,
  type Term,
} from "../core.ts";
import {
  type Bound,
  boundTensor,
  boxBackward,
  boxNormalize,
  boxTerms,
  checkBoundShape,
  checkScalarBounds,
} from "./_box.ts";

/** Options of {@linkcode ZBox}. */
export interface ZBoxOptions {
  /**
   * Lower bound l of every input: a number, or a tensor shaped like one
   * sample's input (or like the whole batch). The caller owns a tensor bound
   * and keeps it alive while the rule is in use.
   * @default -1 (pixels mapped to [−1, 1], thesis-code §4)
   */
  low?: Bound;
  /**
   * Upper bound h of every input, as `low`.
   * @default 1
   */
  high?: Bound;
  /**
   * Added to the shared denominator (≥ 0 on the rule's domain).
   * @default 1e-9 (the thesis code's DIVISION_ADJUSTMENT)
   */
  stabilizer?: number;
}

/**
 * The z^B rule (thesis eq. 2.72 and 3.5; thesis-code §3.3 (b), (e)):
 *
 * `R_i = Σ_j (x_i w_ij − l_i w⁺_ij − h_i w⁻_ij) / (Σ_i' (x_i' w_i'j − l_i' w⁺_i'j − h_i' w⁻_i'j) + ε) · R_j`.
 *
 * The root point is l where w ≥ 0 and h where w ≤ 0 (eq. 2.72); thesis
 * Table 2.1 / eq. 2.74 print l and h swapped, against their own derivation
 * and against eq. 3.5 and the code, which this rule follows. Biases are
 * ignored. In conv2d form the zero padding holds zeros, not the bounds: a
 * padded position is not an input and adds nothing to any term.
 *
 * Meant for the first layer onto pixels, whose inputs lie in [l, h] (the
 * thesis: l ≤ 0 < h); only then is every term ≥ 0. Input values are not
 * checked against the bounds.
 *
 * @see Montavon et al. 2017, "Explaining nonlinear classification decisions with deep Taylor decomposition"
 * @param options the bounds and the stabiliser
 * @returns the rule
 * @throws {RangeError} if a scalar bound is not finite, low ≥ high, or the stabiliser is negative
 */
export function ZBox(options: ZBoxOptions = {}): Rule {
  const low = options.low ?? -1;
  const high = options.high ?? 1;
  const stabilizer = options.stabilizer ?? 1e-9;
  checkScalarBounds("ZBox", low, high);
  checkNonNegative("ZBox", "stabilizer", stabilizer);
  const describe = (b: Bound) => typeof b === "number" ? b : "tensor";
  // Scalar bounds around 0 (the default [−1, 1]): on activeOnly layers
  // the denominator's sign is then known (see boxNormalize).
  const straddles = typeof low === "number" && typeof high === "number" &&
    low <= 0 && high >= 0;
  return Object.freeze({
    name: "ZBox",
    params: Object.freeze({
      low: describe(low),
      high: describe(high),
      stabilizer,
    }),
    needsWeight: true,
    usesBias: false,
    checkShapes(layer: LinearLayer, inputShape: readonly number[]): void {
      const [n, ...shape] = inputShape as [number, ...number[]];
      checkBoundShape("ZBox", layer, "low", low, shape, n);
      checkBoundShape("ZBox", layer, "high", high, shape, n);
    },
    terms(context: RuleContext): Term[] {
      const shape = context.input.shape.slice(1);
      const w = context.weight as tf.Tensor;
      return boxTerms(
        context.input,
        w,
        w,
        boundTensor(low, shape),
        boundTensor(high, shape),
        context.derive,
      );
    },
    normalize(
      relevance: tf.Tensor,
      outputs: tf.Tensor[],
      context: RuleContext,
    ): Normalized {
      return boxNormalize(
        relevance,
        outputs,
        stabilizer,
        context.activeOnly && straddles,
      );
    },
    backward: boxBackward,
  });
}
