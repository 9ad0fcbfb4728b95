/**
 * TensorFlow.js backend selection, done once per process or worker by an
 * entry point (server, compute worker, script, test helper), never by library
 * code. It is the only file of `models/` that looks at its environment: it
 * resolves the `wasm` binaries next to the installed npm package.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { registerConv2dBackpropFilterFallback } from "./kernels/conv2d_backprop_filter.ts";

/** Backends a user may ask for. `auto` tries native, then `wasm`, then `cpu`. */
export type BackendChoice = "auto" | "tensorflow" | "wasm" | "cpu";

/** The backend names accepted by {@linkcode initBackend}. */
export const BACKEND_CHOICES: readonly BackendChoice[] = [
  "auto",
  "tensorflow",
  "wasm",
  "cpu",
];

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
}

/** What {@linkcode initBackend} chose and why. */
export interface BackendInfo {
  /** The active TensorFlow.js backend name. */
  name: string;
  /** Kernels registered by us because the backend lacked them. */
  fallbackKernels: string[];
  /** Backends tried before `name`, each with the reason it was skipped. */
  skipped: { name: string; reason: string }[];
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

async function activate(name: string): Promise<string | undefined> {
  try {
    if (name === "wasm") {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      const entry = import.meta.resolve("@tensorflow/tfjs-backend-wasm");
      wasm.setWasmPaths(new URL("./", entry).href);
    }
    const ok = await tf.setBackend(name);
    if (!ok) return `tf.setBackend("${name}") returned false`;
    await tf.ready();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Chooses and initialises the TensorFlow.js backend, once. Later calls return
 * the first call's result, whatever they ask for.
 *
 * @param choice the backend to use; `auto` tries `tensorflow`, `wasm`, `cpu` in turn
 * @returns the chosen backend and any registered fallback kernels
 * @throws {Error} when an explicitly chosen backend cannot be initialised
 */
export function initBackend(
  choice: BackendChoice = "auto",
  options: InitBackendOptions = {},
): Promise<BackendInfo> {
  current ??= select(choice, options);
  return current;
}

async function select(
  choice: BackendChoice,
  options: InitBackendOptions,
): Promise<BackendInfo> {
  const skipped: { name: string; reason: string }[] = [];
  const order = choice === "auto" ? ["tensorflow", "wasm", "cpu"] : [choice];
  for (const name of order) {
    const reason = name === "tensorflow"
      ? (await tryNative(options.loadNative)) ?? (await activate(name))
      : await activate(name);
    if (reason === undefined) {
      const fallbackKernels = registerConv2dBackpropFilterFallback(name)
        ? ["Conv2DBackpropFilter"]
        : [];
      return { name, fallbackKernels, skipped };
    }
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
