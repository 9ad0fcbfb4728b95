/**
 * OpenBLAS-backed TensorFlow.js kernels (through Deno FFI) and the `blas`
 * backend that runs them on the `wasm` backend's heap. Only
 * `models/backend.ts` imports this module (and the start-task test reads
 * `OPENBLAS_PATHS`).
 *
 * @module
 */
export {
  BLAS_BACKEND,
  BLAS_KERNELS,
  type BlasBackendInfo,
  registerBlasBackend,
  type RegisterBlasBackendOptions,
  setBlasThreads,
} from "./register_blas_backend.ts";
export {
  BlasUnavailableError,
  type OpenBlas,
  OPENBLAS_PATHS,
  openOpenBlas,
} from "./_openblas.ts";
