/**
 * The compute pool: tensor work runs in Deno Workers (`worker.ts`), one per
 * core by default, each with its own TensorFlow.js backend, so the gRPC event
 * loop never computes. A task goes to an idle worker (preferring one that
 * already holds its model), else waits in a bounded queue; a full queue
 * refuses at once. An aborted signal (client cancel or deadline) removes a
 * queued task or tells the worker to stop between steps, and the task's
 * promise rejects with the signal's reason at once. A crashed worker fails
 * its task with an internal error and is replaced.
 *
 * It is long because it is one state machine (slots × tasks); each
 * transition is a short method.
 *
 * @module
 */
import type { BackendChoice } from "../../models/mod.ts";
import { ResourceExhaustedError, UnavailableError } from "../errors.ts";
import {
  type ComputeTask,
  type EventOf,
  type FromWorker,
  modelKey,
  type ResultOf,
  type TaskEvent,
  type TaskResult,
  type ToWorker,
  type WorkerSettings,
} from "./protocol.ts";
import { packTask } from "./_pack_task.ts";
import { ComputeError, fromWireError, type WireError } from "./wire_error.ts";

/** Options of {@linkcode createComputePool}. */
export interface ComputePoolOptions {
  /**
   * Number of workers.
   * @default navigator.hardwareConcurrency
   */
  workers?: number;
  /**
   * Each worker's TensorFlow.js backend.
   * @default "wasm"
   */
  backend?: BackendChoice;
  /**
   * Tasks that may wait for a worker; one more is refused with
   * RESOURCE_EXHAUSTED.
   * @default 64
   */
  queueLimit?: number;
  /**
   * Loaded models kept per worker.
   * @default 4
   */
  modelCacheSize?: number;
  /**
   * Built dataset problems kept per worker (each can take hundreds of MB).
   * @default 1
   */
  problemCacheSize?: number;
  /**
   * Data folder the workers search for IDX files.
   * @default undefined (the embedded MNIST and system folders only)
   */
  dataDir?: string;
  /**
   * Milliseconds a worker may take to stop a cancelled task before it is
   * terminated and replaced.
   * @default 10000
   */
  cancelGraceMs?: number;
  /**
   * The worker module.
   * @default `./worker.ts` beside this file
   */
  workerUrl?: string | URL;
  /**
   * Told about every worker that crashed or failed to start (for the log).
   * @default undefined
   */
  onWorkerError?: (error: Error) => void;
}

/** Options of {@linkcode ComputePool.run}. */
export interface RunOptions<E> {
  /** Cancels the task (queued or running); the promise rejects with its reason. */
  signal?: AbortSignal;
  /** Receives the task's events in order, until the task settles. */
  onEvent?: (event: E) => void;
  /**
   * The caller gives up the task's raw input arrays: those spanning a whole
   * buffer move to the worker without a copy and are detached (others are
   * copied). For inputs the caller decoded for this task only, such as a
   * request's tensors.
   * @default false
   */
  transferInputs?: boolean;
}

/** Counters for metrics. */
export interface ComputePoolStats {
  /** Live workers. */
  workers: number;
  /** Workers running a task (a cancelled one counts until it stops). */
  busy: number;
  /** Tasks waiting for a worker. */
  queued: number;
  /** Tasks that succeeded. */
  done: number;
  /** Tasks that failed (errors, crashes), not counting cancelled ones. */
  failed: number;
  /** Tasks cancelled by their signal. */
  cancelled: number;
  /** Workers that crashed and were replaced. */
  crashed: number;
  /**
   * Events that arrived after their task had settled: work a worker did
   * after a cancel, before it saw it (a few per cancel at most).
   */
  lateEvents: number;
  /**
   * Live tensors in each worker after its last task (its cached models'
   * weights; growth across tasks with the same models means a leak).
   */
  tensors: number[];
}

