/**
 * The on-disk checkpoint format, as pure bytes: weights in safetensors
 * (readable by PyTorch and NumPy) plus a versioned JSON manifest with the
 * weights' SHA-256. Writing files atomically is `server/storage`'s job.
 *
 * @example
 * ```ts
 * const { weights, manifest } = await encodeCheckpoint(model, { dataset: "mnist", problem: "sequence", seed: 1, training });
 * // … write both, read them back …
 * const { model: copy } = await loadCheckpoint({ weights, manifest: JSON.parse(text) });
 * ```
 *
 * @module
 */
export { CheckpointDataLossError, CheckpointVersionError } from "./errors.ts";
export {
  decodeSafetensors,
  encodeSafetensors,
  type Safetensors,
} from "./safetensors.ts";
export {
  CHECKPOINT_FORMAT_VERSION,
  type CheckpointManifest,
  type FoldInfo,
  SUPPORTED_FORMAT_VERSIONS,
  type TrainingConfig,
  validateManifest,
} from "./manifest.ts";
export {
  type CheckpointBytes,
  type CheckpointInfo,
  decodeCheckpoint,
  type DecodedCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  sha256Hex,
} from "./checkpoint.ts";
