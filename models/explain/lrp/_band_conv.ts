/**
 * The transpose of a stride-1 `SAME` convolution with an odd kernel onto few
 * input channels (a first layer onto pixels), as one convolution whose
 * columns are channels: each image row of the gradient, W·co values, is
 * mapped by a banded matrix to W·ci·m values, and the kernel's rows are the
 * kernel height of a `kh × 1` convolution over the image rows.
 *
 * For g [N, H, W, co] and flipped kernels K'_j [kh, kw, co, ci] (the kernels
 * flipped in space with in/out channels swapped, j = 1 … m):
 *
 * `B[dy, 0, (x, f), (x', c, j)] = K'_j[dy, x − x' + pw, f, c]` where
 * `0 ≤ x − x' + pw < kw` (else 0), pw = (kw − 1) / 2, and
 * `Lᵀ(g; K_j)[n, y, x', c] = conv2d(g as [N, H, 1, W·co], B)[n, y, 0, (x', c, j)]`:
 * the `SAME` padding of the rows is the convolution's own, and that of the
 * columns is the band's missing entries.
 *
 * Why: onto one channel, the stock forms are a convolution with one output
 * channel or a depthwise convolution per kernel plus a channel sum, both far
 * from the backend's matrix-product speed. The band does ≈ W / kw more
 * multiply-adds (≈ 1.7× at W = 7, kw = 5) but as one convolution with W·co
 * input and W·ci·m output channels, and serves m kernels in one call:
 * measured 12.5 ms against 32 ms for the two depthwise convolutions and
 * channel sums of zᴮ at 600 × 28 × 7, 5 × 5, 24 → 1 channel (`wasm` and
 * `blas` alike).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/**
 * The band kernel [kh, 1, W·co, W·ci·m] of flipped kernels, for images W
 * columns wide, filled on the host from one read of the kernels' values
 * (as `../_split_once.ts` reads: a few thousand weights; on `wasm` a gather
 * of the 37k band entries of a 3×3, 24 → 32 kernel took 1.8 ms, a 0/1
 * selector product and a 5-D transpose about 1 ms). Caller owns the
 * returned tensor.
 *
 * @param flipped the flipped kernels K'_j [kh, kw, co, ci], all one shape, odd kh and kw
 * @param width W, the image width
 * @returns the band kernel
 */
export function bandKernel(
  flipped: readonly tf.Tensor4D[],
  width: number,
): tf.Tensor4D {
  const [kh, kw, co, ci] = flipped[0]!.shape;
  const m = flipped.length;
  const pw = (kw - 1) / 2;
  const kernels = flipped.map((k) => k.dataSync() as Float32Array);
  const band = new Float32Array(kh * width * co * width * ci * m);
  let k = 0;
  for (let dy = 0; dy < kh; dy++) {
    for (let x = 0; x < width; x++) {
      for (let f = 0; f < co; f++) {
        for (let xp = 0; xp < width; xp++) {
          const d = x - xp + pw;
          if (d < 0 || d >= kw) {
            k += ci * m;
            continue;
          }
          const at = ((dy * kw + d) * co + f) * ci;
          for (let c = 0; c < ci; c++) {
            for (let j = 0; j < m; j++) band[k++] = kernels[j]![at + c]!;
          }
        }
      }
    }
  }
  return tf.tensor4d(band, [kh, 1, width * co, width * ci * m]);
}

/**
 * `Lᵀ(g; K_j)` for every j, interleaved along the last axis: [N, H, W, ci·m]
 * with input channel c of kernel j at c·m + j. Caller owns the returned
 * tensor.
 *
 * @param g the output gradient [N, H, W, co]
 * @param flipped the flipped kernels K'_j [kh, kw, co, ci], odd kh and kw
 * @returns the transposes, [N, H, W, ci·m]
 */
export function bandTranspose(
  g: tf.Tensor4D,
  flipped: readonly tf.Tensor4D[],
): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, co] = g.shape;
    const ci = flipped[0]!.shape[3];
    const rows = tf.reshape(g, [n, h, 1, w * co]) as tf.Tensor4D;
    const out = tf.conv2d(rows, bandKernel(flipped, w), 1, "same");
    return tf.reshape(out, [n, h, w, ci * flipped.length]) as tf.Tensor4D;
  });
}
