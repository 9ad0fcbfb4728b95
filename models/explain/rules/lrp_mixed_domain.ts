/**
 * The thesis's mixed-domain concatenation rule: z^B on the pixel part and
 * α/β-weighted z⁺ on the non-negative part of one input, with one shared
 * denominator.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  checkNonNegative,
  type LinearLayer,
  negativePart,
  type Normalized,
  type Rule,
  type RuleContext,
  type Term,
} from "../core.ts";
import { checkAlphaBeta } from "./lrp_alpha_beta.ts";
import {
  type Bound,
  boundTensor,
  boxBackward,
  boxNormalize,
  boxTerms,
  checkBoundShape,
  checkScalarBounds,
} from "./_box.ts";

/** Options of {@linkcode MixedDomain}. */
export interface MixedDomainOptions {
  /**
   * How many leading inputs are pixels: the first k features of a dense
   * input `[x_t ; r_{t−1}]` (Shallow: 28·c), or the first k channels of a
   * conv2d input `[x_t ; conv1_{t−1}]` (Conv⁺ conv1: 1). The rest are
   * non-negative.
   */
  pixels: number;
  /**
   * Lower bound of the pixel part: a number, or a tensor shaped like one
   * sample's pixel part (`[k]` or `[H, W, k]`, optionally with a leading N).
   * The caller owns a tensor bound.
   * @default -1
   */
  low?: Bound;
  /**
   * Upper bound of the pixel part, as `low`.
   * @default 1
   */
  high?: Bound;
  /**
   * Weight α of the excitatory terms `x w⁺` of the non-negative part.
   * @default 1
   */
  alpha?: number;
  /**
   * Weight β of the inhibitory terms `−x w⁻` of the non-negative part
   * (α − β = 1, as in the method's LRP-αβ).
   * @default 0
   */
  beta?: number;
  /**
   * Added to the shared denominator (≥ 0 by construction).
   * @default 1e-9 (the thesis code's DIVISION_ADJUSTMENT)
   */
  stabilizer?: number;
}

function weightInputAxis(layer: LinearLayer): number {
  return layer.kind === "dense" ? 0 : 2;
}

/** Splits `t` along `axis` into the first k entries and the rest. */
function split(t: tf.Tensor, axis: number, k: number): [tf.Tensor, tf.Tensor] {
  const begin = t.shape.map(() => 0);
  const size = t.shape.map((d) => d);
  const rest = [...begin];
  size[axis] = k;
  rest[axis] = k;
  const restSize = t.shape.map((d) => d);
  restSize[axis] = (t.shape[axis] as number) - k;
  return [tf.slice(t, begin, size), tf.slice(t, rest, restSize)];
}

/**
 * The mixed-domain concatenation rule (thesis eq. 3.5–3.6, generalised to
 * α/β as in thesis-code §3.3 (c) dense and (f) conv2d). For an input
 * `[x (pixels in [l, h]) ; r (≥ 0)]`, one shared denominator per output j:
 *
 * `z_j = Σ_{i∈x} (x_i w_ij − l_i w⁺_ij − h_i w⁻_ij) + Σ_{i∈r} r_i (α w⁺_ij − β w⁻_ij) + ε`,
 * `R_{x,i} = Σ_j (x_i w_ij − l_i w⁺_ij − h_i w⁻_ij) R_j / z_j`,
 * `R_{r,i} = Σ_j r_i (α w⁺_ij − β w⁻_ij) R_j / z_j`.
 *
 * Every term is ≥ 0 on the domain (−β w⁻ ≥ 0), so this is not the
 * two-normalisation αβ rule, yet it conserves relevance for any α, β: only
 * `ε R_j / z_j` is absorbed. Biases are ignored. In conv2d form the padded
 * border holds zeros, not the bounds.
 *
 * Meant for Shallow's input layer and the first convolution of the Conv⁺
 * models.
 *
 * @see Montavon et al. 2017 (z⁺, z^B); the thesis, section 3.2.1 (eq. 3.5–3.6)
 * @param options the split, the pixel bounds, α, β and the stabiliser
 * @returns the rule, for dense and conv2d maps
 * @throws {RangeError} if `pixels` is not an integer ≥ 0, α − β ≠ 1, β < 0,
 *   a scalar bound is not finite, low ≥ high, or the stabiliser is negative
 */
export function MixedDomain(options: MixedDomainOptions): Rule {
  const { pixels } = options;
  const low = options.low ?? -1;
  const high = options.high ?? 1;
  const alpha = options.alpha ?? 1;
  const beta = options.beta ?? 0;
  const stabilizer = options.stabilizer ?? 1e-9;
  if (!Number.isInteger(pixels) || pixels < 0) {
    throw new RangeError(
      `Cannot create rule "MixedDomain": pixels must be an integer ≥ 0, got ${pixels}`,
    );
  }
  checkScalarBounds("MixedDomain", low, high);
  checkAlphaBeta("MixedDomain", alpha, beta);
  checkNonNegative("MixedDomain", "stabilizer", stabilizer);
  const describe = (b: Bound) => typeof b === "number" ? b : "tensor";
  return Object.freeze({
    name: "MixedDomain",
    params: Object.freeze({
      pixels,
      low: describe(low),
      high: describe(high),
      alpha,
      beta,
      stabilizer,
    }),
    needsWeight: true,
    usesBias: false,
    checkShapes(layer: LinearLayer, inputShape: readonly number[]): void {
      const [n, ...shape] = inputShape as [number, ...number[]];
      const features = shape[shape.length - 1] as number;
      if (pixels > features) {
        throw new TypeError(
          `Cannot apply rule "MixedDomain" to layer "${layer.kind}": pixels is ${pixels} but the input has ${features} features or channels`,
        );
      }
      const pixelShape = [...shape.slice(0, -1), pixels];
      checkBoundShape("MixedDomain", layer, "low", low, pixelShape, n);
      checkBoundShape("MixedDomain", layer, "high", high, pixelShape, n);
    },
    terms(context: RuleContext): Term[] {
      const x = context.input;
      const w = context.weight as tf.Tensor;
      const shape = x.shape.slice(1);
      const features = shape[shape.length - 1] as number;
      const pixelShape = [...shape.slice(0, -1), pixels];
      const restShape = [...shape.slice(0, -1), features - pixels];
      const axis = weightInputAxis(context.layer);
      const positive = (v: tf.Tensor) => {
        const plus = alpha === 1 ? tf.relu(v) : tf.mul(tf.relu(v), alpha);
        return beta === 0 ? plus : tf.sub(plus, tf.mul(negativePart(v), beta));
      };
      // Bounds are 0 on the non-negative part, so the l and h terms only
      // see pixel rows; the plain term carries α w⁺ − β w⁻ there.
      const bound = (b: Bound) => {
        const pixel = boundTensor(b, pixelShape);
        if (pixels === features) return pixel;
        const zeros = tf.zeros([pixel.shape[0] as number, ...restShape]);
        return pixels === 0 ? zeros : tf.concat([pixel, zeros], -1);
      };
      const plain = pixels === features ? w : context.derive("plain", () => {
        if (pixels === 0) return positive(w);
        const [wx, wr] = split(w, axis, pixels);
        return tf.concat([wx, positive(wr)], axis);
      });
      return boxTerms(x, plain, w, bound(low), bound(high), context.derive);
    },
    normalize(relevance: tf.Tensor, outputs: tf.Tensor[]): Normalized {
      return boxNormalize(relevance, outputs, stabilizer);
    },
    // Every input a pixel: the plain weight is w, as in ZBox.
    backward: boxBackward,
  });
}
