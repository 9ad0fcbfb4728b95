/**
 * TensorFlow.js backend selection, done once per process or worker by an
 * entry point (server, compute worker, script, test helper), never by library
 * code. It is the only file of `models/` that looks at its environment: it
 * resolves the `wasm` binaries next to the installed npm package, loads
 * OpenBLAS through FFI for the `blas` backend (models/kernels/blas), and
 * honours two environment variables when env access is granted:
 *
 * - `RNN_EXPLAIN_FORCE_BACKEND` replaces the caller's choice (CI runs the kernel
 *   and model tests once more with `blas`);
 * - `RNN_EXPLAIN_BLAS_THREADS` sets OpenBLAS's threads when the caller did not.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { registerConv2dBackpropFilterFallback } from "./kernels/conv2d_backprop_filter.ts";
import { registerHeapSliceKernels } from "./kernels/heap_slice.ts";
import {
  BLAS_BACKEND,
  type BlasBackendInfo,
  registerBlasBackend,
  setBlasThreads,
} from "./kernels/blas/mod.ts";

export { type BlasBackendInfo, setBlasThreads };

/**
 * Backends a user may ask for. `blas` is `wasm` with its matrix products and
 * convolutions run by the system OpenBLAS through FFI; `auto` tries native,
 * then `blas`, then `wasm`, then `cpu`.
 */
export type BackendChoice = "auto" | "tensorflow" | "blas" | "wasm" | "cpu";

/** The backend names accepted by {@linkcode initBackend}. */
export const BACKEND_CHOICES: readonly BackendChoice[] = [
  "auto",
  "tensorflow",
  "blas",
  "wasm",
  "cpu",
];

/** Environment variable that overrides every caller's backend choice. */
export const FORCE_BACKEND_ENV = "RNN_EXPLAIN_FORCE_BACKEND";
/** Environment variable with the default OpenBLAS thread count. */
export const BLAS_THREADS_ENV = "RNN_EXPLAIN_BLAS_THREADS";

/** Options of {@linkcode initBackend}. */
export interface InitBackendOptions {
  /**
   * Loads a native TensorFlow backend package (for example
   * `() => import("npm:@tensorflow/tfjs-node")`) and resolves once it has
   * registered the `tensorflow` backend. Callers own the import so that a
   * missing package costs nothing here.
   * @default undefined (no native backend is tried)
   */
  loadNative?: () => Promise<unknown>;
  /**
   * Number of threads for the `wasm` backend.
   * @default 1
   */
  wasmThreads?: number;
  /**
   * OpenBLAS threads for the `blas` backend, per process or worker: cores ÷
   * workers, so that workers do not oversubscribe the cores.
   * @default `RNN_EXPLAIN_BLAS_THREADS`, else 1
   */
  blasThreads?: number;
}

/** What {@linkcode initBackend} chose and why. */
export interface BackendInfo {
  /** The active TensorFlow.js backend name. */
  name: string;
  /** Kernels registered by us because the backend lacked them. */
  fallbackKernels: string[];
  /** Backends tried before `name`, each with the reason it was skipped. */
  skipped: { name: string; reason: string }[];
  /** For the `blas` backend: the library, its threads and the BLAS kernels. */
  blas?: BlasBackendInfo;
}

let current: Promise<BackendInfo> | undefined;

async function tryNative(
  loadNative: (() => Promise<unknown>) | undefined,
): Promise<string | undefined> {
  if (loadNative === undefined) {
    return "no native backend package is configured";
  }
  try {
    await loadNative();
  } catch (err) {
    return `native backend failed to load: ${(err as Error).message}`;
  }
  if (tf.findBackend("tensorflow") === null) {
    return "native package loaded but registered no tensorflow backend";
  }
  return undefined;
}

