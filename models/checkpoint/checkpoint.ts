/**
 * Checkpoints as bytes: a model's weights as safetensors plus a manifest,
 * and the checks that refuse corrupt or foreign ones. Pure: no file I/O
 * (see `server/storage/checkpoint_files.ts`).
 *
 * @module
 */
import { createModel, type RnnModel } from "../arch/rnn_model.ts";
import { countParameters, parameterInfos } from "../arch/parameters.ts";
import { buildGraph } from "../arch/graph.ts";
import { type WeightMap, weightProblems } from "../arch/weights.ts";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
import {
  CHECKPOINT_FORMAT_VERSION,
  type CheckpointManifest,
  type FoldInfo,
  type TrainingConfig,
  validateManifest,
} from "./manifest.ts";
import { CheckpointDataLossError } from "./errors.ts";

/** A checkpoint's two files, as bytes and parsed JSON. */
export interface CheckpointBytes {
  /** The safetensors file. */
  weights: Uint8Array;
  /** The manifest (parsed JSON; validated on decode). */
  manifest: unknown;
}

/** What {@linkcode encodeCheckpoint} needs besides the model. */
export interface CheckpointInfo {
  dataset: string;
  problem: string;
  /** @default null (the standard split) */
  fold?: FoldInfo | null;
  seed: number;
  training: TrainingConfig;
  /** @default {} */
  metrics?: Record<string, number>;
  /** @default the current time */
  created?: Date;
}

/** A decoded, verified checkpoint. */
export interface DecodedCheckpoint {
  manifest: CheckpointManifest;
  weights: WeightMap;
}

/**
 * Returns the lowercase hex SHA-256 of some bytes.
 *
 * @param bytes the data
 * @returns 64 hex digits
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    bytes as Uint8Array<ArrayBuffer>,
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/**
 * Encodes a model's weights as safetensors and builds its manifest.
 *
 * @param model the model
 * @param info dataset, problem, fold, seed, training configuration, metrics
 * @returns the weights bytes and the manifest
 */
export async function encodeCheckpoint(
  model: RnnModel,
  info: CheckpointInfo,
): Promise<
  { weights: Uint8Array; manifest: CheckpointManifest }
> {
  const weights = encodeSafetensors(await model.exportWeights(), {
    format: "rnn-explain",
    formatVersion: String(CHECKPOINT_FORMAT_VERSION),
    architecture: model.spec.architecture,
  });
  const manifest: CheckpointManifest = {
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    spec: model.spec,
    dataset: info.dataset,
    problem: info.problem,
    steps: model.spec.steps,
    fold: info.fold ?? null,
    seed: info.seed,
    training: { ...info.training },
    metrics: { ...info.metrics },
    parameterCount: model.parameterCount(),
    weights: {
      format: "safetensors",
      bytes: weights.length,
      sha256: await sha256Hex(weights),
    },
    created: (info.created ?? new Date()).toISOString(),
  };
  // Refuse to write what could not be read back.
  return {
    weights,
    manifest: validateManifest(JSON.parse(JSON.stringify(manifest))),
  };
}

/**
 * Verifies and decodes a checkpoint: the manifest's version and fields, the
 * weights' size and SHA-256, the safetensors structure, and every tensor's
 * name and shape against the manifest's spec.
 *
 * @param checkpoint the weights bytes and the parsed manifest
 * @returns the manifest and the weights
 * @throws {CheckpointVersionError} if the manifest's format version is unknown
 * @throws {CheckpointDataLossError} on any mismatch or corruption
 */
export async function decodeCheckpoint(
  checkpoint: CheckpointBytes,
): Promise<DecodedCheckpoint> {
  const manifest = validateManifest(checkpoint.manifest);
  const { weights } = checkpoint;
  if (weights.length !== manifest.weights.bytes) {
    throw new CheckpointDataLossError(
      `Cannot load checkpoint: the weights file has ${weights.length} bytes, the manifest records ${manifest.weights.bytes}`,
    );
  }
  const hash = await sha256Hex(weights);
  if (hash !== manifest.weights.sha256) {
    throw new CheckpointDataLossError(
      `Cannot load checkpoint: the weights' SHA-256 is ${hash}, the manifest records ${manifest.weights.sha256}`,
    );
  }
  const { tensors } = decodeSafetensors(weights);
  const graph = buildGraph(manifest.spec);
  const problems = weightProblems(parameterInfos(graph), tensors);
  if (problems.length > 0) {
    throw new CheckpointDataLossError(
      `Cannot load checkpoint: the weights do not fit spec "${manifest.spec.architecture}": ${
        problems.join("; ")
      }`,
    );
  }
  const count = countParameters(graph);
  if (count !== manifest.parameterCount) {
    throw new CheckpointDataLossError(
      `Cannot load checkpoint: the spec has ${count} parameters, the manifest records ${manifest.parameterCount}`,
    );
  }
  return { manifest, weights: tensors };
}

/**
 * Decodes a checkpoint and builds its model.
 *
 * @param checkpoint the weights bytes and the parsed manifest
 * @returns the model (caller owns it) and the manifest
 * @throws {CheckpointVersionError} if the manifest's format version is unknown
 * @throws {CheckpointDataLossError} on any mismatch or corruption
 */
export async function loadCheckpoint(
  checkpoint: CheckpointBytes,
): Promise<{ model: RnnModel; manifest: CheckpointManifest }> {
  const { manifest, weights } = await decodeCheckpoint(checkpoint);
  return { model: createModel(manifest.spec, { weights }), manifest };
}
