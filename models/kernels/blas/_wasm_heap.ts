/**
 * Zero-copy access to the `wasm` backend's tensors for the BLAS kernels.
 *
 * The `wasm` backend keeps every tensor in its WebAssembly heap and records
 * each tensor's byte offset in `dataIdMap`. A `Float32Array` view on the
 * heap's buffer at that offset is handed to `cblas_sgemm` as a pointer. The
 * heap grows (and its `ArrayBuffer` is replaced) when the backend allocates,
 * so a kernel takes its views only after allocating its output, and makes no
 * backend allocation while it holds them.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

/** The parts of `BackendWasm` (tfjs-backend-wasm 4.22) the kernels use. */
export interface WasmBackendLike {
  readonly wasm: { readonly HEAPU8: Uint8Array };
  readonly dataIdMap: {
    get(dataId: tf.DataId): { memoryOffset: number } | undefined;
  };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** The arguments every kernel function receives. */
export interface KernelArgs {
  readonly inputs: tf.NamedTensorInfoMap;
  readonly backend: tf.KernelBackend;
  readonly attrs?: tf.NamedAttrMap;
}

/**
 * The `wasm` backend behind `backend`, or a TypeError for any other.
 *
 * @throws {TypeError} when `backend` is not the `wasm` backend
 */
export function asWasm(backend: tf.KernelBackend): WasmBackendLike {
  const b = backend as unknown as Partial<WasmBackendLike>;
  if (
    b.wasm?.HEAPU8 === undefined || b.dataIdMap === undefined ||
    typeof b.makeOutput !== "function"
  ) {
    throw new TypeError(
      "Cannot run a BLAS kernel: the backend is not the wasm backend",
    );
  }
  return b as WasmBackendLike;
}

/**
 * A float32 view of `info`'s values on the current heap. Take it after the
 * kernel's last backend allocation.
 *
 * @throws {TypeError} when the backend does not hold `info`
 */
export function heapView(
  backend: WasmBackendLike,
  info: tf.TensorInfo,
): Float32Array {
  const entry = backend.dataIdMap.get(info.dataId);
  if (entry === undefined) {
    throw new TypeError(
      "Cannot read a tensor for a BLAS kernel: the wasm backend does not hold it",
    );
  }
  let size = 1;
  for (const d of info.shape) size *= d;
  return new Float32Array(backend.wasm.HEAPU8.buffer, entry.memoryOffset, size);
}

const scratch: Float32Array[] = [];

/**
 * A reusable JavaScript scratch array of at least `size` floats (outside the
 * heap, so it stays valid across backend allocations). Its contents are
 * undefined; each call with the same `slot` may return the same memory.
 */
export function scratchBuffer(size: number, slot = 0): Float32Array {
  if ((scratch[slot]?.length ?? 0) < size) {
    scratch[slot] = new Float32Array(size);
  }
  return scratch[slot]!.subarray(0, size);
}
