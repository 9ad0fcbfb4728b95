/**
 * The thesis's pooling: average pooling scaled by 2, with a backward pass
 * that avoids the `wasm` backend's slow `AvgPoolGrad`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

type GradArgs = (tf.Tensor | tf.GradSaveFunc)[];

/**
 * 2 / (valid elements of each 2×2 SAME window), shape [1, ⌈h/2⌉, ⌈w/2⌉, 1].
 */
function windowScale(h: number, w: number): tf.Tensor4D {
  const ho = Math.ceil(h / 2);
  const wo = Math.ceil(w / 2);
  const values = new Float32Array(ho * wo);
  for (let y = 0; y < ho; y++) {
    for (let x = 0; x < wo; x++) {
      values[y * wo + x] = 2 /
        (Math.min(2, h - 2 * y) * Math.min(2, w - 2 * x));
    }
  }
  return tf.tensor4d(values, [1, ho, wo, 1]);
}

const scaledAvgPoolOp = tf.customGrad((...args: GradArgs) => {
  const [x] = args as [tf.Tensor4D];
  const [, h, w] = x.shape;
  return {
    value: tf.mul(tf.avgPool(x, 2, 2, "same"), tf.scalar(2)),
    gradFunc: (dy: tf.Tensor) => {
      // Each input gets its window's gradient times 2 / (valid elements).
      // A nearest-neighbour resize from ⌈h/2⌉ to h rows maps row y to ⌊y/2⌋
      // (also for odd h), so it spreads each window's value over its inputs;
      // the backend's AvgPoolGrad was ~10× slower.
      const g = tf.mul(dy, windowScale(h, w)) as tf.Tensor4D;
      return tf.image.resizeNearestNeighbor(g, [h, w]);
    },
  };
}) as (x: tf.Tensor4D) => tf.Tensor4D;

/**
 * Average pooling 2×2, stride 2, SAME padding, times 2 (thesis-code §1.4:
 * the released code multiplied by np.size([2, 2]) = 2, not 4). Edge windows
 * of SAME padding average only their valid elements; the result shape is
 * [batch, ⌈h/2⌉, ⌈w/2⌉, c].
 *
 * @param x activations, NHWC
 * @returns the pooled activations; caller owns the returned tensor
 */
export function scaledAvgPool(x: tf.Tensor4D): tf.Tensor4D {
  return scaledAvgPoolOp(x);
}
