/**
 * What a task handler inside a worker gets: its abort signal, a way to post
 * events, and the worker's caches.
 *
 * @module
 */
import type { RnnModel } from "../../models/mod.ts";
import { loadModel } from "./_load_model.ts";
import type { ProblemCache } from "./_problems.ts";
import type { ModelCache } from "./model_cache.ts";
import { modelKey, type ModelRef, type TaskEvent } from "./protocol.ts";

/** The environment of one running task. */
export interface TaskContext {
  /** Aborted by a `cancel` message or the shared cancel flag; checked between steps. */
  readonly signal: AbortSignal;
  /**
   * Reads the pool's shared cancel flag and aborts `signal` when it names
   * this task. A busy worker learns of a cancel this way, without its event
   * loop: long passes call it where they would yield a macrotask (about 2 ms
   * in Deno; it is their `ExplainOptions.yieldToEventLoop`), training after
   * every step.
   */
  readonly pollCancel: () => void;
  /** Posts an event at once, moving the listed buffers. */
  emit(event: TaskEvent, transfer?: Transferable[]): void;
  /** The worker's loaded models. */
  readonly models: ModelCache<RnnModel>;
  /** The worker's built problems. */
  readonly problems: ProblemCache;
}

/**
 * Runs `fn` with the cached model a reference names, loading it once per
 * worker; the model stays cached afterwards.
 *
 * @param context the task's context
 * @param ref the model
 * @param fn the work
 * @returns what `fn` returns
 */
export async function withModel<R>(
  context: TaskContext,
  ref: ModelRef,
  fn: (model: RnnModel) => Promise<R>,
): Promise<R> {
  checkModelRef(ref);
  const lease = await context.models.acquire(
    modelKey(ref),
    () => loadModel(ref),
  );
  try {
    return await fn(lease.value);
  } finally {
    lease.release();
  }
}

function checkModelRef(ref: ModelRef): void {
  if (
    typeof ref !== "object" || ref === null || typeof ref.id !== "string" ||
    typeof ref.dir !== "string" || typeof ref.sha256 !== "string"
  ) {
    throw new TypeError(
      "Cannot use model reference: id, dir and sha256 must be strings",
    );
  }
}

/**
 * Returns the array itself when it owns its whole buffer, else a copy, so
 * that transferring its buffer moves exactly this data.
 *
 * @param array a typed array
 * @returns an array whose buffer may be transferred
 */
export function owned<T extends Float32Array | Float64Array | Uint8Array>(
  array: T,
): T & { readonly buffer: ArrayBuffer } {
  const whole = array.byteOffset === 0 &&
    array.byteLength === array.buffer.byteLength &&
    array.buffer instanceof ArrayBuffer;
  return (whole ? array : array.slice()) as T & {
    readonly buffer: ArrayBuffer;
  };
}