/** A pool of compute workers; `close()` (or `using`) terminates them. */
export interface ComputePool extends Disposable {
  /**
   * Runs a task on a worker.
   *
   * @param task the task
   * @param options signal and event callback
   * @returns the task's result
   * @throws {ResourceExhaustedError} at once when every worker is busy and the queue is full
   * @throws {UnavailableError} when the pool is closed or no worker could start
   * @throws the signal's reason when aborted
   * @throws the task's typed error (see `wire_error.ts`), or {@linkcode ComputeError} when a worker crashed
   */
  run<T extends ComputeTask>(
    task: T,
    options?: RunOptions<EventOf<T["kind"]>>,
  ): Promise<ResultOf<T["kind"]>>;
  /** Drops a model from every worker's cache (e.g. after it was deleted). */
  evict(modelId: string): void;
  /**
   * Resolves when every worker has its backend, with the backend names.
   * @throws the start-up error of a worker that could not start
   */
  ready(): Promise<string[]>;
  /** Current counters. */
  stats(): ComputePoolStats;
  /** Terminates every worker and rejects every pending task. Idempotent. */
  close(): void;
}

interface Job {
  id: number;
  task: ComputeTask;
  key: string | undefined;
  signal: AbortSignal | undefined;
  onEvent: ((event: TaskEvent) => void) | undefined;
  transferInputs: boolean;
  resolve: (result: TaskResult) => void;
  reject: (error: unknown) => void;
  settled: boolean;
  onAbort: () => void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  models: Set<string>;
  ready: Promise<string>;
  markReady: (backend: string) => void;
  markFailed: (error: Error) => void;
  cancelTimer: ReturnType<typeof setTimeout> | undefined;
  /** Shared with the worker: the id of the task cancelled last (see `ToWorker` init). */
  cancelFlag: Int32Array;
  dead: boolean;
  tensors: number;
}

