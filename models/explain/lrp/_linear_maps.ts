/**
 * The dense, conv2d and pooling maps of `../layers/` on the `wasm`
 * backend's fast paths, for the relevance pass. Same maps, same adjoints;
 * only how they are computed differs:
 *
 * - dense: `g · Wᵀ` as a plain matMul with the transpose materialised first
 *   (XNNPACK runs BatchMatMul only without `transposeB`; measured 1.7 vs
 *   4.1 ms at 50×128 · 128×512);
 * - conv2d with odd kernels: `conv2d(g, K')`, K' the kernel flipped in
 *   space with in/out channels swapped (stride 1 and symmetric `SAME`
 *   padding make the adjoint a `SAME` convolution again), instead of
 *   `conv2dTranspose` (measured 19 vs 127 ms at 50×28×7, 5×5, 24→25
 *   channels); on narrow images onto a single input channel (and on
 *   `blas` onto any, forward too), one banded `kh × 1` convolution over
 *   image rows (`../../kernels/band_conv.ts`), which also serves several
 *   kernels of one gradient at once (`transposeEach`: zᴮ's two). Even
 *   kernels keep `conv2dTranspose`;
 * - the thesis's pooling: forward with the backend's `avgPool` (SAME
 *   windows averaged over their valid elements, like the map); transpose:
 *   each window's gradient times scale / (valid
 *   elements), spread over the window by a nearest-neighbour resize from
 *   ⌈h/2⌉ to h rows (it maps row y to ⌊y/2⌋, also for odd h) instead of a
 *   6-D `tile` (measured 3 vs 25 ms at 50×28×7×24).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  CONV2D,
  createAvgPool,
  DENSE,
  type LinearLayer,
} from "../rules/mod.ts";
import { bandTranspose } from "../../kernels/band_conv.ts";
import { BLAS_BACKEND } from "../../kernels/blas/mod.ts";

/** {@linkcode DENSE} with a fast transpose; `adjoint` keeps Wᵀ per pass. */
export const FAST_DENSE: LinearLayer = Object.freeze({
  ...DENSE,
  transpose(g: tf.Tensor, weight: tf.Tensor | null): tf.Tensor {
    return tf.matMul(g as tf.Tensor2D, tf.transpose(weight as tf.Tensor2D));
  },
  adjoint: Object.freeze({
    prepare: (weight: tf.Tensor): tf.Tensor =>
      tf.transpose(weight as tf.Tensor2D),
    apply: (g: tf.Tensor, transposed: tf.Tensor): tf.Tensor =>
      tf.matMul(g as tf.Tensor2D, transposed as tf.Tensor2D),
  }),
});

/** K' = K flipped in space, in/out channels swapped (odd kernels only). */
function flipKernel(k: tf.Tensor4D): tf.Tensor4D {
  return tf.transpose(tf.reverse(k, [0, 1]), [0, 1, 3, 2]);
}

/**
 * Whether the banded row convolution of `../../kernels/band_conv.ts` beats
 * the stock convolution for a flipped kernel K' [kh, kw, co, ci] on images
 * `width` columns wide. It does ≈ width / kw more multiply-adds, so only on narrow
 * images (width ≤ 2·kw; the thesis models' 7 and 4 columns), and then:
 *
 * - onto one channel (ci = 1, a first layer onto pixels), on every backend:
 *   one convolution with W·co input channels instead of a 1-output-channel
 *   convolution or a depthwise convolution and a channel sum (measured 70
 *   and 28 ms against 12.5 at 600×28×7, 5×5, 24→1 channels);
 * - onto more channels only where convolutions are im2col plus a GEMM (the
 *   `blas` backend): a 3×3 convolution onto 24 channels copies 9 patches
 *   per pixel into a product 24 columns wide, the band 3 rows into one
 *   W·24 wide (measured 11 vs 16 ms transposed and 9 vs 13 ms forward at
 *   600×14×4, 3×3, 24↔32 channels). XNNPACK's direct convolution on
 *   `wasm` is faster than the band there (14 vs 22 ms).
 *
 * Reads which backend is active (it selects none).
 */
function bandPays(flipped: tf.Tensor4D, width: number): boolean {
  const [kh, kw, , ci] = flipped.shape;
  if (kh % 2 === 0 || kw % 2 === 0 || width > 2 * kw) return false;
  return ci === 1 || tf.getBackend() === BLAS_BACKEND;
}

/**
 * The adjoint of an odd-kernel convolution from its flipped kernel
 * K' [kh, kw, co, ci]: the banded row convolution where it pays
 * ({@linkcode bandPays}), else `conv2d(g, K')`, or onto a single input
 * channel a depthwise convolution of each of g's co channels with its own
 * slice of K' and a sum over channels (the same products, Σ_f
 * conv(g_f, K'_f), on XNNPACK's depthwise kernel instead of a
 * 1-output-channel convolution: 28 vs 70 ms at 600×28×7, 5×5, 24→1).
 */
