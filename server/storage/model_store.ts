/**
 * The model store: the SQLite registry plus the checkpoint folders of one
 * directory, kept consistent across crashes.
 *
 * ```
 * <dir>/registry.sqlite     models and jobs (registry.ts)
 * <dir>/models/<id>.json    manifest   } written atomically by checkpoint_files.ts,
 * <dir>/models/<id>.safetensors       } before the row is inserted
 * <dir>/epochs/<job>.epoch-<n>.*      in-progress weights of training jobs
 * <dir>/orphans/<time>/               model files found without a row on open
 * ```
 *
 * `save` writes the files first and then inserts the row (the commit point);
 * `delete` deletes the row first and then the files. A crash in between
 * leaves files without a row, never a row without files; opening the store
 * repairs what a crash left behind (see `_recover.ts`). One process per
 * directory.
 *
 * @module
 */
import type { CheckpointManifest } from "../../models/mod.ts";
import {
  AlreadyExistsError,
  ConflictError,
  DataLossError,
  NotFoundError,
} from "../errors.ts";
import {
  type CheckpointFiles,
  readCheckpoint,
  removeCheckpoint,
  validateCheckpointId,
  writeCheckpoint,
} from "./checkpoint_files.ts";
import {
  epochCheckpointId,
  readEpochCheckpoint,
  removeEpochCheckpoints,
  writeEpochCheckpoint,
} from "./epoch_checkpoints.ts";
import {
  createModelArchive,
  decodeModelArchive,
  encodeModelArchive,
  type ModelArchive,
  verifyModelArchive,
} from "./model_archive.ts";
import type {
  ListOptions,
  ModelRecord,
  Page,
  TrainingProgress,
} from "./records.ts";
import { openRegistry, type Registry } from "./registry.ts";
import {
  recoverStore,
  type RecoveryReport,
  type StoreDirs,
} from "./_recover.ts";
import { verifyCheckpoint } from "./_verify.ts";
import { armFaultPointFromEnv, faultPoint } from "./_fault_point.ts";

/** Names of a model's files inside an archive. */
export const ARCHIVE_MANIFEST = "manifest.json";
/** Names of a model's files inside an archive. */
export const ARCHIVE_WEIGHTS = "weights.safetensors";

/** Options of {@linkcode openModelStore}. */
export interface OpenModelStoreOptions {
  /** The store's directory; created if missing. */
  dir: string;
}

/** Options of {@linkcode ModelStore.save}. */
export interface SaveModelOptions {
  /** @default "" */
  displayName?: string;
  /**
   * The RUNNING job that trained the model: it becomes SUCCEEDED with this
   * model id and progress in the same transaction as the row insert.
   * @default undefined
   */
  job?: { id: string; progress: TrainingProgress };
}

/** Options of {@linkcode ModelStore.importArchive}. */
export interface ImportModelOptions {
  /**
   * The payload's SHA-256 as the caller knows it (e.g. from the exporting
   * server); checked in addition to the archive's own header.
   * @default undefined
   */
  expectedSha256?: string;
  /**
   * Store under this id instead of the archive's model id (to import a copy).
   * @default the archive header's `modelId`
   */
  id?: string;
}

/** What an import did. */
export interface ImportModelResult {
  /** The stored model. */
  model: ModelRecord;
  /** False when an identical checkpoint was already stored under that id. */
  created: boolean;
}

/** A verified checkpoint as read from the store. */
export interface StoredCheckpoint {
  /** The safetensors bytes (hash verified). */
  weights: Uint8Array;
  /** The validated manifest. */
  manifest: CheckpointManifest;
}

function manifestText(manifest: unknown): Uint8Array {
  // The exact text writeCheckpoint stores, so exports reproduce the file.
  return new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
}

