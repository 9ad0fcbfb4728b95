/**
 * Persistence of the server: the SQLite registry of models and training
 * jobs, checkpoint files on disk, and the archive format that moves models
 * between servers. Open one {@linkcode openModelStore} per data directory.
 *
 * @example
 * ```ts
 * using store = await openModelStore({ dir: "./data" });
 * const record = await store.save("m1", await encodeCheckpoint(model, info));
 * const bytes = await store.exportBytes("m1");
 * ```
 *
 * @module
 */
export {
  type CheckpointFiles,
  validateCheckpointId,
} from "./checkpoint_files.ts";
export {
  type ArchiveFileEntry,
  createModelArchive,
  decodeModelArchive,
  encodeModelArchive,
  type ModelArchive,
  type ModelArchiveHeader,
  verifyModelArchive,
} from "./model_archive.ts";
export {
  ARCHIVE_MANIFEST,
  ARCHIVE_WEIGHTS,
  type ImportModelOptions,
  type ImportModelResult,
  ModelStore,
  openModelStore,
  type OpenModelStoreOptions,
  type SaveModelOptions,
  type StoredCheckpoint,
} from "./model_store.ts";
export {
  initialProgress,
  JOB_STATES,
  type JobConfig,
  type JobRecord,
  type JobState,
  type ListOptions,
  type ModelRecord,
  type ModelState,
  type Page,
  TERMINAL_JOB_STATES,
  type TrainingProgress,
} from "./records.ts";
export {
  type InsertModelOptions,
  type JobChange,
  type ListJobsOptions,
  openRegistry,
  Registry,
} from "./registry.ts";
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./page_token.ts";
export { INTERRUPTED_BY_RESTART, type RecoveryReport } from "./_recover.ts";
