/**
 * In-progress weights of training jobs, one checkpoint per job and completed
 * epoch: `<dir>/<jobId>.epoch-<n>.safetensors` plus a small manifest
 * `{ kind, jobId, epoch, weights: { bytes, sha256 } }`, written atomically by
 * `checkpoint_files.ts`. The registry's `last_completed_epoch` says which one
 * is current; a newer file without its registry update (a crash in between)
 * is an orphan that the store removes on open.
 *
 * @module
 */
import { sha256Hex } from "../../models/mod.ts";
import { DataLossError, NotFoundError } from "../errors.ts";
import {
  readCheckpoint,
  removeCheckpoint,
  scanCheckpoints,
  validateCheckpointId,
  writeCheckpoint,
} from "./checkpoint_files.ts";

const KIND = "rnn-explain/epoch-weights";
const ID_PATTERN = /^(.+)\.epoch-([1-9][0-9]*)$/;

/** The manifest of an epoch checkpoint. */
interface EpochManifest {
  kind: typeof KIND;
  jobId: string;
  epoch: number;
  weights: { bytes: number; sha256: string };
}

/**
 * Returns the checkpoint id of a job's epoch.
 *
 * @param jobId the job
 * @param epoch completed epochs, ≥ 1
 * @returns `<jobId>.epoch-<epoch>`
 * @throws {RangeError} if the result is not a valid checkpoint id
 */
export function epochCheckpointId(jobId: string, epoch: number): string {
  if (!Number.isInteger(epoch) || epoch < 1) {
    throw new RangeError(
      `Cannot name epoch checkpoint of job "${jobId}": epoch must be an integer ≥ 1: got ${epoch}`,
    );
  }
  const id = `${jobId}.epoch-${epoch}`;
  validateCheckpointId(id);
  return id;
}

/**
 * Splits an epoch checkpoint id.
 *
 * @param id a checkpoint id
 * @returns the job and epoch, or `undefined` if `id` is not an epoch checkpoint's
 */
export function parseEpochCheckpointId(
  id: string,
): { jobId: string; epoch: number } | undefined {
  const match = ID_PATTERN.exec(id);
  return match === null
    ? undefined
    : { jobId: match[1]!, epoch: Number(match[2]) };
}

/**
 * Writes a job's weights after `epoch`, replacing a leftover file of the
 * same epoch (from a run that crashed before recording it).
 *
 * @param dir the epoch checkpoint directory
 * @param jobId the job
 * @param epoch completed epochs, ≥ 1
 * @param weights the safetensors bytes
 */
export async function writeEpochCheckpoint(
  dir: string,
  jobId: string,
  epoch: number,
  weights: Uint8Array,
): Promise<void> {
  const id = epochCheckpointId(jobId, epoch);
  const manifest: EpochManifest = {
    kind: KIND,
    jobId,
    epoch,
    weights: { bytes: weights.length, sha256: await sha256Hex(weights) },
  };
  await removeCheckpoint(dir, id);
  await writeCheckpoint(dir, id, { weights, manifest });
}

/**
 * Reads and verifies a job's weights after `epoch`.
 *
 * @param dir the epoch checkpoint directory
 * @param jobId the job
 * @param epoch completed epochs, ≥ 1
 * @returns the safetensors bytes
 * @throws {DataLossError} if the checkpoint is missing, foreign or fails its hash
 */
export async function readEpochCheckpoint(
  dir: string,
  jobId: string,
  epoch: number,
): Promise<Uint8Array> {
  const id = epochCheckpointId(jobId, epoch);
  let files;
  try {
    files = await readCheckpoint(dir, id);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    throw new DataLossError(
      `Cannot resume job "${jobId}": the weights of epoch ${epoch} are missing`,
      { cause: err },
    );
  }
  const m = files.manifest as Partial<EpochManifest> | null;
  if (
    m?.kind !== KIND || m.jobId !== jobId || m.epoch !== epoch ||
    m.weights?.bytes !== files.weights.length ||
    m.weights.sha256 !== await sha256Hex(files.weights)
  ) {
    throw new DataLossError(
      `Cannot resume job "${jobId}": the weights of epoch ${epoch} fail their hash check`,
    );
  }
  return files.weights;
}

/**
 * Removes a job's epoch checkpoints, except the one of `keep`.
 *
 * @param dir the epoch checkpoint directory
 * @param jobId the job
 * @param keep an epoch whose checkpoint stays
 * @returns the number of checkpoints removed
 */
export async function removeEpochCheckpoints(
  dir: string,
  jobId: string,
  keep?: number,
): Promise<number> {
  let removed = 0;
  for (const id of (await scanCheckpoints(dir)).ids) {
    const parsed = parseEpochCheckpointId(id);
    if (parsed?.jobId !== jobId || parsed.epoch === keep) continue;
    if (await removeCheckpoint(dir, id)) removed++;
  }
  return removed;
}
