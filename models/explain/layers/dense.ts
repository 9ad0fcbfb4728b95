/**
 * The dense linear map `z = x · W` (x `[N, I]`, W `[I, J]`, z `[N, J]`) and its
 * transpose `g · Wᵀ`, for {@linkcode applyRule}.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { LinearLayer } from "../core.ts";

function outputShape(
  inputShape: readonly number[],
  weightShape: readonly number[] | null,
): number[] {
  const fail = (reason: string): never => {
    throw new TypeError(`Cannot apply layer "dense": ${reason}`);
  };
  if (inputShape.length !== 2) {
    fail(`input has rank ${inputShape.length}, expected 2 ([N, I])`);
  }
  if (weightShape === null || weightShape.length !== 2) {
    fail(`weight has rank ${weightShape?.length ?? 0}, expected 2 ([I, J])`);
  }
  const [n, i] = inputShape as [number, number];
  const [wi, j] = weightShape as [number, number];
  if (i !== wi) {
    fail(`input has ${i} features but the weight expects ${wi}`);
  }
  return [n, j];
}

/**
 * The dense layer `x [N, I] · W [I, J]`; its transpose is one `matMul` with
 * `transposeB`. The effective bias, where a rule reads one, has shape `[J]`.
 */
export const DENSE: LinearLayer = Object.freeze({
  kind: "dense",
  hasWeight: true,
  outputShape,
  forward(x: tf.Tensor, weight: tf.Tensor | null): tf.Tensor {
    return tf.matMul(x as tf.Tensor2D, weight as tf.Tensor2D);
  },
  transpose(g: tf.Tensor, weight: tf.Tensor | null): tf.Tensor {
    return tf.matMul(g as tf.Tensor2D, weight as tf.Tensor2D, false, true);
  },
});
