/**
 * Training jobs: a bounded queue in front of an injected runner, the job
 * state machine, progress fan-out, and checkpoints after every epoch so that
 * a job survives a crash. This file is the state machine, kept whole (it is
 * longer than most) so every transition can be read in one place:
 *
 * ```
 * start ──► QUEUED ──► RUNNING ──► SUCCEEDED   (model stored, same transaction)
 *             │           ├──────► FAILED      (runner or checkpoint error)
 *             │           ├──────► CANCELLED   (cancel)
 *             ├───────────┴──────► INTERRUPTED (close(), or a crash: see the store's recovery)
 *             └──► CANCELLED        INTERRUPTED ──resume──► QUEUED
 *                                   INTERRUPTED ──cancel──► CANCELLED
 * ```
 *
 * Durability: every transition is written to the registry before it is
 * published. After each epoch the weights are saved and the job's
 * `lastCompletedEpoch` recorded (`ModelStore.saveEpoch`), except after the
 * last epoch, which is recorded with the model row in one transaction (so a
 * crash in between can always resume); step progress is
 * written at most every `progressIntervalMs`. A resumed job restarts at its
 * last completed epoch from those weights. Epoch weights are removed once a
 * job can no longer resume (SUCCEEDED, FAILED, CANCELLED).
 *
 * @module
 */
import {
  ConflictError,
  DomainError,
  NotFoundError,
  PreconditionError,
  ResourceExhaustedError,
  UnavailableError,
} from "../errors.ts";
import { type ModelSpec, validateSpec } from "../../models/mod.ts";
import {
  initialProgress,
  type JobChange,
  type JobConfig,
  type JobRecord,
  type ListJobsOptions,
  type ModelStore,
  type Page,
  TERMINAL_JOB_STATES,
} from "../storage/mod.ts";
import { type JobEvent, JobWatchers } from "./job_watchers.ts";
import type {
  EpochMetrics,
  RunTraining,
  StepProgress,
  TrainingOutput,
} from "./runner.ts";
import { ProgressTracker } from "./_progress.ts";

/** The logging a job manager needs; a pino `Logger` fits. */
export interface JobLog {
  /** Per-step details. */
  debug(obj: object, msg: string): void;
  /** Life-cycle events. */
  info(obj: object, msg: string): void;
  /** Client misuse, e.g. a full queue. */
  warn(obj: object, msg: string): void;
  /** Failures with `err`. */
  error(obj: object, msg: string): void;
}

/** Options of {@linkcode createJobManager}. */
export interface JobManagerOptions<C extends JobConfig> {
  /** Where jobs, epoch weights and trained models are kept. */
  store: ModelStore;
  /** Trains one job (the compute pool in the server). */
  runTraining: RunTraining<C>;
  /**
   * Jobs that run at the same time.
   * @default 1
   */
  concurrency?: number;
  /**
   * Jobs that may wait for a slot; one more is RESOURCE_EXHAUSTED.
   * @default 16
   */
  queueLimit?: number;
  /**
   * Minimum milliseconds between writes of step progress to the registry
   * (epoch ends and state changes are always written).
   * @default 5000
   */
  progressIntervalMs?: number;
  /**
   * Logger, e.g. a pino child `{ module: "jobs" }`.
   * @default no logging
   */
  log?: JobLog;
}

/** Options of {@linkcode JobManager.start}. */
export interface StartJobOptions {
  /**
   * Human-readable name of the job and its model.
   * @default ""
   */
  displayName?: string;
}

