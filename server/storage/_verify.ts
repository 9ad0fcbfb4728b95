/**
 * Checkpoint verification for the store: `models/`'s typed checkpoint errors
 * become the server's domain errors.
 *
 * @module
 */
import {
  CheckpointDataLossError,
  type CheckpointManifest,
  CheckpointVersionError,
  decodeCheckpoint,
} from "../../models/mod.ts";
import { DataLossError, PreconditionError } from "../errors.ts";
import type { CheckpointFiles } from "./checkpoint_files.ts";

/**
 * Verifies a checkpoint completely: manifest fields and version, weights size
 * and SHA-256, tensor names and shapes against the spec.
 *
 * @param files the weights and the parsed manifest
 * @param action what the caller was doing, for messages (`Cannot <action>: …`)
 * @returns the validated manifest
 * @throws {DataLossError} if the checkpoint is corrupt or inconsistent
 * @throws {PreconditionError} if its format version is unknown to this build
 */
export async function verifyCheckpoint(
  files: CheckpointFiles,
  action: string,
): Promise<CheckpointManifest> {
  try {
    return (await decodeCheckpoint(files)).manifest;
  } catch (err) {
    if (err instanceof CheckpointVersionError) {
      throw new PreconditionError(
        `Cannot ${action}: ${err.message.replace(/^Cannot [^:]*: /, "")}`,
        { cause: err },
      );
    }
    if (err instanceof CheckpointDataLossError) {
      throw new DataLossError(
        `Cannot ${action}: ${err.message.replace(/^Cannot [^:]*: /, "")}`,
        { cause: err },
      );
    }
    throw err;
  }
}