function toRecord(
  id: string,
  manifest: CheckpointManifest,
  sizeBytes: number,
  options: SaveModelOptions,
): ModelRecord {
  return {
    id,
    spec: manifest.spec,
    training: manifest.training,
    dataset: manifest.dataset,
    problem: manifest.problem,
    steps: manifest.steps,
    fold: manifest.fold,
    seed: manifest.seed,
    metrics: manifest.metrics,
    parameterCount: manifest.parameterCount,
    weightsSha256: manifest.weights.sha256,
    sizeBytes,
    formatVersion: manifest.formatVersion,
    created: new Date(manifest.created).toISOString(),
    state: "READY",
    displayName: options.displayName ?? "",
    trainingJobId: options.job?.id ?? "",
  };
}

/** A store directory; open it with {@linkcode openModelStore}. */
export class ModelStore implements Disposable {
  /** The store's directory. */
  readonly dir: string;
  /** The registry (rows only; use the store for anything with files). */
  readonly registry: Registry;
  /** What opening the store repaired. */
  readonly recovery: RecoveryReport;
  #dirs: StoreDirs;

  /**
   * Use {@linkcode openModelStore}.
   *
   * @param dir the directory
   * @param registry its open registry
   * @param dirs its folders
   * @param recovery what opening repaired
   */
  constructor(
    dir: string,
    registry: Registry,
    dirs: StoreDirs,
    recovery: RecoveryReport,
  ) {
    this.dir = dir;
    this.registry = registry;
    this.#dirs = dirs;
    this.recovery = recovery;
  }

  /** Closes the registry; idempotent. */
  close(): void {
    this.registry.close();
  }

  /** Same as {@linkcode ModelStore.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Verifies and stores a checkpoint: files first, then the row.
   *
   * @param id the new model's id (see `validateCheckpointId`)
   * @param files the weights and manifest, e.g. from `encodeCheckpoint`
   * @param options display name, and the job that produced the model
   * @returns the stored record
   * @throws {RangeError} if the id is not allowed
   * @throws {AlreadyExistsError} if a model with this id exists
   * @throws {DataLossError} if the checkpoint does not verify
   * @throws {PreconditionError} if its format version is unknown
   * @throws {ConflictError} if `options.job` is no longer RUNNING (nothing is stored)
   */
  async save(
    id: string,
    files: CheckpointFiles,
    options: SaveModelOptions = {},
  ): Promise<ModelRecord> {
    validateCheckpointId(id);
    const exists = () =>
      new AlreadyExistsError(`Cannot save model "${id}": it already exists`);
    if (this.registry.getModel(id) !== undefined) throw exists();
    const manifest = await verifyCheckpoint(files, `save model "${id}"`);
    const { sizeBytes } = await writeCheckpoint(this.#dirs.models, id, {
      weights: files.weights,
      manifest: files.manifest,
    }).catch((err) => {
      throw err instanceof AlreadyExistsError ? exists() : err;
    });
    await faultPoint("model-files-written", id);
    const record = toRecord(id, manifest, sizeBytes, options);
    try {
      this.registry.insertModel(record, { completeJob: options.job });
    } catch (err) {
      await removeCheckpoint(this.#dirs.models, id);
      throw err;
    }
    return record;
  }

  /**
   * Lists models, newest first.
   *
   * @throws {RangeError} for a malformed page token or size
   */
  list(options: ListOptions = {}): Page<ModelRecord> {
    return this.registry.listModels(options);
  }

  /**
   * Returns a model's record.
   *
   * @throws {RangeError} if the id is not allowed
   * @throws {NotFoundError} for an unknown id
   */
  get(id: string): ModelRecord {
    validateCheckpointId(id);
    const model = this.registry.getModel(id);
    if (model === undefined) {
      throw new NotFoundError(`Cannot find model "${id}": no such id`);
    }
    return model;
  }

