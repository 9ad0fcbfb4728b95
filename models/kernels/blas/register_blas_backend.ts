/**
 * The `blas` TensorFlow.js backend: the `wasm` backend's own instance (same
 * heap, same tensors) registered a second time under the name `blas`, with
 * every `wasm` kernel copied over and the compute-heavy ones replaced by
 * OpenBLAS-backed kernels. Because both names share one instance, tensors
 * made under one are used under the other without moving, and a test can
 * switch with `tf.setBackend` to compare the two paths.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { createBatchMatMulKernel } from "./batch_mat_mul.ts";
import { createConv2dKernel, createFusedConv2dKernel } from "./conv2d.ts";
import { createConv2dBackpropFilterKernel } from "./conv2d_backprop_filter.ts";
import { createConv2dBackpropInputKernel } from "./conv2d_backprop_input.ts";
import { createFusedMatMulKernel } from "./fused_mat_mul.ts";
import { type OpenBlas, openOpenBlas } from "./_openblas.ts";

/** The backend name under which the BLAS kernels run. */
export const BLAS_BACKEND = "blas";

type Factory = (blas: OpenBlas, fallback: tf.KernelFunc) => tf.KernelFunc;

/** Kernel name → BLAS kernel factory: the kernels the `blas` backend replaces. */
const KERNELS: ReadonlyArray<readonly [string, Factory]> = [
  ["BatchMatMul", createBatchMatMulKernel],
  ["_FusedMatMul", createFusedMatMulKernel],
  ["Conv2D", createConv2dKernel],
  ["FusedConv2D", createFusedConv2dKernel],
  ["Conv2DBackpropInput", createConv2dBackpropInputKernel],
  ["Conv2DBackpropFilter", createConv2dBackpropFilterKernel],
];

/** The kernels the `blas` backend runs through OpenBLAS. */
export const BLAS_KERNELS: readonly string[] = KERNELS.map(([name]) => name);

/** Options of {@linkcode registerBlasBackend}. */
export interface RegisterBlasBackendOptions {
  /**
   * OpenBLAS threads per process or worker; set it to cores ÷ workers so
   * that workers do not oversubscribe the cores.
   * @default 1
   */
  threads?: number;
  /**
   * Library paths tried in order.
   * @default OPENBLAS_PATHS
   */
  paths?: readonly string[];
}

/** What {@linkcode registerBlasBackend} set up. */
export interface BlasBackendInfo {
  /** Where OpenBLAS was loaded from. */
  readonly path: string;
  /** OpenBLAS threads per call. */
  readonly threads: number;
  /** Kernels that run through OpenBLAS. */
  readonly kernels: readonly string[];
}

let registered: BlasBackendInfo | undefined;
let library: OpenBlas | undefined;

/**
 * Sets OpenBLAS's threads for the `blas` backend of this process or worker
 * (benchmarks compare 1 and 2 threads with it).
 *
 * @throws {TypeError} when the blas backend is not registered
 * @throws {RangeError} when `threads` is not a positive integer
 */
export function setBlasThreads(threads: number): void {
  if (library === undefined || registered === undefined) {
    throw new TypeError(
      "Cannot set OpenBLAS threads: the blas backend is not registered",
    );
  }
  library.setThreads(threads);
  registered = { ...registered, threads: library.threads() };
}

/**
 * Loads OpenBLAS and registers the `blas` backend on top of the initialised
 * `wasm` backend, once per process or worker; later calls return the first
 * call's result. Does not switch backends: call `tf.setBackend("blas")`.
 *
 * @returns the library path, thread count and replaced kernels
 * @throws {BlasUnavailableError} when FFI is not permitted or the library is absent
 * @throws {RangeError} when `threads` is not a positive integer
 * @throws {TypeError} when the `wasm` backend has not been initialised
 */
export function registerBlasBackend(
  options: RegisterBlasBackendOptions = {},
): BlasBackendInfo {
  if (registered !== undefined) return registered;
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(
      `Cannot register the blas backend: threads ${threads} is not a positive integer`,
    );
  }
  const wasm = tf.engine().registry["wasm"];
  if (wasm === undefined) {
    throw new TypeError(
      "Cannot register the blas backend: the wasm backend is not initialised",
    );
  }
  const blas = options.paths === undefined
    ? openOpenBlas()
    : openOpenBlas(options.paths);
  blas.setThreads(threads);
  library = blas;
  const replaced = new Map(KERNELS);
  for (const kernel of tf.getKernelsForBackend("wasm")) {
    const factory = replaced.get(kernel.kernelName);
    tf.registerKernel({
      ...kernel,
      backendName: BLAS_BACKEND,
      ...(factory === undefined
        ? {}
        : { kernelFunc: factory(blas, kernel.kernelFunc) }),
    });
  }
  tf.registerBackend(BLAS_BACKEND, () => wasm, 1);
  registered = {
    path: blas.path,
    threads: blas.threads(),
    kernels: BLAS_KERNELS.filter((name) =>
      tf.getKernel(name, "wasm") !== undefined
    ),
  };
  return registered;
}