function positiveInt(value: number, name: string, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Cannot create compute pool: ${name} must be an integer ≥ ${min}: got ${value}`,
    );
  }
  return value;
}

class Pool implements ComputePool {
  #settings: WorkerSettings;
  #queueLimit: number;
  #cancelGraceMs: number;
  #url: string;
  #onWorkerError: ((error: Error) => void) | undefined;
  #slots: Slot[] = [];
  #queue: Job[] = [];
  #nextId = 1;
  #closed = false;
  #startError: Error | undefined;
  #counts = {
    done: 0,
    failed: 0,
    cancelled: 0,
    crashed: 0,
    lateEvents: 0,
  };

  constructor(options: ComputePoolOptions) {
    const workers = positiveInt(
      options.workers ?? navigator.hardwareConcurrency,
      "workers",
    );
    this.#queueLimit = positiveInt(options.queueLimit ?? 64, "queueLimit", 0);
    this.#cancelGraceMs = positiveInt(
      options.cancelGraceMs ?? 10_000,
      "cancelGraceMs",
    );
    this.#settings = {
      backend: options.backend ?? "wasm",
      modelCacheSize: positiveInt(
        options.modelCacheSize ?? 4,
        "modelCacheSize",
      ),
      problemCacheSize: positiveInt(
        options.problemCacheSize ?? 1,
        "problemCacheSize",
      ),
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    };
    this.#url = String(
      options.workerUrl ?? new URL("./worker.ts", import.meta.url),
    );
    this.#onWorkerError = options.onWorkerError;
    for (let i = 0; i < workers; i++) this.#slots.push(this.#spawn());
  }

  run<T extends ComputeTask>(
    task: T,
    options: RunOptions<EventOf<T["kind"]>> = {},
  ): Promise<ResultOf<T["kind"]>> {
    const { promise, resolve, reject } = Promise.withResolvers<TaskResult>();
    const { signal } = options;
    if (this.#closed || this.#slots.length === 0) {
      reject(this.#unavailable());
      return promise as Promise<ResultOf<T["kind"]>>;
    }
    if (signal?.aborted) {
      reject(signal.reason);
      return promise as Promise<ResultOf<T["kind"]>>;
    }
    const job: Job = {
      id: this.#nextId++,
      task,
      key: "model" in task ? modelKey(task.model) : undefined,
      signal,
      onEvent: options.onEvent as ((event: TaskEvent) => void) | undefined,
      transferInputs: options.transferInputs ?? false,
      resolve,
      reject,
      settled: false,
      onAbort: () => this.#abort(job, signal!.reason),
    };
    const slot = this.#idleSlot(job.key);
    if (slot === undefined && this.#queue.length >= this.#queueLimit) {
      reject(
        new ResourceExhaustedError(
          `Cannot queue compute task: the queue is full (${this.#queue.length} tasks wait for ${this.#slots.length} busy workers)`,
        ),
      );
      return promise as Promise<ResultOf<T["kind"]>>;
    }
    signal?.addEventListener("abort", job.onAbort, { once: true });
    if (slot === undefined) this.#queue.push(job);
    else this.#start(slot, job);
    return promise as Promise<ResultOf<T["kind"]>>;
  }

  evict(modelId: string): void {
    for (const slot of this.#slots) {
      slot.worker.postMessage({ type: "evict", modelId } satisfies ToWorker);
      for (const key of slot.models) {
        if (key.startsWith(`${modelId}@`)) slot.models.delete(key);
      }
    }
  }

  ready(): Promise<string[]> {
    if (this.#startError !== undefined) return Promise.reject(this.#startError);
    if (this.#closed) return Promise.reject(this.#unavailable());
    return Promise.all(this.#slots.map((s) => s.ready));
  }

  stats(): ComputePoolStats {
    return {
      workers: this.#slots.length,
      busy: this.#slots.filter((s) => s.job !== undefined).length,
      queued: this.#queue.length,
      ...this.#counts,
      tensors: this.#slots.map((s) => s.tensors),
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const error = this.#unavailable();
    for (const job of this.#queue.splice(0)) this.#settle(job, error);
    for (const slot of this.#slots.splice(0)) {
      if (slot.job !== undefined) this.#settle(slot.job, error);
      this.#kill(slot);
      // Nobody may wait on it any more; keep the rejection handled.
      slot.markFailed(error);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #unavailable(): UnavailableError {
    return new UnavailableError(
      this.#closed
        ? "Cannot run compute task: the compute pool is closed"
        : `Cannot run compute task: no compute worker could start: ${this.#startError?.message}`,
      { cause: this.#startError },
    );
  }

  #spawn(): Slot {
    const worker = new Worker(this.#url, { type: "module" });
    const ready = Promise.withResolvers<string>();
    const cancelFlag = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    ready.promise.catch(() => {});
    const slot: Slot = {
      worker,
      job: undefined,
      models: new Set(),
      ready: ready.promise,
      markReady: ready.resolve,
      markFailed: ready.reject,
      cancelTimer: undefined,
      cancelFlag: new Int32Array(cancelFlag),
      dead: false,
      tensors: 0,
    };
    worker.onmessage = (event: MessageEvent<FromWorker>) =>
      this.#receive(slot, event.data);
    worker.onerror = (event: ErrorEvent) => {
      // Handled here: unhandled, Deno would re-throw it in this thread.
      event.preventDefault();
      this.#crash(slot, event.message || "uncaught error");
    };
    worker.onmessageerror = () =>
      this.#crash(slot, "a message could not be deserialised");
    worker.postMessage(
      { type: "init", settings: this.#settings, cancelFlag } satisfies ToWorker,
    );
    return slot;
  }

  #idleSlot(key: string | undefined): Slot | undefined {
    const idle = this.#slots.filter((s) => s.job === undefined && !s.dead);
    return idle.find((s) => key !== undefined && s.models.has(key)) ?? idle[0];
  }

  #start(slot: Slot, job: Job): void {
    slot.job = job;
    try {
      const { task, transfer } = packTask(job.task, {
        moveWhole: job.transferInputs,
      });
      slot.worker.postMessage(
        { type: "run", taskId: job.id, task } satisfies ToWorker,
        transfer,
      );
    } catch (err) {
      // Not structured-cloneable (e.g. a function in the task).
      slot.job = undefined;
      this.#counts.failed++;
      this.#settle(
        job,
        new TypeError(
          `Cannot send compute task: ${(err as Error).message}`,
          { cause: err },
        ),
      );
      this.#pump(slot);
    }
  }

  #pump(slot: Slot): void {
    if (slot.dead || slot.job !== undefined) return;
    const job = this.#queue.shift();
    if (job !== undefined) this.#start(slot, job);
  }

  #receive(slot: Slot, message: FromWorker): void {
    switch (message.type) {
      case "ready":
        slot.markReady(message.backend);
        return;
      case "initFailed":
        this.#startFailed(slot, message.error);
        return;
      case "event": {
        const job = slot.job;
        if (job?.id !== message.taskId) return;
        if (job.settled) {
          this.#counts.lateEvents++;
          return;
        }
        try {
          job.onEvent?.(message.event);
        } catch (err) {
          this.#abort(job, err);
        }
        return;
      }
      case "done":
      case "failed":
        this.#finish(slot, message);
        return;
    }
  }

  #finish(
    slot: Slot,
    message: Extract<FromWorker, { type: "done" | "failed" }>,
  ): void {
    slot.models = new Set(message.models);
    slot.tensors = message.tensors;
    const job = slot.job;
    if (job?.id !== message.taskId) return;
    slot.job = undefined;
    clearTimeout(slot.cancelTimer);
    slot.cancelTimer = undefined;
    if (!job.settled) {
      if (message.type === "done") {
        this.#counts.done++;
        job.settled = true;
        job.signal?.removeEventListener("abort", job.onAbort);
        job.resolve(message.result);
      } else {
        this.#counts.failed++;
        this.#settle(job, fromWireError(message.error));
      }
    }
    this.#pump(slot);
  }

  /** Cancels a job: out of the queue, or a `cancel` message to its worker. */
  #abort(job: Job, reason: unknown): void {
    if (job.settled) return;
    this.#counts.cancelled++;
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      this.#settle(job, reason);
      return;
    }
    this.#settle(job, reason);
    const slot = this.#slots.find((s) => s.job === job);
    if (slot === undefined) return;
    // The flag reaches a worker in the middle of a pass; the message one
    // that is between tasks or waiting on I/O.
    Atomics.store(slot.cancelFlag, 0, job.id);
    slot.worker.postMessage(
      { type: "cancel", taskId: job.id } satisfies ToWorker,
    );
    // The slot stays busy until the worker confirms; one that never does is replaced.
    slot.cancelTimer = setTimeout(() => {
      if (slot.job === job) {
        this.#replace(
          slot,
          new ComputeError("The compute worker ignored a cancel"),
        );
      }
    }, this.#cancelGraceMs);
  }

  #settle(job: Job, error: unknown): void {
    if (job.settled) return;
    job.settled = true;
    job.signal?.removeEventListener("abort", job.onAbort);
    job.reject(error);
  }

  #crash(slot: Slot, reason: string): void {
    if (slot.dead) return;
    this.#counts.crashed++;
    const error = new ComputeError(
      `Cannot finish compute task: the compute worker crashed: ${reason}`,
    );
    if (slot.job !== undefined && !slot.job.settled) this.#counts.failed++;
    this.#replace(slot, error);
  }

  /** Fails the slot's job, terminates its worker and starts a new one. */
  #replace(slot: Slot, error: Error): void {
    if (slot.dead) return;
    this.#onWorkerError?.(error);
    const job = slot.job;
    this.#kill(slot);
    slot.markFailed(error);
    if (job !== undefined) this.#settle(job, error);
    const index = this.#slots.indexOf(slot);
    if (this.#closed || index < 0) return;
    const fresh = this.#spawn();
    this.#slots[index] = fresh;
    this.#pump(fresh);
  }

  #startFailed(slot: Slot, wire: WireError): void {
    const error = fromWireError(wire);
    this.#startError ??= error;
    this.#onWorkerError?.(error);
    const job = slot.job;
    this.#kill(slot);
    slot.markFailed(error);
    this.#slots = this.#slots.filter((s) => s !== slot);
    if (job !== undefined) {
      this.#counts.failed++;
      this.#settle(job, error);
    }
    if (this.#slots.length === 0) {
      for (const queued of this.#queue.splice(0)) {
        this.#counts.failed++;
        this.#settle(queued, this.#unavailable());
      }
    }
  }

  #kill(slot: Slot): void {
    slot.dead = true;
    clearTimeout(slot.cancelTimer);
    slot.cancelTimer = undefined;
    slot.worker.onmessage = null;
    slot.worker.onerror = null;
    slot.worker.onmessageerror = null;
    slot.worker.terminate();
    slot.job = undefined;
  }
}

/**
 * Starts a pool of compute workers. Each worker initialises its own backend
 * at once; tasks sent before that wait inside the worker.
 *
 * @param options worker count, backend, queue limit, cache sizes, data folder
 * @returns the pool; `close()` it (or `using pool = …`) when done
 * @throws {RangeError} if a count is not a positive integer
 * @example
 * ```ts
 * using pool = createComputePool({ workers: 2, queueLimit: 16 });
 * const result = await pool.run(
 *   { kind: "explain", model, inputs, method: "lrp_alpha_beta", params: { alpha: 1.5 } },
 *   { signal, onEvent: (step) => stream.write(step) },
 * );
 * ```
 */
export function createComputePool(
  options: ComputePoolOptions = {},
): ComputePool {
  return new Pool(options);
}
