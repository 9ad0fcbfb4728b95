/**
 * Taking a block of rows out of a tensor: `x[begin : begin + size]` along
 * axis 0, the one slicing pattern of the step loops (step t of a time-major
 * [T·N, ...] tensor is rows t·N to (t + 1)·N).
 *
 * TensorFlow.js 4.22's `wasm` backend has no cheap way to do it: `slice`,
 * `split` and `unstack` read the *whole* input out of the heap for every
 * piece, and its `GatherV2` kernel took about 0.5 ms for one 57 KB row of a
 * [12, 14400] tensor (measured on our machines: 12 gathers were half of an
 * R-LSTM forward pass at batch 50; unstacking that tensor into its 12 rows
 * took 19 ms). Rows are contiguous, so the `RnnExplainTakeRows` kernel
 * registered here for `wasm` (and copied with every other wasm kernel to
 * `blas`) copies them inside the heap: one `copyWithin`.
 *
 * On backends without the kernel {@linkcode takeRows} is `tf.slice`, which
 * is a view or a cheap copy there.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { BYTES, copyBox, type WasmHeapBackend } from "./_heap_copy.ts";

/** The kernel's registered name. */
export const TAKE_ROWS = "RnnExplainTakeRows";

function takeRowsWasm(
  args: {
    inputs: tf.NamedTensorInfoMap;
    backend: unknown;
    attrs?: tf.NamedAttrMap;
  },
): tf.TensorInfo {
  const x = args.inputs.x!;
  const begin = x.shape.map(() => 0);
  begin[0] = args.attrs!.begin as number;
  const size = [args.attrs!.size as number, ...x.shape.slice(1)];
  return copyBox(args.backend as WasmHeapBackend, x, begin, size, size);
}

/**
 * Registers the heap-copy kernel for the `wasm` backend (call after it is
 * initialised and before the `blas` backend copies its kernels). Idempotent.
 *
 * @returns whether the kernel is registered now
 */
export function registerTakeRowsKernel(): boolean {
  if (tf.engine().registry["wasm"] === undefined) return false;
  if (tf.getKernel(TAKE_ROWS, "wasm") === undefined) {
    tf.registerKernel({
      kernelName: TAKE_ROWS,
      backendName: "wasm",
      kernelFunc: takeRowsWasm as unknown as tf.KernelFunc,
    });
  }
  return true;
}

/**
 * Rows `[begin, begin + size)` of `x` along axis 0, as a new tensor. Not
 * differentiable by itself (wrap it in `tf.customGrad` where a gradient is
 * needed, as `takeStep` does).
 *
 * @param x a tensor of rank ≥ 1
 * @param begin the first row
 * @param size how many rows
 * @returns [size, ...x.shape.slice(1)]; the caller owns it
 * @throws {RangeError} when the rows are not inside `x`
 */
export function takeRows(x: tf.Tensor, begin: number, size: number): tf.Tensor {
  const rows = x.shape[0] ?? 0;
  if (
    !Number.isInteger(begin) || !Number.isInteger(size) || begin < 0 ||
    size < 0 || begin + size > rows
  ) {
    throw new RangeError(
      `Cannot take rows ${begin} to ${
        begin + size
      } of a tensor with ${rows} rows`,
    );
  }
  const backend = tf.getBackend();
  if (
    size > 0 && BYTES[x.dtype] !== undefined &&
    tf.getKernel(TAKE_ROWS, backend) !== undefined
  ) {
    return tf.engine().runKernel(TAKE_ROWS, { x }, {
      begin,
      size,
    }) as tf.Tensor;
  }
  return tf.slice(x, begin, size);
}
