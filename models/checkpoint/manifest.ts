/**
 * The JSON manifest stored next to a checkpoint's safetensors weights.
 *
 * Format version 1:
 *
 * ```json
 * {
 *   "formatVersion": 1,
 *   "spec": { "architecture": "r_lstm", "steps": 12, "columns": 7, "rows": 28, ... },
 *   "dataset": "fashion_mnist",
 *   "problem": "majority",
 *   "steps": 12,
 *   "fold": { "index": 0, "folds": 7 },
 *   "seed": 1,
 *   "training": { "optimizer": "adam", "epochs": 100, "batchSize": 50, "learningRate": 0.0002, "keepProb": 0.8 },
 *   "metrics": { "testAccuracy": 0.93 },
 *   "parameterCount": 145914,
 *   "weights": { "format": "safetensors", "bytes": 583744, "sha256": "…64 hex digits…" },
 *   "created": "2025-01-01T00:00:00.000Z"
 * }
 * ```
 *
 * `fold` is `null` for the dataset's standard train/test split.
 *
 * @module
 */
import { type ModelSpec, validateSpec } from "../arch/spec.ts";
import { CheckpointDataLossError, CheckpointVersionError } from "./errors.ts";

/** The manifest format this build writes. */
export const CHECKPOINT_FORMAT_VERSION = 1;
/** Every manifest format this build reads. */
export const SUPPORTED_FORMAT_VERSIONS: readonly number[] = Object.freeze([1]);

/** How the model was trained. */
export interface TrainingConfig {
  optimizer: "adam";
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Dropout keep probability (also in the spec). */
  keepProb: number;
  /** Set when training used a subset of the training split. */
  maxSamples?: number;
}

/** Which fold of a k-fold cross-validation held the test samples. */
export interface FoldInfo {
  /** 0-based fold index. */
  index: number;
  /** k. */
  folds: number;
}

/** A checkpoint's manifest, format version 1. */
export interface CheckpointManifest {
  formatVersion: 1;
  spec: ModelSpec;
  /** Dataset name, e.g. `mnist`, `fashion_mnist`. */
  dataset: string;
  /** Problem name, e.g. `sequence`, `majority`. */
  problem: string;
  /** Sequence length T (equals `spec.steps`). */
  steps: number;
  /** The cross-validation fold, or `null` for the standard split. */
  fold: FoldInfo | null;
  /** The seed of initialisation, data order and dropout. */
  seed: number;
  training: TrainingConfig;
  /** Named results, e.g. `{ "testAccuracy": 0.93, "testLoss": 0.2 }`. */
  metrics: Record<string, number>;
  /** Trainable scalars of the spec ("true" count). */
  parameterCount: number;
  /** The weights file. */
  weights: { format: "safetensors"; bytes: number; sha256: string };
  /** ISO 8601 creation time. */
  created: string;
}

function fail(path: string, reason: string): never {
  throw new CheckpointDataLossError(
    `Cannot read checkpoint manifest: "${path}" ${reason}`,
  );
}

function finite(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    fail(path, `must be a finite number: got ${JSON.stringify(value)}`);
  }
  return value;
}

function integer(value: unknown, path: string, min: number): number {
  const v = finite(value, path);
  if (!Number.isInteger(v) || v < min) {
    fail(path, `must be an integer ≥ ${min}: got ${v}`);
  }
  return v;
}

function text(value: unknown, path: string): string {
  if (typeof value !== "string" || value.length === 0) {
    fail(path, `must be a non-empty string: got ${JSON.stringify(value)}`);
  }
  return value;
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(path, "must be an object");
  }
  return value as Record<string, unknown>;
}

function readTraining(value: unknown): TrainingConfig {
  const t = object(value, "training");
  if (t.optimizer !== "adam") {
    fail(
      "training.optimizer",
      `must be "adam": got ${JSON.stringify(t.optimizer)}`,
    );
  }
  const out: TrainingConfig = {
    optimizer: "adam",
    epochs: integer(t.epochs, "training.epochs", 0),
    batchSize: integer(t.batchSize, "training.batchSize", 1),
    learningRate: finite(t.learningRate, "training.learningRate"),
    keepProb: finite(t.keepProb, "training.keepProb"),
  };
  if (t.maxSamples !== undefined) {
    out.maxSamples = integer(t.maxSamples, "training.maxSamples", 1);
  }
  return out;
}

function readFold(value: unknown): FoldInfo | null {
  if (value === null) return null;
  const f = object(value, "fold");
  const folds = integer(f.folds, "fold.folds", 2);
  const index = integer(f.index, "fold.index", 0);
  if (index >= folds) {
    fail("fold.index", `must be below fold.folds = ${folds}: got ${index}`);
  }
  return { index, folds };
}

function readWeights(value: unknown): CheckpointManifest["weights"] {
  const w = object(value, "weights");
  if (w.format !== "safetensors") {
    fail(
      "weights.format",
      `must be "safetensors": got ${JSON.stringify(w.format)}`,
    );
  }
  const sha256 = text(w.sha256, "weights.sha256");
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    fail("weights.sha256", "must be 64 lowercase hex digits");
  }
  return {
    format: "safetensors",
    bytes: integer(w.bytes, "weights.bytes", 8),
    sha256,
  };
}

/**
 * Checks a parsed manifest. The format version is checked first, so a
 * manifest from a newer build is refused as such, not as corrupt.
 *
 * @param value the parsed JSON
 * @returns the typed manifest
 * @throws {CheckpointVersionError} if `formatVersion` is not supported
 * @throws {CheckpointDataLossError} if a field is missing or malformed
 */
export function validateManifest(value: unknown): CheckpointManifest {
  const m = object(value, "(manifest)");
  if (!SUPPORTED_FORMAT_VERSIONS.includes(m.formatVersion as number)) {
    throw new CheckpointVersionError(
      m.formatVersion,
      SUPPORTED_FORMAT_VERSIONS,
    );
  }
  let spec: ModelSpec;
  try {
    spec = validateSpec(m.spec);
  } catch (err) {
    throw new CheckpointDataLossError(
      `Cannot read checkpoint manifest: "spec" is invalid: ${
        (err as Error).message
      }`,
      {
        cause: err,
      },
    );
  }
  const steps = integer(m.steps, "steps", 1);
  if (steps !== spec.steps) {
    fail("steps", `is ${steps} but spec.steps is ${spec.steps}`);
  }
  const metrics = object(m.metrics, "metrics");
  for (const [k, v] of Object.entries(metrics)) finite(v, `metrics.${k}`);
  const created = text(m.created, "created");
  if (Number.isNaN(Date.parse(created))) {
    fail("created", `is not an ISO 8601 time: got ${JSON.stringify(created)}`);
  }
  return {
    formatVersion: 1,
    spec,
    dataset: text(m.dataset, "dataset"),
    problem: text(m.problem, "problem"),
    steps,
    fold: readFold(m.fold),
    seed: integer(m.seed, "seed", 0),
    training: readTraining(m.training),
    metrics: metrics as Record<string, number>,
    parameterCount: integer(m.parameterCount, "parameterCount", 0),
    weights: readWeights(m.weights),
    created,
  };
}
