/**
 * `Conv2DBackpropFilter` (the filter gradient of a 2-D convolution) through
 * im2col and `cblas_sgemm`: dW = Σ over image chunks of colsᵀ · dy.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { convInfo, im2col, imagesPerChunk, isPointwise } from "./_im2col.ts";
import type { OpenBlas } from "./_openblas.ts";
import {
  asWasm,
  heapView,
  type KernelArgs,
  scratchBuffer,
} from "./_wasm_heap.ts";

/**
 * Creates the `Conv2DBackpropFilter` kernel function; NCHW data and
 * non-float32 inputs go to `fallback`.
 *
 * @param blas the loaded OpenBLAS
 * @param fallback the kernel function to use where BLAS does not apply
 * @returns a kernel function for `tf.registerKernel`
 */
export function createConv2dBackpropFilterKernel(
  blas: OpenBlas,
  fallback: tf.KernelFunc,
): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const x = args.inputs.x as tf.TensorInfo;
    const dy = args.inputs.dy as tf.TensorInfo;
    const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    const info = convInfo(x.shape, attrs.filterShape, attrs);
    if (
      info === undefined || x.dtype !== "float32" || dy.dtype !== "float32"
    ) {
      return fallback(args as tf.KernelConfig & KernelArgs);
    }
    const backend = asWasm(args.backend);
    const out = backend.makeOutput(info.filterShape, "float32");
    const dw = heapView(backend, out);
    const xView = heapView(backend, x);
    const dyView = heapView(backend, dy);
    const k = info.filterHeight * info.filterWidth * info.inChannels;
    const co = info.outChannels;
    const rowsPerImage = info.outHeight * info.outWidth;
    if (info.batchSize * rowsPerImage === 0) {
      dw.fill(0);
      return out;
    }
    if (isPointwise(info)) {
      const rows = info.batchSize * rowsPerImage;
      blas.sgemm(true, false, k, co, rows, 1, xView, k, dyView, co, 0, dw, co);
      return out;
    }
    const step = imagesPerChunk(info);
    for (let first = 0; first < info.batchSize; first += step) {
      const count = Math.min(step, info.batchSize - first);
      const rows = count * rowsPerImage;
      const cols = scratchBuffer(rows * k);
      im2col(xView, info, first, count, cols);
      const o = first * rowsPerImage * co;
      blas.sgemm(
        true,
        false,
        k,
        co,
        rows,
        1,
        cols,
        k,
        dyView.subarray(o, o + rows * co),
        co,
        first === 0 ? 0 : 1,
        dw,
        co,
      );
    }
    return out;
  }) as unknown as tf.KernelFunc;
}
