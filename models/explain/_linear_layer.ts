/**
 * The linear maps rules act on and the terms rules decompose them into
 * (re-exported by `core.ts`, which documents the engine).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

/** The linear maps that rules act on. */
export type LayerKind = "dense" | "conv2d" | "avgPool";

/**
 * A linear map `z = L(x; w)` with its transpose, batched over the first axis.
 * Implementations live in `../layers/`.
 */
export interface LinearLayer {
  /** Which map this is; rules and error messages use it. */
  readonly kind: LayerKind;
  /** Whether the map takes a weight (dense, conv2d) or none (avgPool). */
  readonly hasWeight: boolean;
  /**
   * Checks the shapes of input and weight and returns the output shape.
   *
   * @param inputShape `[N, ...]` of the layer input
   * @param weightShape the weight shape, `null` for weightless maps
   * @returns the output shape `[N, ...]`
   * @throws {TypeError} if the shapes do not fit the map
   */
  outputShape(
    inputShape: readonly number[],
    weightShape: readonly number[] | null,
  ): number[];
  /**
   * The map itself. `x` may have batch size 1 (a constant term such as a
   * bound) and then broadcasts against batched terms.
   * Caller owns the returned tensor.
   */
  forward(x: tf.Tensor, weight: tf.Tensor | null): tf.Tensor;
  /**
   * The transpose (adjoint) `Lᵀ(g; w)`, shaped like the layer input with
   * `g`'s batch size. Caller owns the returned tensor.
   *
   * @param inputShape the layer input shape; its batch entry is ignored
   */
  transpose(
    g: tf.Tensor,
    weight: tf.Tensor | null,
    inputShape: readonly number[],
  ): tf.Tensor;
  /**
   * Optional split of {@linkcode transpose} into a weight-only part
   * (`prepare`, e.g. the transposed matrix or the flipped kernel), which a
   * {@linkcode WeightCache} keeps across calls, and the per-call rest
   * (`apply`): `apply(g, prepare(w), s)` equals `transpose(g, w, s)`.
   */
  readonly adjoint?: {
    prepare(weight: tf.Tensor): tf.Tensor;
    apply(
      g: tf.Tensor,
      prepared: tf.Tensor,
      inputShape: readonly number[],
    ): tf.Tensor;
  };
  /**
   * Optional: `Lᵀ(g; w_j)` for several weights and one gradient in one
   * call, interleaved along the last axis (shaped like the layer input with
   * its last axis C read as C·m, input unit c of weight j at c·m + j),
   * where that is cheaper than m transposes. Returns undefined where it
   * does not pay: the caller then transposes weight by weight.
   * Caller owns the returned tensor.
   *
   * @param inputShape the layer input shape; its batch entry is ignored
   */
  transposeEach?(
    g: tf.Tensor,
    weights: readonly tf.Tensor[],
    inputShape: readonly number[],
  ): tf.Tensor | undefined;
}

/** One term `z_k = L(x_k; w_k)` of a rule's decomposition of a layer. */
export interface Term {
  /** Modified input `x_k`, batch size N or 1. */
  input: tf.Tensor;
  /** Modified parameter `w_k`; `null` for weightless layers. */
  weight: tf.Tensor | null;
  /** Sign `c_k` of the term in `R_in = Σ_k c_k · x_k ⊙ Lᵀ(s_k; w_k)`. */
  coefficient: 1 | -1;
  /**
   * `z_k = L(x_k; w_k)` when the rule derives it itself; the engine then
   * skips this term's forward.
   * @default absent (the engine computes it)
   */
  output?: tf.Tensor;
}
