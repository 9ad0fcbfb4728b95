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

/** The parts of the `wasm` backend (tfjs-backend-wasm 4.22) these kernels use. */
interface WasmHeapBackend {
  readonly wasm: { readonly HEAPU8: Uint8Array };
  readonly dataIdMap: {
    get(dataId: tf.DataId): { memoryOffset: number } | undefined;
  };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

interface KernelArgs {
  readonly inputs: tf.NamedTensorInfoMap;
  readonly backend: unknown;
  readonly attrs?: tf.NamedAttrMap;
}

/** Bytes per element of the dtypes these kernels copy. */
const BYTES: Partial<Record<tf.DataType, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
};

function offsetOf(backend: WasmHeapBackend, info: tf.TensorInfo): number {
  const entry = backend.dataIdMap.get(info.dataId);
  if (entry === undefined) {
    throw new TypeError(
      "Cannot slice a tensor: the wasm backend does not hold it",
    );
  }
  return entry.memoryOffset;
}

/**
 * Copies x[begin : begin + size] (every axis) into a new tensor of shape
 * `outShape` (size, possibly with axes of length 1 dropped).
 */
function copyBox(
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