function flippedAdjoint(g: tf.Tensor4D, flipped: tf.Tensor4D): tf.Tensor {
  if (bandPays(flipped, g.shape[2])) return bandTranspose(g, [flipped]);
  if (flipped.shape[3] !== 1) return tf.conv2d(g, flipped, 1, "same");
  return tf.sum(tf.depthwiseConv2d(g, flipped, 1, "same"), 3, true);
}

function isOdd(k: tf.Tensor): boolean {
  return k.shape[0]! % 2 === 1 && k.shape[1]! % 2 === 1;
}

/**
 * {@linkcode CONV2D} with a fast transpose for odd kernels, and on `blas`
 * a banded forward for narrow images (see {@linkcode bandPays}).
 */
export const FAST_CONV2D: LinearLayer = Object.freeze({
  ...CONV2D,
  forward(x: tf.Tensor, weight: tf.Tensor | null): tf.Tensor {
    const k = weight as tf.Tensor4D;
    // conv(x, K) is the transpose whose flipped kernel is K itself.
    return x.shape[0]! > 1 && bandPays(k, x.shape[2]!)
      ? bandTranspose(x as tf.Tensor4D, [k])
      : CONV2D.forward(x, k);
  },
  transpose(
    g: tf.Tensor,
    weight: tf.Tensor | null,
    inputShape: readonly number[],
  ): tf.Tensor {
    const k = weight as tf.Tensor4D;
    if (!isOdd(k)) return CONV2D.transpose(g, k, inputShape);
    return tf.tidy(() => flippedAdjoint(g as tf.Tensor4D, flipKernel(k)));
  },
  // One banded convolution for every kernel, where the band pays.
  transposeEach(
    g: tf.Tensor,
    weights: readonly tf.Tensor[],
  ): tf.Tensor | undefined {
    const kernels = weights as readonly tf.Tensor4D[];
    return tf.tidy(() => {
      const flipped = kernels.map(flipKernel);
      return flipped.every((k) => bandPays(k, g.shape[2]!))
        ? bandTranspose(g as tf.Tensor4D, flipped)
        : undefined;
    });
  },
  // Even kernels keep the kernel itself and conv2dTranspose.
  adjoint: Object.freeze({
    prepare(weight: tf.Tensor): tf.Tensor {
      const k = weight as tf.Tensor4D;
      return isOdd(k) ? flipKernel(k) : tf.clone(k);
    },
    apply(
      g: tf.Tensor,
      prepared: tf.Tensor,
      inputShape: readonly number[],
    ): tf.Tensor {
      return isOdd(prepared)
        ? flippedAdjoint(g as tf.Tensor4D, prepared as tf.Tensor4D)
        : CONV2D.transpose(g, prepared, inputShape);
    },
  }),
});

/** scale / (valid elements) of every 2×2 SAME window, [1, ⌈h/2⌉, ⌈w/2⌉, 1]. */
function windowFactors(h: number, w: number, scale: number): tf.Tensor4D {
  const ho = Math.ceil(h / 2);
  const wo = Math.ceil(w / 2);
  const values = new Float32Array(ho * wo);
  for (let y = 0; y < ho; y++) {
    for (let x = 0; x < wo; x++) {
      values[y * wo + x] = scale /
        (Math.min(2, h - 2 * y) * Math.min(2, w - 2 * x));
    }
  }
  return tf.tensor4d(values, [1, ho, wo, 1]);
}

/**
 * `createAvgPool({ scale })` with a fast transpose.
 *
 * @param scale the factor applied to each window average (the thesis: 2)
 * @returns the pooling map
 * @throws {RangeError} if scale is not a finite number > 0
 */
export function createFastAvgPool(scale: number): LinearLayer {
  const pool = createAvgPool({ scale });
  return Object.freeze({
    ...pool,
    // The backend's SAME average divides each window by its valid elements,
    // as the map does: one native kernel instead of pad, 6-D reshape and sum.
    forward(x: tf.Tensor): tf.Tensor {
      return tf.mul(tf.avgPool(x as tf.Tensor4D, 2, 2, "same"), scale);
    },
    transpose(
      g: tf.Tensor,
      _weight: tf.Tensor | null,
      inputShape: readonly number[],
    ): tf.Tensor {
      const [, h, w] = inputShape as [number, number, number, number];
      const scaled = tf.mul(g, windowFactors(h, w, scale)) as tf.Tensor4D;
      return tf.image.resizeNearestNeighbor(scaled, [h, w]);
    },
  });
}
