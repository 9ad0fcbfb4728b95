/**
 * What the service handlers run on: the model store, the training job
 * manager, the compute pool and the request limits; how the server opens
 * them; and the one lookup every model-using RPC starts with.
 *
 * @module
 */
import type { BackendChoice } from "../../models/mod.ts";
import {
  type ComputePool,
  createComputePool,
  createTrainingRunner,
  type ModelRef,
  type TrainConfig,
} from "../compute/mod.ts";
import { DataLossError, NotFoundError } from "../errors.ts";
import { createJobManager, type JobManager } from "../jobs/mod.ts";
import type { Logger } from "../logger.ts";
import {
  type JobRecord,
  type ModelRecord,
  type ModelStore,
  openModelStore,
} from "../storage/mod.ts";

/** Request limits enforced at the edge. */
export interface ServiceLimits {
  /** Most inputs per Classify/ExplainBatch request (RESOURCE_EXHAUSTED above). */
  readonly maxBatch: number;
  /** Most bytes an ImportModel stream may carry (RESOURCE_EXHAUSTED above). */
  readonly maxImportBytes: number;
}

/** The server's domain objects, shared by every service. */
export interface ServiceDeps {
  /** Stored models and the job registry. */
  readonly store: ModelStore;
  /** Training jobs. */
  readonly jobs: JobManager<TrainConfig>;
  /** Compute workers. */
  readonly pool: ComputePool;
  /** Request limits. */
  readonly limits: ServiceLimits;
}

/** A stored model and the reference a worker loads it by. */
export interface ServableModel {
  /** The registry row. */
  readonly record: ModelRecord;
  /** The worker's reference (checkpoint folder and expected hash). */
  readonly ref: ModelRef;
}

/**
 * Looks a model up for serving.
 *
 * @param deps the store
 * @param id the model id from the request
 * @returns the record and the worker reference
 * @throws {RangeError} (INVALID_ARGUMENT) for an id that is not allowed, e.g. empty
 * @throws {NotFoundError} for an unknown id
 * @throws {DataLossError} for a model whose checkpoint is damaged
 */
export function servableModel(deps: ServiceDeps, id: string): ServableModel {
  const record = deps.store.get(id);
  if (record.state === "DATA_LOSS") {
    throw new DataLossError(
      `Cannot use model "${id}": its checkpoint is damaged`,
    );
  }
  return {
    record,
    // The store keeps model checkpoints in its "models" folder (server/storage/model_store.ts).
    ref: { id, dir: `${deps.store.dir}/models`, sha256: record.weightsSha256 },
  };
}

/**
 * The training job that produced a model, while the registry still holds it
 * (its configuration has the exact data source; manifests keep one seed).
 *
 * @param deps the job manager
 * @param record the stored model
 * @returns the job, or undefined for imported models and forgotten jobs
 */
export function trainingJobOf(
  deps: ServiceDeps,
  record: ModelRecord,
): JobRecord<TrainConfig> | undefined {
  if (record.trainingJobId === "") return undefined;
  try {
    return deps.jobs.get(record.trainingJobId);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** Options of {@linkcode openServiceDeps}. */
export interface OpenServiceDepsOptions {
  /** The store's folder (models, epoch checkpoints, registry). */
  checkpointDir: string;
  /** Folder the workers search for dataset files. */
  dataDir: string;
  /** Compute workers; 0 means one per core. */
  workers: number;
  /** The workers' TensorFlow.js backend. */
  backend: BackendChoice;
  /** Compute tasks that may wait for a worker. */
  computeQueueLimit: number;
  /** Training jobs that may wait to run. */
  jobQueueLimit: number;
  /** Request limits. */
  limits: ServiceLimits;
  /** The root logger; children per module. */
  log: Logger;
}

/** The server's domain objects, open; `close()` them on shutdown. */
export interface OpenServiceDeps extends ServiceDeps {
  /**
   * Marks running and queued jobs INTERRUPTED (their epochs are kept for
   * ResumeTraining); call first on shutdown, so that watch streams end.
   */
  stopJobs(): Promise<void>;
  /** Stops the jobs, terminates the workers and closes the store. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the store (repairing what an unclean stop left behind), starts the
 * compute pool and the job manager on it.
 *
 * @param options folders, worker count, backend, queue limits and logger
 * @returns the open objects
 * @throws {PreconditionError} if the registry was written by a newer build
 */
export async function openServiceDeps(
  options: OpenServiceDepsOptions,
): Promise<OpenServiceDeps> {
  const { log } = options;
  const store = await openModelStore({ dir: options.checkpointDir });
  const { recovery } = store;
  log.info({ dir: options.checkpointDir, recovery }, "Model store opened");
  let pool: ComputePool;
  try {
    const poolLog = log.child({ module: "compute" });
    pool = createComputePool({
      workers: options.workers === 0
        ? navigator.hardwareConcurrency
        : options.workers,
      backend: options.backend,
      queueLimit: options.computeQueueLimit,
      dataDir: options.dataDir,
      onWorkerError: (err) => poolLog.error({ err }, "Compute worker failed"),
    });
    pool.ready().then(
      (backends) => poolLog.info({ backends }, "Compute workers ready"),
      (err) => poolLog.error({ err }, "Compute workers failed to start"),
    );
  } catch (err) {
    store.close();
    throw err;
  }
  const jobs = createJobManager<TrainConfig>({
    store,
    runTraining: createTrainingRunner(pool),
    queueLimit: options.jobQueueLimit,
    log: log.child({ module: "jobs" }),
  });
  let closing: Promise<void> | undefined;
  return {
    store,
    jobs,
    pool,
    limits: options.limits,
    stopJobs: () => jobs.close(),
    close: () =>
      closing ??= (async () => {
        try {
          await jobs.close();
        } finally {
          pool.close();
          store.close();
        }
      })(),
  };
}
