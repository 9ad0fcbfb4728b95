/**
 * Test support: real, verifiable checkpoints of a tiny SHALLOW network built
 * without TensorFlow.js (weights filled from a seed), so storage and job tests
 * stay fast and need no backend. Used by `*_test.ts` and test fixtures only.
 *
 * @module
 */
import {
  buildGraph,
  CHECKPOINT_FORMAT_VERSION,
  type CheckpointManifest,
  countParameters,
  createSpec,
  encodeSafetensors,
  type ModelSpec,
  parameterInfos,
  sha256Hex,
  validateManifest,
  type WeightMap,
} from "../../models/mod.ts";
import type { CheckpointFiles } from "./checkpoint_files.ts";

/** The tiny spec every test checkpoint uses (SHALLOW, T = 4, 4 units). */
export const TEST_SPEC: ModelSpec = createSpec({
  architecture: "shallow",
  steps: 4,
  columns: 7,
  layers: { hidden: 4, recur: 4 },
});

/** Options of {@linkcode createTestWeights} and {@linkcode createTestCheckpoint}. */
export interface TestCheckpointOptions {
  /**
   * Fills the weights; different seeds give different bytes.
   * @default 1
   */
  seed?: number;
  /**
   * Metrics recorded in the manifest.
   * @default { heldoutAccuracy: 0.5 }
   */
  metrics?: Record<string, number>;
  /**
   * Training epochs recorded in the manifest.
   * @default 2
   */
  epochs?: number;
}

/**
 * Builds safetensors weights that fit {@linkcode TEST_SPEC}.
 *
 * @param options the seed
 * @returns the safetensors bytes
 */
export function createTestWeights(
  options: TestCheckpointOptions = {},
): Uint8Array {
  const seed = options.seed ?? 1;
  const weights: Record<string, WeightMap[string]> = {};
  for (const info of parameterInfos(buildGraph(TEST_SPEC))) {
    const size = info.shape.reduce((a, d) => a * d, 1);
    const data = Float32Array.from(
      { length: size },
      (_, i) => Math.sin(seed * 7919 + i * 0.37 + info.name.length) * 0.1,
    );
    weights[info.name] = { shape: [...info.shape], data };
  }
  return encodeSafetensors(weights, {
    format: "rnn-explain",
    formatVersion: String(CHECKPOINT_FORMAT_VERSION),
    architecture: TEST_SPEC.architecture,
  });
}

/**
 * Builds a complete checkpoint (weights plus validated manifest) that
 * `decodeCheckpoint` accepts.
 *
 * @param options the seed, metrics and epochs
 * @returns the checkpoint files
 */
export async function createTestCheckpoint(
  options: TestCheckpointOptions = {},
): Promise<CheckpointFiles & { manifest: CheckpointManifest }> {
  const weights = createTestWeights(options);
  const manifest = validateManifest({
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    spec: TEST_SPEC,
    dataset: "mnist",
    problem: "sequence",
    steps: TEST_SPEC.steps,
    fold: null,
    seed: options.seed ?? 1,
    training: {
      optimizer: "adam",
      epochs: options.epochs ?? 2,
      batchSize: 50,
      learningRate: 0.0002,
      keepProb: TEST_SPEC.keepProb,
    },
    metrics: options.metrics ?? { heldoutAccuracy: 0.5 },
    parameterCount: countParameters(buildGraph(TEST_SPEC)),
    weights: {
      format: "safetensors",
      bytes: weights.length,
      sha256: await sha256Hex(weights),
    },
    created: new Date().toISOString(),
  });
  return { weights, manifest };
}