  /**
   * Deletes a model: the row, then its files.
   *
   * @throws {RangeError} if the id is not allowed
   * @throws {NotFoundError} for an unknown id
   */
  async delete(id: string): Promise<void> {
    validateCheckpointId(id);
    if (!this.registry.deleteModel(id)) {
      throw new NotFoundError(`Cannot delete model "${id}": no such id`);
    }
    await removeCheckpoint(this.#dirs.models, id);
  }

  async #read(id: string): Promise<StoredCheckpoint & { raw: unknown }> {
    const model = this.get(id);
    const damaged = (reason: string, cause?: unknown) => {
      this.registry.setModelState(id, "DATA_LOSS");
      return new DataLossError(`Cannot read model "${id}": ${reason}`, {
        cause,
      });
    };
    if (model.state === "DATA_LOSS") {
      throw new DataLossError(
        `Cannot read model "${id}": its checkpoint is damaged`,
      );
    }
    let files: CheckpointFiles;
    try {
      files = await readCheckpoint(this.#dirs.models, id);
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw damaged("its manifest is missing", err);
      }
      if (err instanceof DataLossError) throw damaged(err.message, err);
      throw err;
    }
    let manifest: CheckpointManifest;
    try {
      manifest = await verifyCheckpoint(files, `read model "${id}"`);
    } catch (err) {
      if (err instanceof DataLossError) throw damaged(err.message, err);
      throw err;
    }
    if (manifest.weights.sha256 !== model.weightsSha256) {
      throw damaged("its weights are not the ones registered");
    }
    return { weights: files.weights, manifest, raw: files.manifest };
  }

  /**
   * Reads a model's checkpoint and verifies it against its manifest and row.
   *
   * @returns the weights and manifest
   * @throws {NotFoundError} for an unknown id
   * @throws {DataLossError} if the files are missing, corrupt or fail their hash (the model is then marked DATA_LOSS)
   */
  async readFiles(id: string): Promise<StoredCheckpoint> {
    const { weights, manifest } = await this.#read(id);
    return { weights, manifest };
  }

  /**
   * Packs a model into an archive (verified first).
   *
   * @throws {NotFoundError} for an unknown id
   * @throws {DataLossError} if the stored checkpoint does not verify
   */
  async exportArchive(id: string): Promise<ModelArchive> {
    const { weights, raw } = await this.#read(id);
    return await createModelArchive(
      { modelId: id, displayName: this.get(id).displayName },
      [
        { name: ARCHIVE_MANIFEST, bytes: manifestText(raw) },
        { name: ARCHIVE_WEIGHTS, bytes: weights },
      ],
    );
  }

  /**
   * Packs a model into one self-describing byte stream (`model_archive.ts`).
   *
   * @throws {NotFoundError} for an unknown id
   * @throws {DataLossError} if the stored checkpoint does not verify
   */
  async exportBytes(id: string): Promise<Uint8Array> {
    return encodeModelArchive(await this.exportArchive(id));
  }

  /**
   * Stores the model of an archive. Importing an identical checkpoint under
   * an existing id is a no-op (`created: false`).
   *
   * @throws {DataLossError} on a size or hash mismatch or a malformed checkpoint
   * @throws {AlreadyExistsError} if a different checkpoint has the id
   * @throws {RangeError} if the id is not allowed
   */
  async importArchive(
    archive: ModelArchive,
    options: ImportModelOptions = {},
  ): Promise<ImportModelResult> {
    const id = options.id ?? archive.header.modelId;
    validateCheckpointId(id);
    const files = await verifyModelArchive(archive, options.expectedSha256);
    const text = files.get(ARCHIVE_MANIFEST);
    const weights = files.get(ARCHIVE_WEIGHTS);
    if (text === undefined || weights === undefined || files.size !== 2) {
      throw new DataLossError(
        `Cannot import model "${id}": the archive must hold exactly "${ARCHIVE_MANIFEST}" and "${ARCHIVE_WEIGHTS}"`,
      );
    }
    let manifest: unknown;
    try {
      manifest = JSON.parse(new TextDecoder().decode(text));
    } catch (err) {
      throw new DataLossError(
        `Cannot import model "${id}": "${ARCHIVE_MANIFEST}" is not JSON`,
        { cause: err },
      );
    }
    if (this.registry.getModel(id) !== undefined) {
      const stored = await this.#read(id);
      if (JSON.stringify(stored.raw) === JSON.stringify(manifest)) {
        return { model: this.get(id), created: false };
      }
      throw new AlreadyExistsError(
        `Cannot import model "${id}": a different model has this id`,
      );
    }
    const model = await this.save(id, { weights, manifest }, {
      displayName: archive.header.displayName,
    });
    return { model, created: true };
  }

