/**
 * Stride-1 `SAME` convolutions with odd kernels over image rows, for narrow
 * images (the thesis models' 7 and 4 columns): the relevance passes'
 * transposes (`../explain/lrp/_linear_maps.ts`) and, on the `blas` backend,
 * both gradients of a training step (`../arch/layers/conv2d.ts`).
 *
 * The transpose onto few input channels (a first layer onto pixels) is one
 * convolution whose columns are channels: each image row of the gradient, W·co values, is
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
 * (a few thousand weights, read synchronously; on `wasm` a gather
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

/**
 * The kernel gradient of a stride-1 `SAME` convolution with an odd
 * kh × kw kernel, `dK[a, b, c, f] = Σ_{n, y, x} X_pad[n, y + a, x + b, c] ·
 * dY[n, y, x, f]`, over image rows: with the rows of X padded by
 * (kh − 1) / 2, one product per kernel row a,
 * `G_a = X_rows(a)ᵀ · dY_rows` [W·ci, W·co], where X_rows(a) [N·H, W·ci]
 * holds each output row's input row shifted by a, and then
 * `dK[a, b, c, f] = Σ_x G_a[(x + b − pw, c), (x, f)]` over the columns x
 * with 0 ≤ x + b − pw < W (the missing ones are the columns' padding),
 * summed on the host (kh·W²·ci·co values).
 *
 * Why: the stock forms copy a kh·kw·ci patch per output pixel (im2col) and
 * multiply in a product only co wide; the rows are used as they lie, in
 * products W·co wide, at ≈ W / kw more multiply-adds. On the `blas` backend
 * at ConvR-LSTM's shapes (600 × 14 × 4, 3 × 3, 24 → 32; 600 × 28 × 7,
 * 5 × 5, 1 → 24) it replaces convolutions of 31 and 24 ms.
 *
 * Caller owns the returned tensor.
 *
 * @param x the convolution's input [N, H, W, ci]
 * @param dy the output gradient [N, H, W, co]
 * @param kh the kernel height (odd)
 * @param kw the kernel width (odd)
 * @returns dK [kh, kw, ci, co]
 */
export function bandKernelGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  kh: number,
  kw: number,
): tf.Tensor4D {
  const [n, h, w, ci] = x.shape;
  const co = dy.shape[3];
  const ph = (kh - 1) / 2;
  const pw = (kw - 1) / 2;
  const products = tf.tidy(() => {
    const padded = tf.pad(tf.reshape(x, [n, h, w * ci]), [
      [0, 0],
      [ph, ph],
      [0, 0],
    ]);
    const rows = tf.reshape(dy, [n * h, w * co]) as tf.Tensor2D;
    return Array.from({ length: kh }, (_, a) => {
      const shifted = tf.reshape(
        tf.slice(padded, [0, a, 0], [n, h, w * ci]),
        [n * h, w * ci],
      ) as tf.Tensor2D;
      return tf.matMul(shifted, rows, true, false);
    });
  });
  let values: Float32Array[];
  try {
    values = products.map((p) => p.dataSync() as Float32Array);
  } finally {
    tf.dispose(products);
  }
  const dk = new Float32Array(kh * kw * ci * co);
  const width = w * co;
  for (let a = 0; a < kh; a++) {
    const g = values[a]!;
    for (let b = 0; b < kw; b++) {
      for (let col = 0; col < w; col++) {
        const source = col + b - pw;
        if (source < 0 || source >= w) continue;
        for (let c = 0; c < ci; c++) {
          const from = (source * ci + c) * width + col * co;
          const to = ((a * kw + b) * ci + c) * co;
          for (let f = 0; f < co; f++) dk[to + f]! += g[from + f]!;
        }
      }
    }
  }
  return tf.tensor4d(dk, [kh, kw, ci, co]);
}
