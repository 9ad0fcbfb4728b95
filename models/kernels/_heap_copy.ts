/**
 * Copying boxes of a tensor inside the `wasm` backend's heap, for the
 * kernels of `heap_slice.ts`: contiguous runs with `copyWithin`, no
 * JavaScript copy of the input.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

/** The parts of the `wasm` backend (tfjs-backend-wasm 4.22) the copies use. */
export interface WasmHeapBackend {
  readonly wasm: { readonly HEAPU8: Uint8Array };
  readonly dataIdMap: {
    get(dataId: tf.DataId): { memoryOffset: number } | undefined;
  };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** Bytes per element of the dtypes the heap copies cover. */
export const BYTES: Partial<Record<tf.DataType, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
};

function offsetOf(backend: WasmHeapBackend, info: tf.TensorInfo): number {
  const entry = backend.dataIdMap.get(info.dataId);
  if (entry === undefined) {
    throw new TypeError(
      "Cannot copy inside the heap: the wasm backend does not hold the tensor",
    );
  }
  return entry.memoryOffset;
}

/**
 * Copies x[begin : begin + size] (every axis) into a new tensor of shape
 * `outShape` (size, possibly with axes of length 1 dropped). `x` must have
 * rank ≥ 1 and a dtype in {@linkcode BYTES}.
 *
 * @param backend the wasm backend
 * @param x the input
 * @param begin the box's first index per axis
 * @param size the box's length per axis
 * @param outShape the output's shape (as many elements as the box)
 * @returns the new tensor's info
 */
export function copyBox(
  backend: WasmHeapBackend,
  x: tf.TensorInfo,
  begin: readonly number[],
  size: readonly number[],
  outShape: number[],
): tf.TensorInfo {
  const bytes = BYTES[x.dtype]!;
  const out = backend.makeOutput(outShape, x.dtype);
  const total = size.reduce((a, d) => a * d, 1);
  if (total === 0) return out;
  const rank = x.shape.length;
  // The innermost axes the box spans whole merge into one contiguous run.
  let inner = rank - 1;
  let run = size[inner] ?? 1;
  while (
    inner > 0 && size[inner] === x.shape[inner] && begin[inner] === 0
  ) {
    inner--;
    run *= size[inner]!;
  }
  const strides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) {
    strides[d] = strides[d + 1]! * x.shape[d + 1]!;
  }
  // Offsets after the allocation: it may have grown (moved) the heap.
  const heap = backend.wasm.HEAPU8;
  const from = offsetOf(backend, x);
  let to = offsetOf(backend, out);
  const runBytes = run * bytes;
  // Odometer over the outer axes [0, inner) of the box.
  const index = new Array<number>(inner).fill(0);
  for (let done = 0; done < total; done += run) {
    let start = begin[inner]! * strides[inner]!;
    for (let d = 0; d < inner; d++) {
      start += (begin[d]! + index[d]!) * strides[d]!;
    }
    heap.copyWithin(to, from + start * bytes, from + start * bytes + runBytes);
    to += runBytes;
    for (let d = inner - 1; d >= 0; d--) {
      if (++index[d]! < size[d]!) break;
      index[d] = 0;
    }
  }
  return out;
}