  /**
   * Stores the model of a byte stream made by {@linkcode ModelStore.exportBytes}.
   *
   * @throws {DataLossError} if the stream is malformed, truncated or fails a hash
   * @throws {AlreadyExistsError} if a different checkpoint has the id
   */
  async importBytes(
    bytes: Uint8Array,
    options: ImportModelOptions = {},
  ): Promise<ImportModelResult> {
    return await this.importArchive(decodeModelArchive(bytes), options);
  }

  /**
   * Checkpoints a RUNNING job after an epoch: the weights file first, then
   * (one statement) its last completed epoch and progress, then older epochs'
   * files are removed.
   *
   * @param jobId the job
   * @param epoch epochs completed, ≥ 1
   * @param weights the safetensors bytes
   * @param progress the progress to record
   * @throws {ConflictError} if the job is not RUNNING or already recorded this epoch
   */
  async saveEpoch(
    jobId: string,
    epoch: number,
    weights: Uint8Array,
    progress: TrainingProgress,
  ): Promise<void> {
    const conflict = () =>
      new ConflictError(
        `Cannot record epoch ${epoch} of job "${jobId}": it is not running or already recorded it`,
      );
    const recordable = () => {
      const job = this.registry.getJob(jobId);
      return job?.state === "RUNNING" && job.lastCompletedEpoch < epoch;
    };
    // Checked first so that the current epoch's file is never overwritten.
    if (!recordable()) throw conflict();
    await writeEpochCheckpoint(this.#dirs.epochs, jobId, epoch, weights);
    if (!this.registry.recordJobEpoch(jobId, epoch, progress)) {
      if (this.registry.getJob(jobId)?.lastCompletedEpoch !== epoch) {
        await removeCheckpoint(
          this.#dirs.epochs,
          epochCheckpointId(jobId, epoch),
        );
      }
      throw conflict();
    }
    await removeEpochCheckpoints(this.#dirs.epochs, jobId, epoch);
  }

  /**
   * Reads the weights a job saved after `epoch`, verified.
   *
   * @throws {DataLossError} if they are missing or fail their hash
   */
  async readEpoch(jobId: string, epoch: number): Promise<Uint8Array> {
    return await readEpochCheckpoint(this.#dirs.epochs, jobId, epoch);
  }

  /** Removes every epoch checkpoint of a job (once it cannot resume). */
  async removeEpochs(jobId: string): Promise<void> {
    await removeEpochCheckpoints(this.#dirs.epochs, jobId);
  }
}

/**
 * Opens (creating if needed) a store directory and repairs what an unclean
 * stop left behind (see `_recover.ts`; the result is `store.recovery`).
 *
 * @param options the directory
 * @returns the store; close it (or `using` it) when done
 * @throws {PreconditionError} if the registry was written by a newer build
 *
 * @example
 * ```ts
 * using store = await openModelStore({ dir: "./data" });
 * const { items } = store.list({ pageSize: 10 });
 * ```
 */
export async function openModelStore(
  options: OpenModelStoreOptions,
): Promise<ModelStore> {
  armFaultPointFromEnv();
  const dir = options.dir.replace(/\/+$/, "") || "/";
  const dirs: StoreDirs = {
    models: `${dir}/models`,
    epochs: `${dir}/epochs`,
    orphans: `${dir}/orphans`,
  };
  await Deno.mkdir(dirs.models, { recursive: true });
  await Deno.mkdir(dirs.epochs, { recursive: true });
  const registry = openRegistry(`${dir}/registry.sqlite`);
  try {
    const recovery = await recoverStore(registry, dirs);
    return new ModelStore(dir, registry, dirs, recovery);
  } catch (err) {
    registry.close();
    throw err;
  }
}
