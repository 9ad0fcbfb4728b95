/**
 * Test helpers of `server/compute/`: tiny models saved as real checkpoint
 * files in a temporary folder, and seeded inputs.
 *
 * @module
 */
import {
  createModel,
  createSpec,
  decodeCheckpoint,
  encodeCheckpoint,
  initBackend,
  type ModelSpecInit,
  Random,
  type RnnModel,
} from "../../models/mod.ts";
import {
  readCheckpoint,
  writeCheckpoint,
} from "../storage/checkpoint_files.ts";
import type { ModelRef } from "./protocol.ts";

/** The model id that crashes a worker started from `_testing_worker.ts`. */
export const CRASH_MODEL_ID = "crash-the-worker";

/** An event as a worker started from `_testing_worker.ts` posts it. */
export interface StampedEvent {
  /** `performance.timeOrigin + performance.now()` in the worker at posting. */
  readonly postedAt?: number;
  /** The same clock when the worker read the task's `run` message. */
  readonly taskReceivedAt?: number;
}

/** A tiny R-LSTM on 28 × 84 majority inputs, T = 12 (c = 7). */
export const TINY_SPEC: ModelSpecInit = {
  architecture: "r_lstm",
  steps: 12,
  columns: 7,
  layers: { in1: 16, recur: 8 },
};

/** The thesis-size R-LSTM, T = 12 (for slow tasks). */
export const FULL_SPEC: ModelSpecInit = {
  architecture: "r_lstm",
  steps: 12,
  columns: 7,
};

/**
 * Creates a seeded model and saves it as checkpoint `id` in `dir`.
 *
 * @returns the reference a worker loads it by
 */
export async function saveModel(
  dir: string,
  id: string,
  init: ModelSpecInit = TINY_SPEC,
  seed = 1,
): Promise<ModelRef> {
  await initBackend("wasm");
  const model = createModel(createSpec(init), { seed });
  try {
    const { weights, manifest } = await encodeCheckpoint(model, {
      dataset: "mnist",
      problem: "majority",
      seed,
      training: {
        optimizer: "adam",
        epochs: 1,
        batchSize: 50,
        learningRate: 0.0002,
        keepProb: 0.8,
      },
    });
    await writeCheckpoint(dir, id, { weights, manifest });
    return { id, dir, sha256: manifest.weights.sha256 };
  } finally {
    model.dispose();
  }
}

/**
 * Loads a saved model on this thread, as a worker does (the caller disposes it).
 */
export async function loadHere(ref: ModelRef): Promise<RnnModel> {
  const { manifest, weights } = await decodeCheckpoint(
    await readCheckpoint(ref.dir, ref.id),
  );
  return createModel(manifest.spec, { weights });
}

/** `count` seeded sequences of `size` values in [−1, 1] and labels. */
export function randomBatch(
  count: number,
  size = 12 * 28 * 7,
  seed = 7,
): { x: Float32Array; labels: Uint8Array } {
  const random = new Random(seed);
  const x = Float32Array.from(
    { length: count * size },
    () => 2 * random.next() - 1,
  );
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { x, labels };
}

/** Runs `fn` with a fresh temporary folder, removed afterwards. */
export async function withTempDir<T>(
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "compute_test_" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