/** A job manager; create it with {@linkcode createJobManager}. */
export interface JobManager<C extends JobConfig = JobConfig>
  extends AsyncDisposable {
  /**
   * Queues a new job and returns it (QUEUED; it turns RUNNING when a slot is free).
   *
   * @throws {RangeError|TypeError} for an invalid spec or `config.epochs`
   * @throws {ResourceExhaustedError} if the queue is full
   * @throws {UnavailableError} once the manager is closing
   */
  start(config: C, spec: ModelSpec, options?: StartJobOptions): JobRecord<C>;
  /**
   * Returns a job with its latest progress.
   *
   * @throws {NotFoundError} for an unknown id
   */
  get(id: string): JobRecord<C>;
  /**
   * Lists jobs, newest first, with live progress for active ones.
   *
   * @throws {RangeError} for a malformed page token, size or state
   */
  list(options?: ListJobsOptions): Page<JobRecord<C>>;
  /**
   * Streams a job's events: the latest first, then updates, ending after an
   * event whose state is SUCCEEDED, FAILED, CANCELLED or INTERRUPTED, or
   * when `signal` aborts (which detaches the watcher at once).
   *
   * @throws {NotFoundError} for an unknown id (at call time)
   */
  watch(id: string, signal?: AbortSignal): AsyncIterableIterator<JobEvent>;
  /**
   * Cancels a QUEUED, RUNNING or INTERRUPTED job; resolves once it is CANCELLED.
   *
   * @throws {NotFoundError} for an unknown id
   * @throws {PreconditionError} if the job already finished
   * @throws {ConflictError} if it finished (or was interrupted) before it could stop
   */
  cancel(id: string): Promise<JobRecord<C>>;
  /**
   * Queues an INTERRUPTED job again; it continues after its last completed epoch.
   *
   * @throws {NotFoundError} for an unknown id
   * @throws {PreconditionError} unless the job is INTERRUPTED
   * @throws {DataLossError} if its saved epoch weights are missing or corrupt
   * @throws {ResourceExhaustedError} if the queue is full
   */
  resume(id: string): Promise<JobRecord<C>>;
  /** Number of watchers attached to a job (0 for an inactive one). */
  watcherCount(id: string): number;
  /**
   * Stops taking jobs, marks queued and running jobs INTERRUPTED (running
   * ones are aborted and awaited). Does not close the store. Idempotent.
   */
  close(): Promise<void>;
}

/** Abort reasons the manager gives its runs. */
class JobCancelled extends Error {
  override name = "JobCancelled";
}
class JobShutdown extends Error {
  override name = "JobShutdown";
}

/** The message stored on jobs interrupted by {@linkcode JobManager.close}. */
export const INTERRUPTED_BY_SHUTDOWN =
  "Interrupted: the server shut down while the job was queued or running";

interface Active<C extends JobConfig> {
  record: JobRecord<C>;
  watchers: JobWatchers;
  controller: AbortController;
  tracker: ProgressTracker;
  /** Epoch checkpoints in order; rejects if one failed. */
  epochs: Promise<void>;
  /** Resolves with the record once the job stops. */
  stopped: Promise<JobRecord<C>>;
  stop: (record: JobRecord<C>) => void;
  lastPersist: number;
}

const NO_LOG: JobLog = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

