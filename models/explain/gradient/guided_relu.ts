/**
 * The guided-backpropagation ReLU (Springenberg et al. 2014; thesis eq. 2.29).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

type GradArgs = (tf.Tensor | tf.GradSaveFunc)[];

const guidedReluOp = tf.customGrad((...args: GradArgs) => {
  const [z, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const y = tf.relu(z);
  save([y]);
  return {
    value: y,
    // grad·[grad > 0]·[output > 0]: relu(dy) keeps the positive part of the
    // upstream gradient, step(y) is 1 where the unit is active (y > 0) and 0
    // at y = 0, like tf.relu's own gradient at the kink.
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.mul(tf.relu(dy), tf.step(saved[0]!)),
  };
}) as (z: tf.Tensor) => tf.Tensor;

/**
 * ReLU whose backward pass lets a gradient through only where the unit is
 * active and the gradient arriving from above is positive (thesis eq. 2.29):
 * ∂*f/∂a = 𝟙[a > 0]·𝟙[∂f/∂a > 0]·∂f/∂a. The forward value is `tf.relu(z)`.
 * Pass it as `relu` to `RnnModel.forward` to compute guided gradients.
 *
 * @see Springenberg et al. 2014, "Striving for Simplicity: The All
 *   Convolutional Net"
 * @param z pre-activations
 * @returns relu(z); caller owns the returned tensor
 * @example
 * ```ts
 * const g = tf.grad((x) => tf.sum(guidedRelu(x)))(tf.tensor1d([-1, 2]));
 * ```
 */
export function guidedRelu(z: tf.Tensor): tf.Tensor {
  return guidedReluOp(z);
}
