/**
 * The linear part of a dense layer over concatenated inputs.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { matMul } from "./mat_mul.ts";

/**
 * Computes one input's contribution a·W to a dense layer whose kernel rows
 * follow its inputs in order (so [a; b]·W = a·W_a + b·W_b).
 *
 * @param input activations [batch, in], or any shape whose trailing
 *   dimensions flatten to `in`
 * @param kernel the rows of the kernel that belong to this input, [in, units]
 * @param options `inputGradient: false` when `input` is data whose gradient
 *   is never needed (it then reads as zero)
 * @returns [batch, units]; caller owns the returned tensor
 */
export function denseContribution(
  input: tf.Tensor,
  kernel: tf.Tensor2D,
  options: { inputGradient?: boolean } = {},
): tf.Tensor2D {
  return tf.tidy(() => {
    const flat = input.rank === 2
      ? input as tf.Tensor2D
      : tf.reshape(input, [input.shape[0]!, -1]) as tf.Tensor2D;
    return matMul(flat, kernel, options);
  });
}
