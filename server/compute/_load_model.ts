/**
 * Loading a stored model inside a worker: read the checkpoint files, verify
 * them (`models/` decodeCheckpoint: version, size, hash, shapes), check the
 * hash against the registry's, and build the model.
 *
 * @module
 */
import {
  createModel,
  decodeCheckpoint,
  type RnnModel,
} from "../../models/mod.ts";
import { DataLossError } from "../errors.ts";
import { readCheckpoint } from "../storage/checkpoint_files.ts";
import type { ModelRef } from "./protocol.ts";

/**
 * Loads the model a reference names.
 *
 * @param ref id, checkpoint directory and expected weights hash
 * @returns the model; the caller owns it
 * @throws {RangeError} for an id that is not allowed
 * @throws {NotFoundError} if no checkpoint has this id
 * @throws {DataLossError} if the files are unreadable, or the hash differs from the registry's
 * @throws {CheckpointDataLossError|CheckpointVersionError} from decoding
 */
export async function loadModel(ref: ModelRef): Promise<RnnModel> {
  const files = await readCheckpoint(ref.dir, ref.id);
  const { manifest, weights } = await decodeCheckpoint(files);
  if (manifest.weights.sha256 !== ref.sha256) {
    throw new DataLossError(
      `Cannot load model "${ref.id}": its weights' SHA-256 is ${manifest.weights.sha256}, the registry records ${ref.sha256}`,
    );
  }
  return createModel(manifest.spec, { weights });
}
