/**
 * The public surface of `models/` for `server/`, `scripts/` and `test/`
 * (STYLE.md §3.2): everything outside `models/` imports from here only.
 *
 * @module
 */
export {
  BACKEND_CHOICES,
  type BackendChoice,
  type BackendInfo,
  BLAS_THREADS_ENV,
  type BlasBackendInfo,
  FORCE_BACKEND_ENV,
  initBackend,
  type InitBackendOptions,
  setBlasThreads,
} from "./backend.ts";
export * from "./data/mod.ts";
export * from "./metrics/mod.ts";
export * from "./arch/mod.ts";
export * from "./checkpoint/mod.ts";
export * from "./training/mod.ts";
export * from "./explain/mod.ts";
export { OutOfRangeError, PreconditionError } from "./errors.ts";
/** Live tensor counts (plain numbers), for leak checks and debug logs outside `models/`. */
export { memory as tensorMemory } from "@tensorflow/tfjs";
