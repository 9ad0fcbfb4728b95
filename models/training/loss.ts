/**
 * The thesis's loss and accuracy (thesis-code §1.3): a constant zero logit is
 * appended before the softmax, so the cross-entropy runs over 11 classes and
 * pushes the true class's logit above 0; accuracy is the argmax over the 10
 * real logits.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Appends the constant zero pseudo-logit.
 *
 * @param logits [N, 10]
 * @returns [N, 11]; caller owns the returned tensor
 */
export function withZeroLogit(logits: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.concat([logits, tf.zeros([logits.shape[0], 1])], 1));
}

/**
 * Summed softmax cross-entropy over the 10 logits plus the zero logit.
 *
 * @param logits [N, 10]
 * @param labels [N] int32 classes in 0–9
 * @returns the sum over the batch (a scalar); caller owns the returned tensor
 */
export function zeroLogitCrossEntropySum(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
): tf.Scalar {
  return tf.tidy(() => {
    const all = withZeroLogit(logits);
    const target = tf.sum(
      tf.mul(logits, tf.oneHot(labels, logits.shape[1])),
      1,
    );
    return tf.sum(tf.sub(tf.logSumExp(all, 1), target));
  });
}

/**
 * Mean softmax cross-entropy over the 10 logits plus the zero logit.
 *
 * @param logits [N, 10]
 * @param labels [N] int32 classes in 0–9
 * @returns the batch mean (a scalar); caller owns the returned tensor
 */
export function zeroLogitCrossEntropy(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
): tf.Scalar {
  return tf.tidy(() =>
    tf.div(zeroLogitCrossEntropySum(logits, labels), logits.shape[0])
  );
}

/**
 * Counts samples whose argmax over the 10 real logits is the label.
 *
 * @param logits [N, 10]
 * @param labels [N] int32
 * @returns the count as a float32 scalar; caller owns the returned tensor
 */
export function countCorrect(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
): tf.Scalar {
  return tf.tidy(() =>
    tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), "float32"))
  );
}
