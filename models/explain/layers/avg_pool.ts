/**
 * The thesis's average pooling as a linear map for {@linkcode applyRule}:
 * 2×2 windows, stride 2, `SAME` padding at the bottom/right, edge windows
 * averaging their valid elements only, and the result scaled by 2
 * (`tf.nn.avg_pool(...) * np.size([2, 2])`, thesis-code §1.4).
 *
 * Both the map and its transpose are written out (pad, reshape, sum / tile,
 * crop) instead of using `tf.avgPool` and its gradient: TensorFlow.js 4.22's
 * `AvgPoolGrad` (cpu and wasm) divides an edge window by 4 even though the
 * forward pass divides it by its valid count, so the gradient is not the
 * transpose of the map at odd edges.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { LinearLayer } from "../core.ts";

/** Options of {@linkcode createAvgPool}. */
export interface AvgPoolOptions {
  /**
   * Factor applied to each window average. The thesis code multiplies by
   * `np.size([2, 2]) = 2`. Rules through this map are insensitive to it
   * (up to the stabiliser).
   * @default 2
   */
  scale?: number;
}

function pooledShape(
  inputShape: readonly number[],
  weightShape: readonly number[] | null,
): number[] {
  if (inputShape.length !== 4) {
    throw new TypeError(
      `Cannot apply layer "avgPool": input has rank ${inputShape.length}, expected 4 ([N, H, W, C])`,
    );
  }
  if (weightShape !== null) {
    throw new TypeError(
      `Cannot apply layer "avgPool": the layer takes no weight but one was given`,
    );
  }
  const [n, h, w, c] = inputShape as [number, number, number, number];
  return [n, Math.ceil(h / 2), Math.ceil(w / 2), c];
}

/** scale / (number of valid elements) per window, shape [1, Ho, Wo, 1]. */
function windowFactors(h: number, w: number, scale: number): tf.Tensor4D {
  const ho = Math.ceil(h / 2);
  const wo = Math.ceil(w / 2);
  const values = new Float32Array(ho * wo);
  for (let y = 0; y < ho; y++) {
    for (let x = 0; x < wo; x++) {
      const count = Math.min(2, h - 2 * y) * Math.min(2, w - 2 * x);
      values[y * wo + x] = scale / count;
    }
  }
  return tf.tensor4d(values, [1, ho, wo, 1]);
}

/**
 * Creates the thesis's 2×2 / stride 2 / `SAME` average pooling map, scaled.
 *
 * @param options the scale factor
 * @returns a weightless {@linkcode LinearLayer} of kind `avgPool`
 * @throws {RangeError} if scale is not a finite number > 0
 */
export function createAvgPool(options: AvgPoolOptions = {}): LinearLayer {
  const scale = options.scale ?? 2;
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new RangeError(
      `Cannot create layer "avgPool": scale must be a finite number > 0, got ${scale}`,
    );
  }
  return Object.freeze({
    kind: "avgPool",
    hasWeight: false,
    outputShape: pooledShape,
    forward(x: tf.Tensor): tf.Tensor {
      const [n, h, w, c] = x.shape as [number, number, number, number];
      const ho = Math.ceil(h / 2);
      const wo = Math.ceil(w / 2);
      const padded = 2 * ho === h && 2 * wo === w
        ? x
        : tf.pad(x, [[0, 0], [0, 2 * ho - h], [0, 2 * wo - w], [0, 0]]);
      const sums = tf.sum(tf.reshape(padded, [n, ho, 2, wo, 2, c]), [2, 4]);
      return tf.mul(sums, windowFactors(h, w, scale));
    },
    transpose(
      g: tf.Tensor,
      _weight: tf.Tensor | null,
      inputShape: readonly number[],
    ): tf.Tensor {
      const [, h, w, c] = inputShape as [number, number, number, number];
      const [n, ho, wo] = g.shape as [number, number, number, number];
      const scaled = tf.mul(g, windowFactors(h, w, scale));
      const spread = tf.reshape(
        tf.tile(tf.reshape(scaled, [n, ho, 1, wo, 1, c]), [1, 1, 2, 1, 2, 1]),
        [n, 2 * ho, 2 * wo, c],
      );
      return 2 * ho === h && 2 * wo === w
        ? spread
        : tf.slice(spread, [0, 0, 0, 0], [n, h, w, c]);
    },
  });
}

/** The thesis's pooling map with the default scale 2. */
export const AVG_POOL: LinearLayer = createAvgPool();