function readEnv(name: string): string | undefined {
  try {
    if (
      Deno.permissions.querySync({ name: "env", variable: name }).state !==
        "granted"
    ) {
      return undefined;
    }
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

function blasThreads(options: InitBackendOptions): number {
  if (options.blasThreads !== undefined) return options.blasThreads;
  const text = readEnv(BLAS_THREADS_ENV);
  if (text === undefined) return 1;
  const threads = Number(text);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(
      `Cannot read ${BLAS_THREADS_ENV}: "${text}" is not a positive integer`,
    );
  }
  return threads;
}

/** Kernels registered on `wasm` because it lacked them. */
const wasmFallbacks: string[] = [];

async function activateWasm(): Promise<void> {
  if (tf.engine().registry["wasm"] === undefined) {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    const entry = import.meta.resolve("@tensorflow/tfjs-backend-wasm");
    wasm.setWasmPaths(new URL("./", entry).href);
    if (!(await tf.setBackend("wasm"))) {
      throw new Error('tf.setBackend("wasm") returned false');
    }
  }
  // Before the blas backend copies the wasm kernels.
  if (registerConv2dBackpropFilterFallback("wasm")) {
    wasmFallbacks.push("Conv2DBackpropFilter");
  }
  registerHeapSliceKernels();
}

async function activate(
  name: string,
  options: InitBackendOptions,
): Promise<string | BlasBackendInfo | undefined> {
  let blas: BlasBackendInfo | undefined;
  try {
    if (name === "wasm" || name === BLAS_BACKEND) await activateWasm();
    if (name === BLAS_BACKEND) {
      blas = registerBlasBackend({ threads: blasThreads(options) });
    }
    const ok = await tf.setBackend(name);
    if (!ok) return `tf.setBackend("${name}") returned false`;
    await tf.ready();
    return blas;
  } catch (err) {
    if (err instanceof RangeError) throw err;
    return (err as Error).message;
  }
}

/**
 * Chooses and initialises the TensorFlow.js backend, once. Later calls return
 * the first call's result, whatever they ask for.
 *
 * `RNN_EXPLAIN_FORCE_BACKEND`, when set and readable, replaces `choice`
 *
 * @param choice the backend to use; `auto` tries `tensorflow`, `blas`, `wasm`, `cpu` in turn
 * @returns the chosen backend, any registered fallback kernels, and why
 * backends before it were skipped (say `blas` without `--allow-ffi`)
 * @throws {Error} when an explicitly chosen backend cannot be initialised
 * @throws {RangeError} when `RNN_EXPLAIN_FORCE_BACKEND` names no backend, or the
 * BLAS thread count is not a positive integer
 */
export function initBackend(
  choice: BackendChoice = "auto",
  options: InitBackendOptions = {},
): Promise<BackendInfo> {
  current ??= select(envChoice() ?? choice, options);
  return current;
}

function envChoice(): BackendChoice | undefined {
  const value = readEnv(FORCE_BACKEND_ENV);
  if (value === undefined) return undefined;
  if (!(BACKEND_CHOICES as readonly string[]).includes(value)) {
    throw new RangeError(
      `Cannot read ${FORCE_BACKEND_ENV}: "${value}" is not one of ${
        BACKEND_CHOICES.join(", ")
      }`,
    );
  }
  return value as BackendChoice;
}

async function select(
  choice: BackendChoice,
  options: InitBackendOptions,
): Promise<BackendInfo> {
  const skipped: { name: string; reason: string }[] = [];
  const order = choice === "auto"
    ? ["tensorflow", BLAS_BACKEND, "wasm", "cpu"]
    : [choice];
  for (const name of order) {
    const result = name === "tensorflow"
      ? (await tryNative(options.loadNative)) ?? (await activate(name, options))
      : await activate(name, options);
    if (typeof result !== "string") {
      // The blas backend brings its own filter gradient.
      const fallbackKernels = name === "wasm"
        ? [...wasmFallbacks]
        : name === BLAS_BACKEND
        ? []
        : registerConv2dBackpropFilterFallback(name)
        ? ["Conv2DBackpropFilter"]
        : [];
      return {
        name,
        fallbackKernels,
        skipped,
        ...(result === undefined ? {} : { blas: result }),
      };
    }
    const reason = result;
    skipped.push({ name, reason });
    if (choice !== "auto") {
      throw new Error(`Cannot initialise backend "${name}": ${reason}`);
    }
  }
  throw new Error(
    `Cannot initialise any TensorFlow.js backend: ${
      skipped.map((s) => `${s.name} (${s.reason})`).join("; ")
    }`,
  );
}
