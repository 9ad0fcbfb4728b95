/**
 * The 2-D convolution `z = conv2d(x, W)` (NHWC, stride 1, `SAME` padding, as
 * every convolution of the thesis models) and its transpose
 * `conv2dTranspose(g, W)`, for {@linkcode applyRule}.
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
    throw new TypeError(`Cannot apply layer "conv2d": ${reason}`);
  };
  if (inputShape.length !== 4) {
    fail(`input has rank ${inputShape.length}, expected 4 ([N, H, W, C])`);
  }
  if (weightShape === null || weightShape.length !== 4) {
    fail(
      `weight has rank ${
        weightShape?.length ?? 0
      }, expected 4 ([kh, kw, ci, co])`,
    );
  }
  const [n, h, w, c] = inputShape as [number, number, number, number];
  const [, , ci, co] = weightShape as [number, number, number, number];
  if (c !== ci) fail(`input has ${c} channels but the weight expects ${ci}`);
  return [n, h, w, co];
}

/**
 * The convolution layer: x `[N, H, W, ci]`, W `[kh, kw, ci, co]`, stride 1,
 * `SAME` padding (zeros; TensorFlow puts the odd pixel at the bottom/right),
 * output `[N, H, W, co]`. The effective bias has shape `[co]`.
 */
export const CONV2D: LinearLayer = Object.freeze({
  kind: "conv2d",
  hasWeight: true,
  outputShape,
  forward(x: tf.Tensor, weight: tf.Tensor | null): tf.Tensor {
    return tf.conv2d(x as tf.Tensor4D, weight as tf.Tensor4D, 1, "same");
  },
  transpose(
    g: tf.Tensor,
    weight: tf.Tensor | null,
    inputShape: readonly number[],
  ): tf.Tensor {
    const [, h, w, c] = inputShape as [number, number, number, number];
    return tf.conv2dTranspose(
      g as tf.Tensor4D,
      weight as tf.Tensor4D,
      [g.shape[0] as number, h, w, c],
      1,
      "same",
    );
  },
});
