/**
 * `Conv2DBackpropInput` (the input gradient of a 2-D convolution, also the
 * relevance pass of LRP through a convolution) through `cblas_sgemm` and
 * col2im: dcols = dy · filterᵀ, then every column is added back onto the
 * input pixel it was read from.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { col2im, convInfo, imagesPerChunk, isPointwise } from "./_im2col.ts";
import type { OpenBlas } from "./_openblas.ts";
import {
  asWasm,
  heapView,
  type KernelArgs,
  scratchBuffer,
} from "./_wasm_heap.ts";

/**
 * Creates the `Conv2DBackpropInput` kernel function; NCHW data and
 * non-float32 inputs go to `fallback`.
 *
 * @param blas the loaded OpenBLAS
 * @param fallback the kernel function to use where BLAS does not apply
 * @returns a kernel function for `tf.registerKernel`
 */
export function createConv2dBackpropInputKernel(
  blas: OpenBlas,
  fallback: tf.KernelFunc,
): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const dy = args.inputs.dy as tf.TensorInfo;
    const filter = args.inputs.filter as tf.TensorInfo;
    const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    const info = convInfo(attrs.inputShape, filter.shape, attrs);
    if (
      info === undefined || dy.dtype !== "float32" ||
      filter.dtype !== "float32"
    ) {
      return fallback(args as tf.KernelConfig & KernelArgs);
    }
    const backend = asWasm(args.backend);
    const out = backend.makeOutput(info.inShape, "float32");
    const dx = heapView(backend, out);
    const dyView = heapView(backend, dy);
    const w = heapView(backend, filter);
    const k = info.filterHeight * info.filterWidth * info.inChannels;
    const co = info.outChannels;
    const rowsPerImage = info.outHeight * info.outWidth;
    if (isPointwise(info)) {
      const rows = info.batchSize * rowsPerImage;
      blas.sgemm(false, true, rows, k, co, 1, dyView, co, w, co, 0, dx, k);
      return out;
    }
    dx.fill(0);
    const step = imagesPerChunk(info);
    for (let first = 0; first < info.batchSize; first += step) {
      const count = Math.min(step, info.batchSize - first);
      const rows = count * rowsPerImage;
      const cols = scratchBuffer(rows * k);
      const o = first * rowsPerImage * co;
      blas.sgemm(
        false,
        true,
        rows,
        k,
        co,
        1,
        dyView.subarray(o, o + rows * co),
        co,
        w,
        co,
        0,
        cols,
        k,
      );
      col2im(cols, info, first, count, dx);
    }
    return out;
  }) as unknown as tf.KernelFunc;
}
