/**
 * Reading a tensor's values straight off the `wasm` heap.
 *
 * `data()` and `dataSync()` copy a tensor into a fresh JavaScript buffer,
 * and fresh memory is slow on our VMs (page faults: reading [600, 196]
 * float32 took 0.03 ms into warm memory and about 1.5 ms into new pages).
 * Where the caller copies the values on anyway (a relevance pass
 * reordering rows into its output), a view onto the heap saves that buffer.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { WasmHeapBackend } from "./_heap_copy.ts";

/**
 * The values of a float32 tensor as a view onto the `wasm` heap, when the
 * active backend is `wasm` or one that keeps its tensors there (`blas`),
 * with no copy; otherwise undefined. The view is valid only until the next
 * TensorFlow.js call (an allocation may grow, and so move, the heap).
 *
 * @param t a tensor
 * @returns the view, or undefined
 */
export function heapFloats(t: tf.Tensor): Float32Array | undefined {
  if (t.dtype !== "float32") return undefined;
  const backend = tf.backend() as Partial<WasmHeapBackend>;
  const entry = backend.dataIdMap?.get(t.dataId);
  const heap = backend.wasm?.HEAPU8;
  if (entry === undefined || heap === undefined) return undefined;
  return new Float32Array(heap.buffer, entry.memoryOffset, t.size);
}