function positiveInt(value: number, what: string, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Cannot create job manager: ${what} must be an integer ≥ ${min}: got ${value}`,
    );
  }
  return value;
}

function eventOf(record: JobRecord): JobEvent {
  return {
    jobId: record.id,
    state: record.state,
    progress: { ...record.progress },
    modelId: record.modelId,
    error: record.error,
  };
}

/** The message a FAILED job shows: typed errors keep theirs, bugs do not leak. */
function failureMessage(err: unknown, id: string): string {
  if (
    err instanceof DomainError || err instanceof RangeError ||
    err instanceof TypeError
  ) {
    return err.message;
  }
  return `Training failed with an internal error; see the server logs for job "${id}"`;
}

/**
 * Creates a job manager over a store. Open the store first: opening marks
 * the jobs a dead process left QUEUED or RUNNING as INTERRUPTED.
 *
 * @typeParam C the job configuration type handed to the runner
 * @param options store, runner, concurrency, queue limit, progress interval, logger
 * @returns the manager; `close()` it (or `await using`) before closing the store
 * @throws {RangeError} for an invalid concurrency, queue limit or interval
 *
 * @example
 * ```ts
 * using store = await openModelStore({ dir: "./data" });
 * await using jobs = createJobManager({ store, runTraining: pool.train });
 * const job = jobs.start({ epochs: 3, ...data }, spec);
 * for await (const event of jobs.watch(job.id, signal)) log.info(event, "Progress");
 * ```
 */
export function createJobManager<C extends JobConfig = JobConfig>(
  options: JobManagerOptions<C>,
): JobManager<C> {
  const { store, runTraining } = options;
  const registry = store.registry;
  const concurrency = positiveInt(options.concurrency ?? 1, "concurrency", 1);
  const queueLimit = positiveInt(options.queueLimit ?? 16, "queueLimit", 0);
  const interval = options.progressIntervalMs ?? 5000;
  if (!(interval >= 0)) {
    throw new RangeError(
      `Cannot create job manager: progressIntervalMs must be ≥ 0: got ${interval}`,
    );
  }
  const log = options.log ?? NO_LOG;
  const active = new Map<string, Active<C>>();
  const queue: string[] = [];
  const runs = new Set<Promise<void>>();
  let running = 0;
  let closing = false;

  function find(id: string, action: string): JobRecord<C> {
    const record = active.get(id)?.record ??
      registry.getJob(id) as JobRecord<C> | undefined;
    if (record === undefined) {
      throw new NotFoundError(`Cannot ${action} job "${id}": no such id`);
    }
    return record;
  }

  function publish(job: Active<C>, record: JobRecord<C>): void {
    job.record = record;
    job.watchers.publish(eventOf(record));
  }

  function activate(record: JobRecord<C>): Active<C> {
    let stop!: (record: JobRecord<C>) => void;
    const stopped = new Promise<JobRecord<C>>((resolve) => (stop = resolve));
    const job: Active<C> = {
      record,
      watchers: new JobWatchers(eventOf(record)),
      controller: new AbortController(),
      tracker: new ProgressTracker(
        record.config.epochs,
        record.lastCompletedEpoch,
        record.progress,
      ),
      epochs: Promise.resolve(),
      stopped,
      stop,
      lastPersist: Number.NEGATIVE_INFINITY,
    };
    active.set(record.id, job);
    return job;
  }

  /** Publishes a job's final record, frees it, and lets the next one run. */
  function settle(job: Active<C>, record: JobRecord<C>): void {
    publish(job, record);
    active.delete(record.id);
    job.stop(record);
  }

  function checkQueue(action: string): void {
    if (closing) {
      throw new UnavailableError(
        `Cannot ${action}: the server is shutting down`,
      );
    }
    if (queue.length >= queueLimit && running >= concurrency) {
      log.warn({ queued: queue.length, queueLimit }, "Job queue full");
      throw new ResourceExhaustedError(
        `Cannot ${action}: the job queue is full (${queueLimit} waiting)`,
      );
    }
  }

  function pump(): void {
    while (running < concurrency && queue.length > 0 && !closing) {
      const id = queue.shift()!;
      const job = active.get(id);
      if (job === undefined) continue;
      const record = registry.transitionJob(id, ["QUEUED"], {
        state: "RUNNING",
        started: new Date().toISOString(),
        error: "",
        ended: "",
      }) as JobRecord<C> | undefined;
      if (record === undefined) continue;
      publish(job, record);
      running++;
      const run = execute(job).finally(() => {
        running--;
        runs.delete(run);
        pump();
      });
      runs.add(run);
    }
  }

  function onProgress(job: Active<C>, step: StepProgress): void {
    if (job.controller.signal.aborted || job.record.state !== "RUNNING") return;
    const progress = job.tracker.step(step);
    publish(job, { ...job.record, progress });
    const now = performance.now();
    if (now - job.lastPersist >= interval) {
      job.lastPersist = now;
      try {
        registry.saveJobProgress(job.record.id, progress);
      } catch (err) {
        // Step progress is advisory; epoch records are what resume relies on.
        log.warn({ jobId: job.record.id, err }, "Cannot save job progress");
      }
    }
    log.debug({ jobId: job.record.id, ...step }, "Training step");
  }

  function onEpochEnd(
    job: Active<C>,
    epoch: number,
    weights: Uint8Array,
    metrics?: EpochMetrics,
  ): Promise<void> {
    const id = job.record.id;
    const saved = job.epochs.then(async () => {
      if (!(weights instanceof Uint8Array)) {
        throw new TypeError(
          `Cannot checkpoint job "${id}": epoch weights must be a Uint8Array`,
        );
      }
      const progress = job.tracker.epochEnd(epoch, metrics);
      if (epoch >= job.record.config.epochs) {
        // The last epoch's commit point is the model row (`finish`): an
        // epoch record without the model would be a job that cannot resume
        // (no epoch left to run) and has no model. A crash before the row
        // leaves the job at the previous epoch, and a resume redoes this one.
        publish(job, {
          ...job.record,
          progress: { ...progress, completedEpochs: epoch - 1 },
        });
        return;
      }
      await store.saveEpoch(id, epoch, weights, progress);
      job.lastPersist = performance.now();
      publish(job, { ...job.record, lastCompletedEpoch: epoch, progress });
      log.info({ jobId: id, epoch, ...metrics }, "Epoch checkpointed");
    });
    // A failed checkpoint stops the run: continuing could not be resumed.
    saved.catch((err) => job.controller.abort(err));
    job.epochs = saved;
    return saved;
  }

  async function finish(
    job: Active<C>,
    output: TrainingOutput,
  ): Promise<JobRecord<C>> {
    const { id, displayName } = job.record;
    const modelId = crypto.randomUUID();
    await store.save(modelId, output, {
      displayName,
      job: { id, progress: job.tracker.finished() },
    });
    log.info({ jobId: id, modelId }, "Job succeeded");
    return registry.getJob(id) as JobRecord<C>;
  }

  async function stopAfterError(
    job: Active<C>,
    err: unknown,
  ): Promise<JobRecord<C>> {
    const { id } = job.record;
    const reason = job.controller.signal.reason;
    const progress = { ...job.record.progress };
    const ended = new Date().toISOString();
    let change: JobChange;
    if (reason instanceof JobCancelled) {
      change = { state: "CANCELLED", progress, ended };
      log.info({ jobId: id }, "Job cancelled");
    } else if (reason instanceof JobShutdown) {
      change = {
        state: "INTERRUPTED",
        progress,
        ended,
        error: INTERRUPTED_BY_SHUTDOWN,
      };
      log.info({ jobId: id }, "Job interrupted");
    } else {
      // A failed epoch checkpoint aborts with its error; report that one.
      const cause = job.controller.signal.aborted ? reason : err;
      change = {
        state: "FAILED",
        progress,
        ended,
        error: failureMessage(cause, id),
      };
      log.error({ jobId: id, err: cause }, "Job failed");
    }
    const record = registry.transitionJob(id, ["RUNNING"], change) ??
      registry.getJob(id)!;
    if (change.state !== "INTERRUPTED") await removeEpochs(id);
    return record as JobRecord<C>;
  }

  async function execute(job: Active<C>): Promise<void> {
    const { record, controller } = job;
    let final: JobRecord<C>;
    try {
      const startEpoch = record.lastCompletedEpoch;
      const initialWeights = startEpoch > 0
        ? await store.readEpoch(record.id, startEpoch)
        : undefined;
      log.info({ jobId: record.id, startEpoch }, "Job started");
      const output = await runTraining(record, {
        signal: controller.signal,
        startEpoch,
        initialWeights,
        onProgress: (step) => onProgress(job, step),
        onEpochEnd: (epoch, weights, metrics) =>
          onEpochEnd(job, epoch, weights, metrics),
      });
      await job.epochs;
      // A cancel that came too late loses the race: the result is kept.
      final = await finish(job, output);
    } catch (err) {
      await job.epochs.catch(() => {});
      final = await stopAfterError(job, err);
    }
    if (final.state === "SUCCEEDED") await removeEpochs(record.id);
    settle(job, final);
  }

  /** Removes a finished job's epoch weights; a failure only wastes disk. */
  async function removeEpochs(id: string): Promise<void> {
    await store.removeEpochs(id).catch((err) =>
      log.warn({ jobId: id, err }, "Cannot remove epoch checkpoints")
    );
  }

  function start(
    config: C,
    spec: ModelSpec,
    startOptions: StartJobOptions = {},
  ): JobRecord<C> {
    if (!Number.isInteger(config?.epochs) || config.epochs < 1) {
      throw new RangeError(
        `Cannot start job: epochs must be an integer ≥ 1: got ${config?.epochs}`,
      );
    }
    const validSpec = validateSpec(spec);
    checkQueue("start job");
    const now = new Date().toISOString();
    const record: JobRecord<C> = {
      id: crypto.randomUUID(),
      state: "QUEUED",
      config: structuredClone(config),
      spec: validSpec,
      progress: initialProgress(config.epochs),
      lastCompletedEpoch: 0,
      modelId: "",
      error: "",
      displayName: startOptions.displayName ?? "",
      created: now,
      updated: now,
      started: "",
      ended: "",
    };
    registry.insertJob(record);
    activate(record);
    queue.push(record.id);
    log.info({ jobId: record.id, epochs: config.epochs }, "Job queued");
    pump();
    return { ...record, progress: { ...record.progress } };
  }

  async function cancel(id: string): Promise<JobRecord<C>> {
    const record = find(id, "cancel");
    const job = active.get(id);
    if (job !== undefined && job.record.state === "RUNNING") {
      job.controller.abort(new JobCancelled(`Job "${id}" cancelled`));
      const final = await job.stopped;
      if (final.state === "CANCELLED") return final;
      throw new ConflictError(
        `Cannot cancel job "${id}": it ended ${final.state} first`,
      );
    }
    if (TERMINAL_JOB_STATES.has(record.state)) {
      throw new PreconditionError(
        `Cannot cancel job "${id}": it already finished as ${record.state}`,
      );
    }
    const cancelled = registry.transitionJob(id, ["QUEUED", "INTERRUPTED"], {
      state: "CANCELLED",
      ended: new Date().toISOString(),
    }) as JobRecord<C> | undefined;
    if (cancelled === undefined) {
      throw new ConflictError(`Cannot cancel job "${id}": its state changed`);
    }
    if (job !== undefined) {
      queue.splice(queue.indexOf(id), 1);
      settle(job, cancelled);
    }
    await removeEpochs(id);
    log.info({ jobId: id }, "Job cancelled");
    return cancelled;
  }

  async function resume(id: string): Promise<JobRecord<C>> {
    const record = find(id, "resume");
    if (record.state !== "INTERRUPTED" || active.has(id)) {
      throw new PreconditionError(
        `Cannot resume job "${id}": it is ${record.state}, and only INTERRUPTED jobs resume`,
      );
    }
    checkQueue(`resume job "${id}"`);
    if (record.lastCompletedEpoch > 0) {
      await store.readEpoch(id, record.lastCompletedEpoch); // DATA_LOSS now, not later
    }
    const queued = registry.transitionJob(id, ["INTERRUPTED"], {
      state: "QUEUED",
      error: "",
      ended: "",
    }) as JobRecord<C> | undefined;
    if (queued === undefined || active.has(id)) {
      throw new ConflictError(`Cannot resume job "${id}": its state changed`);
    }
    activate(queued);
    queue.push(id);
    log.info({ jobId: id, from: queued.lastCompletedEpoch }, "Job resumed");
    pump();
    return queued;
  }

  async function close(): Promise<void> {
    if (!closing) {
      closing = true;
      for (const id of queue.splice(0)) {
        const job = active.get(id);
        const record = registry.transitionJob(id, ["QUEUED"], {
          state: "INTERRUPTED",
          error: INTERRUPTED_BY_SHUTDOWN,
          ended: new Date().toISOString(),
        }) as JobRecord<C> | undefined;
        if (job !== undefined && record !== undefined) settle(job, record);
      }
      for (const job of active.values()) {
        job.controller.abort(new JobShutdown("The server is shutting down"));
      }
    }
    await Promise.all(runs);
  }

  return {
    start,
    get: (id) => find(id, "get"),
    list(listOptions = {}) {
      const page = registry.listJobs(listOptions) as Page<JobRecord<C>>;
      return {
        ...page,
        items: page.items.map((r) => active.get(r.id)?.record ?? r),
      };
    },
    watch(id, signal) {
      const job = active.get(id);
      if (job !== undefined) return job.watchers.watch(signal);
      // Not queued or running here: nothing will change, so one event ends it.
      const event = eventOf(find(id, "watch"));
      return (async function* () {
        if (!signal?.aborted) yield event;
      })();
    },
    cancel,
    resume,
    watcherCount: (id) => active.get(id)?.watchers.size ?? 0,
    close,
    [Symbol.asyncDispose]: close,
  };
}
