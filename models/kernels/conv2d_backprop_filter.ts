/**
 * A `Conv2DBackpropFilter` kernel for backends that lack one (the `wasm`
 * backend of TensorFlow.js 4.22 has `Conv2D` and `Conv2DBackpropInput` but no
 * filter gradient, so training any convolutional model fails without it).
 *
 * The kernel reads both operands back from the backend, computes
 * dW[kh, kw, ci, co] = Σ_{n, y, x} xpad[n, y·s + kh, x·s + kw, ci] · dy[n, y, x, co]
 * in plain JavaScript and hands the result to the backend as a new tensor.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

type TensorInfo = tf.TensorInfo;

interface BackendWithData {
  readSync(dataId: object): tf.backend_util.BackendValues;
  /** The `wasm` backend's way to hand over a result. */
  makeOutput?(
    shape: number[],
    dtype: tf.DataType,
    memoryOffset?: number,
    values?: tf.backend_util.BackendValues,
  ): TensorInfo;
  /** The `cpu` and `webgl` backends' way. */
  makeTensorInfo?(
    shape: number[],
    dtype: tf.DataType,
    values: tf.backend_util.BackendValues,
  ): TensorInfo;
}

/**
 * Computes the filter gradient of a 2-D convolution over NHWC inputs.
 *
 * @param x input values, shape [N, H, W, Ci], row-major
 * @param dy output gradient, shape [N, Ho, Wo, Co], row-major
 * @param info convolution geometry from `tf.backend_util.computeConv2DInfo`
 * @returns dW with shape [Kh, Kw, Ci, Co], row-major
 */
export function conv2dBackpropFilterValues(
  x: Float32Array,
  dy: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): Float32Array {
  const {
    batchSize: n,
    inHeight: h,
    inWidth: w,
    inChannels: ci,
    outHeight: ho,
    outWidth: wo,
    outChannels: co,
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
    dilationHeight: dh,
    dilationWidth: dw,
  } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const out = new Float32Array(kh * kw * ci * co);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++) {
        const dyBase = ((b * ho + oy) * wo + ox) * co;
        for (let fy = 0; fy < kh; fy++) {
          const iy = oy * sh - top + fy * dh;
          if (iy < 0 || iy >= h) continue;
          for (let fx = 0; fx < kw; fx++) {
            const ix = ox * sw - left + fx * dw;
            if (ix < 0 || ix >= w) continue;
            const xBase = ((b * h + iy) * w + ix) * ci;
            const wBase = (fy * kw + fx) * ci * co;
            for (let c = 0; c < ci; c++) {
              const xv = x[xBase + c];
              if (xv === 0) continue;
              const row = wBase + c * co;
              for (let o = 0; o < co; o++) out[row + o] += xv * dy[dyBase + o];
            }
          }
        }
      }
    }
  }
  return out;
}

/** Kernel function registered for `Conv2DBackpropFilter` on a backend. */
function conv2dBackpropFilterKernel(
  args: {
    inputs: tf.NamedTensorInfoMap;
    backend: tf.KernelBackend;
    attrs?: tf.NamedAttrMap;
  },
): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  const dy = args.inputs.dy as TensorInfo;
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NHWC") {
    throw new RangeError(
      `Cannot compute Conv2DBackpropFilter: data format "${attrs.dataFormat}" is not supported, only "NHWC"`,
    );
  }
  const backend = args.backend as unknown as BackendWithData;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
  const values = conv2dBackpropFilterValues(
    Float32Array.from(backend.readSync(x.dataId) as Float32Array),
    Float32Array.from(backend.readSync(dy.dataId) as Float32Array),
    info,
  );
  if (backend.makeOutput !== undefined) {
    return backend.makeOutput(info.filterShape, "float32", undefined, values);
  }
  if (backend.makeTensorInfo !== undefined) {
    return backend.makeTensorInfo(info.filterShape, "float32", values);
  }
  throw new TypeError(
    "Cannot compute Conv2DBackpropFilter: the backend can not create tensors from values",
  );
}

/**
 * Registers the JavaScript `Conv2DBackpropFilter` kernel for `backendName`
 * unless that backend already has one.
 *
 * @returns true when the fallback was registered, false when a native kernel exists
 */
export function registerConv2dBackpropFilterFallback(
  backendName: string,
): boolean {
  if (tf.getKernel("Conv2DBackpropFilter", backendName) !== undefined) {
    return false;
  }
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName,
    kernelFunc: conv2dBackpropFilterKernel as unknown as tf.KernelFunc,
  });
  return true;
}
