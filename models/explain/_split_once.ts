/**
 * Splitting a tensor with one copy per piece.
 *
 * On the `wasm` backend of TensorFlow.js 4.22 the slice kernel behind
 * `tf.split`, `tf.slice` and `tf.unstack` copies the *whole* input out of the
 * wasm heap into a fresh JavaScript buffer for every piece (`readSync`), so k
 * pieces move k times the tensor through new buffers, and the garbage makes
 * later calls slow (12 steps of [600, 192] and [600, 96]: 24–27 ms mean CPU
 * next to other heap traffic). `initBackend` replaces those kernels with
 * heap copies (`../kernels/heap_slice.ts`); `tf.split` is then one copy per
 * piece, inside the heap, and is what {@linkcode splitOnce} runs (an R-LSTM
 * LRP-α1.5β0.5 pass at batch 50, interleaved on blas: 11.5 → 10.2 ms
 * against reading the tensor back once and uploading each piece). Only on
 * a `wasm` backend without them does it read the tensor once and upload
 * each piece from it: two copies in all.
 *
 * That read is synchronous, a plain memory copy on the CPU backends this
 * library runs on (`wasm`, `cpu`, and the OpenBLAS one).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { heapSliceKernels } from "../kernels/heap_slice.ts";
import { BLAS_BACKEND } from "../kernels/blas/mod.ts";

/**
 * Splits `t` along `axis` into pieces of the given sizes, as `tf.split`,
 * with one copy per piece (see the module notes).
 *
 * @param t a float32 tensor
 * @param sizes the number of equal pieces, or each piece's size along the
 *   axis (summing to its length)
 * @param axis the axis to split; negative counts from the end
 * @default axis 0
 * @returns the pieces, in order; caller owns them
 * @throws {TypeError} if `t` is not float32
 * @throws {RangeError} if the axis is out of range or the sizes do not fit it
 */
export function splitOnce(
  t: tf.Tensor,
  sizes: number | readonly number[],
  axis = 0,
): tf.Tensor[] {
  if (t.dtype !== "float32") {
    throw new TypeError(
      `Cannot split a tensor of dtype "${t.dtype}": expected "float32"`,
    );
  }
  const ax = axis < 0 ? axis + t.rank : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= t.rank) {
    throw new RangeError(
      `Cannot split a tensor of rank ${t.rank}: axis ${axis} is out of range`,
    );
  }
  const length = t.shape[ax]!;
  const parts = pieceSizes(length, sizes);
  const outer = t.shape.slice(0, ax).reduce((a, d) => a * d, 1);
  const inner = t.shape.slice(ax + 1).reduce((a, d) => a * d, 1);
  const backend = tf.getBackend();
  if ((backend !== "wasm" && backend !== BLAS_BACKEND) || heapSliceKernels()) {
    return tf.split(t, parts, ax);
  }
  const values = t.dataSync() as Float32Array;
  let begin = 0;
  return parts.map((size) => {
    const shape = [...t.shape];
    shape[ax] = size;
    const block = size * inner;
    const start = begin * inner;
    begin += size;
    if (outer === 1) {
      return tf.tensor(values.subarray(start, start + block), shape);
    }
    const out = new Float32Array(outer * block);
    const stride = length * inner;
    for (let o = 0; o < outer; o++) {
      const from = o * stride + start;
      out.set(values.subarray(from, from + block), o * block);
    }
    return tf.tensor(out, shape);
  });
}

function pieceSizes(
  length: number,
  sizes: number | readonly number[],
): number[] {
  if (typeof sizes === "number") {
    if (!Number.isInteger(sizes) || sizes < 1 || length % sizes !== 0) {
      throw new RangeError(
        `Cannot split an axis of length ${length} into ${sizes} equal pieces`,
      );
    }
    return new Array(sizes).fill(length / sizes);
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  if (sizes.some((s) => !Number.isInteger(s) || s < 0) || total !== length) {
    throw new RangeError(
      `Cannot split an axis of length ${length} into [${sizes.join(", ")}]`,
    );
  }
  return [...sizes];
}
