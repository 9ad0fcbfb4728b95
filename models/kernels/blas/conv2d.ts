/**
 * `Conv2D` and `FusedConv2D` (bias, activation) through im2col and
 * `cblas_sgemm`. The column matrix is built in chunks of images in a
 * JavaScript scratch array; filter, bias and output stay on the `wasm` heap.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import {
  activationSupported,
  applyActivation,
  biasSupported,
  fillBias,
} from "./_activation.ts";
import {
  convInfo,
  forwardUsesBlas,
  im2col,
  imagesPerChunk,
  isPointwise,
} from "./_im2col.ts";
import type { OpenBlas } from "./_openblas.ts";
import {
  asWasm,
  heapView,
  type KernelArgs,
  scratchBuffer,
} from "./_wasm_heap.ts";

/**
 * `out = conv(x, filter) + beta · out` over NHWC `x`, written into `out`.
 */
function convolve(
  blas: OpenBlas,
  info: tf.backend_util.Conv2DInfo,
  x: Float32Array,
  filter: Float32Array,
  out: Float32Array,
  beta: number,
): void {
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  const co = info.outChannels;
  const rowsPerImage = info.outHeight * info.outWidth;
  if (isPointwise(info)) {
    const rows = info.batchSize * rowsPerImage;
    blas.sgemm(false, false, rows, co, k, 1, x, k, filter, co, beta, out, co);
    return;
  }
  const step = imagesPerChunk(info);
  for (let first = 0; first < info.batchSize; first += step) {
    const count = Math.min(step, info.batchSize - first);
    const rows = count * rowsPerImage;
    const cols = scratchBuffer(rows * k);
    im2col(x, info, first, count, cols);
    const o = first * rowsPerImage * co;
    blas.sgemm(
      false,
      false,
      rows,
      co,
      k,
      1,
      cols,
      k,
      filter,
      co,
      beta,
      out.subarray(o, o + rows * co),
      co,
    );
  }
}

/**
 * Creates the `Conv2D` kernel function; NCHW data, geometries where im2col
 * does not pay (see `forwardUsesBlas`) and non-float32 inputs go to
 * `fallback`.
 *
 * @param blas the loaded OpenBLAS
 * @param fallback the kernel function to use where BLAS does not apply
 * @returns a kernel function for `tf.registerKernel`
 */
export function createConv2dKernel(
  blas: OpenBlas,
  fallback: tf.KernelFunc,
): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const x = args.inputs.x as tf.TensorInfo;
    const filter = args.inputs.filter as tf.TensorInfo;
    const attrs = args.attrs as unknown as tf.Conv2DAttrs;
    const info = convInfo(x.shape, filter.shape, attrs);
    if (
      info === undefined || !forwardUsesBlas(info) ||
      x.dtype !== "float32" || filter.dtype !== "float32"
    ) {
      return fallback(args as tf.KernelConfig & KernelArgs);
    }
    const backend = asWasm(args.backend);
    const out = backend.makeOutput(info.outShape, "float32");
    convolve(
      blas,
      info,
      heapView(backend, x),
      heapView(backend, filter),
      heapView(backend, out),
      0,
    );
    return out;
  }) as unknown as tf.KernelFunc;
}

/**
 * Creates the `FusedConv2D` kernel function; PReLU, NCHW data, geometries
 * where im2col does not pay (see `forwardUsesBlas`), biases that
 * are not one value per output channel and non-float32 inputs go to
 * `fallback`.
 *
 * @param blas the loaded OpenBLAS
 * @param fallback the kernel function to use where BLAS does not apply
 * @returns a kernel function for `tf.registerKernel`
 */
export function createFusedConv2dKernel(
  blas: OpenBlas,
  fallback: tf.KernelFunc,
): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const x = args.inputs.x as tf.TensorInfo;
    const filter = args.inputs.filter as tf.TensorInfo;
    const bias = args.inputs.bias as tf.TensorInfo | undefined;
    const attrs = args.attrs as unknown as tf.FusedConv2DAttrs;
    const info = convInfo(x.shape, filter.shape, attrs);
    if (
      info === undefined || !forwardUsesBlas(info) ||
      x.dtype !== "float32" || filter.dtype !== "float32" ||
      !activationSupported(attrs.activation) ||
      (bias !== undefined &&
        (bias.dtype !== "float32" ||
          !biasSupported(bias.shape, info.outChannels)))
    ) {
      return fallback(args as tf.KernelConfig & KernelArgs);
    }
    const backend = asWasm(args.backend);
    const out = backend.makeOutput(info.outShape, "float32");
    const outView = heapView(backend, out);
    if (bias !== undefined) {
      fillBias(outView, heapView(backend, bias), info.outChannels);
    }
    convolve(
      blas,
      info,
      heapView(backend, x),
      heapView(backend, filter),
      outView,
      bias === undefined ? 0 : 1,
    );
    applyActivation(outView, attrs.activation, attrs.leakyreluAlpha);
    return out;
  }) as unknown as tf.KernelFunc;
}
