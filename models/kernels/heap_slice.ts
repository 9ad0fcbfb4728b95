/**
 * `Slice`, `SplitV` and `Unpack` for the `wasm` backend that copy inside the
 * WebAssembly heap.
 *
 * TensorFlow.js 4.22's own wasm kernels read the *whole* input out of the
 * heap (`readSync`, a fresh JavaScript copy) for every piece they cut, so
 * splitting an R-LSTM cell's [50, 288] gate pre-activations into i, f, o, g
 * copied 4 × 57 KB of fresh memory (SplitV and Slice were about 0.4 ms per
 * call on our machines, a third of a wasm forward pass). These kernels copy
 * only the elements they return, as contiguous runs with `copyWithin`.
 * They replace the wasm kernels before the `blas` backend copies them;
 * dtypes they do not cover (string, complex64) go to the original kernels.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { BYTES, copyBox, type WasmHeapBackend } from "./_heap_copy.ts";

interface KernelArgs {
  readonly inputs: tf.NamedTensorInfoMap;
  readonly backend: unknown;
  readonly attrs?: tf.NamedAttrMap;
}

function sliceKernel(original: tf.KernelFunc): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const x = args.inputs.x!;
    if (BYTES[x.dtype] === undefined || x.shape.length === 0) {
      return original(args as never);
    }
    const [begin, size] = tf.slice_util.parseSliceParams(
      x as unknown as tf.TensorInfo & { rank: number },
      args.attrs!.begin as number | number[],
      args.attrs!.size as number | number[] | undefined,
    );
    return copyBox(args.backend as WasmHeapBackend, x, begin, size, size);
  }) as unknown as tf.KernelFunc;
}

function splitVKernel(original: tf.KernelFunc): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const x = args.inputs.x!;
    if (BYTES[x.dtype] === undefined || x.shape.length === 0) {
      return original(args as never);
    }
    const axis = tf.util.parseAxisParam(
      args.attrs!.axis as number,
      x.shape,
    )[0]!;
    const sizes = tf.backend_util.prepareSplitSize(
      x as unknown as tf.Tensor,
      args.attrs!.numOrSizeSplits as number | number[],
      axis,
    );
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const piece = copyBox(
        args.backend as WasmHeapBackend,
        x,
        begin,
        size,
        size,
      );
      begin[axis]! += s;
      return piece;
    });
  }) as unknown as tf.KernelFunc;
}

function unpackKernel(original: tf.KernelFunc): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const x = args.inputs.value!;
    if (BYTES[x.dtype] === undefined || x.shape.length === 0) {
      return original(args as never);
    }
    const axis = tf.util.parseAxisParam(
      (args.attrs!.axis as number) ?? 0,
      x.shape,
    )[0]!;
    const outShape = x.shape.filter((_, d) => d !== axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    const size = [...x.shape];
    size[axis] = 1;
    return Array.from({ length: x.shape[axis]! }, (_, i) => {
      begin[axis] = i;
      return copyBox(
        args.backend as WasmHeapBackend,
        x,
        begin,
        size,
        outShape,
      );
    });
  }) as unknown as tf.KernelFunc;
}

/** The kernels replaced, each wrapping the original for other dtypes. */
const REPLACEMENTS: [string, (original: tf.KernelFunc) => tf.KernelFunc][] = [
  ["Slice", sliceKernel],
  ["SplitV", splitVKernel],
  ["Unpack", unpackKernel],
];

const replaced = new Set<string>();

/**
 * Replaces the `wasm` backend's `Slice`, `SplitV` and `Unpack` with the
 * heap-copy kernels (call after the backend is initialised and before the
 * `blas` backend copies its kernels). Idempotent.
 *
 * @returns the names of the kernels replaced so far
 */
export function registerHeapSliceKernels(): string[] {
  if (tf.engine().registry["wasm"] === undefined) return [...replaced];
  for (const [name, wrap] of REPLACEMENTS) {
    if (replaced.has(name)) continue;
    const kernel = tf.getKernel(name, "wasm");
    if (kernel === undefined) continue;
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({ ...kernel, kernelFunc: wrap(kernel.kernelFunc) });
    replaced.add(name);
  }
  return [...replaced];
}
