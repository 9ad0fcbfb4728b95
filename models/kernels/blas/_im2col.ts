/**
 * The im2col / col2im transforms that turn an NHWC convolution into one
 * matrix product: row (b, oy, ox) of the column matrix holds the receptive
 * field of output pixel (oy, ox) of image b in filter order (fy, fx, c), so
 * that `cols · reshape(filter, [Kh·Kw·Ci, Co])` is the convolution.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Default upper bound on the floats of one column-matrix chunk (16 MiB). */
export const MAX_CHUNK_FLOATS = 4 * 1024 * 1024;

let chunkFloats = MAX_CHUNK_FLOATS;

/**
 * Sets the chunk bound (tests make it small to cover several chunks with
 * small tensors) and returns the previous one.
 *
 * @throws {RangeError} when `floats` is not a positive integer
 */
export function setChunkFloats(floats: number): number {
  if (!Number.isInteger(floats) || floats < 1) {
    throw new RangeError(
      `Cannot set the im2col chunk size: ${floats} is not a positive integer`,
    );
  }
  const previous = chunkFloats;
  chunkFloats = floats;
  return previous;
}

/**
 * Images per chunk so that one chunk's column matrix stays under the chunk
 * bound (at least one image).
 */
export function imagesPerChunk(info: tf.backend_util.Conv2DInfo): number {
  const perImage = info.outHeight * info.outWidth * info.filterHeight *
    info.filterWidth * info.inChannels;
  return Math.max(1, Math.floor(chunkFloats / Math.max(1, perImage)));
}

/**
 * Whether a forward convolution is worth running as im2col + sgemm rather
 * than with the `wasm` kernel (XNNPACK's indirect convolution, which copies
 * nothing). The column matrix costs one copied float per Kh·Kw·Ci·rows and
 * the product 2·Co flops for each, so BLAS pays off only with many filters
 * and enough channels per tap. Measured on this project's 2-core machines
 * (batch 600 of 14×4, 3×3 SAME): Co = 32 on par, Co = 64 1.2× faster,
 * Co = 128 1.5× faster; 1 input channel (5×5, 28×7) slower at any Co.
 * Pointwise (1×1) convolutions need no column matrix and always qualify.
 */
export function forwardUsesBlas(info: tf.backend_util.Conv2DInfo): boolean {
  return isPointwise(info) ||
    (info.inChannels >= 4 && info.outChannels >= 64);
}

/** Whether the convolution is a plain per-pixel product (1×1, stride 1, no padding). */
export function isPointwise(info: tf.backend_util.Conv2DInfo): boolean {
  return info.filterHeight === 1 && info.filterWidth === 1 &&
    info.strideHeight === 1 && info.strideWidth === 1 &&
    info.padInfo.top === 0 && info.padInfo.left === 0 &&
    info.outHeight === info.inHeight && info.outWidth === info.inWidth;
}

/**
 * Writes the column matrix of images `first … first + count − 1` of `x`
 * (NHWC) into `cols`, zero where the field reaches into the padding.
 */
export function im2col(
  x: Float32Array,
  info: tf.backend_util.Conv2DInfo,
  first: number,
  count: number,
  cols: Float32Array,
): void {
  const { inHeight: h, inWidth: w, inChannels: ci } = info;
  const { outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } =
    info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  let p = 0;
  for (let b = first; b < first + count; b++) {
    const image = b * h * w * ci;
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++) {
        for (let fy = 0; fy < kh; fy++) {
          const iy = oy * sh - top + fy * dh;
          if (iy < 0 || iy >= h) {
            cols.fill(0, p, p + kw * ci);
            p += kw * ci;
            continue;
          }
          const rowBase = image + iy * w * ci;
          for (let fx = 0; fx < kw; fx++) {
            const ix = ox * sw - left + fx * dw;
            if (ix < 0 || ix >= w) {
              for (let c = 0; c < ci; c++) cols[p++] = 0;
            } else {
              let q = rowBase + ix * ci;
              for (let c = 0; c < ci; c++) cols[p++] = x[q++]!;
            }
          }
        }
      }
    }
  }
}

/**
 * Adds the column matrix `cols` of images `first … first + count − 1` back
 * onto `dx` (NHWC), the transpose of {@linkcode im2col}. `dx` must start at
 * zero (or hold what the sums should add to).
 */
export function col2im(
  cols: Float32Array,
  info: tf.backend_util.Conv2DInfo,
  first: number,
  count: number,
  dx: Float32Array,
): void {
  const { inHeight: h, inWidth: w, inChannels: ci } = info;
  const { outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } =
    info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  let p = 0;
  for (let b = first; b < first + count; b++) {
    const image = b * h * w * ci;
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++) {
        for (let fy = 0; fy < kh; fy++) {
          const iy = oy * sh - top + fy * dh;
          if (iy < 0 || iy >= h) {
            p += kw * ci;
            continue;
          }
          const rowBase = image + iy * w * ci;
          for (let fx = 0; fx < kw; fx++) {
            const ix = ox * sw - left + fx * dw;
            if (ix < 0 || ix >= w) {
              p += ci;
            } else {
              let q = rowBase + ix * ci;
              for (let c = 0; c < ci; c++, q++) dx[q] = dx[q]! + cols[p++]!;
            }
          }
        }
      }
    }
  }
}

/**
 * The geometry of a 2-D NHWC convolution, or undefined when the BLAS
 * kernels do not handle it (NCHW data).
 */
export function convInfo(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: {
    strides: [number, number] | number;
    pad: "same" | "valid" | number | tf.backend_util.ExplicitPadding;
    dataFormat?: string;
    dilations?: [number, number] | number;
    dimRoundingMode?: "floor" | "round" | "ceil";
  },
): tf.backend_util.Conv2DInfo | undefined {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NHWC") {
    return undefined;
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad as "same",
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
}
