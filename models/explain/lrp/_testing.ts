/**
 * Test helpers of `lrp/`: tiny specs of every architecture, models with
 * weights scaled up so that random networks are alive (thesis-code §8), and
 * seeded inputs.
 *
 * @module
 */
import type { WeightMap } from "../../arch/weights.ts";
import {
  type Architecture,
  createSpec,
  type LayerSizes,
  type ModelSpec,
} from "../../arch/spec.ts";
import { createModel, type RnnModel } from "../../arch/rnn_model.ts";
import { createRandom, uniform } from "../_testing.ts";

/** Tiny layer sizes of every architecture. */
const TINY: Readonly<Record<Architecture, LayerSizes>> = {
  shallow: { hidden: 6, recur: 5 },
  deep: { in1: 7, hidden: 6, recur: 5, out1: 4 },
  "deep_v2": { in1: 7, in2: 6, hidden: 6, recur: 5, out1: 4 },
  "conv_deep": { conv1: 3, conv2: 4, in1: 6, hidden: 5, recur: 4, out1: 4 },
  "conv_plus_deep": {
    conv1: 3,
    conv2: 4,
    in1: 6,
    hidden: 5,
    recur: 4,
    out1: 4,
  },
  "r_lstm": { in1: 7, recur: 5 },
  "conv_r_lstm": { conv1: 3, conv2: 4, in1: 6, recur: 5 },
  "conv_plus_r_lstm": { conv1: 3, conv2: 4, in1: 6, recur: 5 },
};

/** Options of {@linkcode tinySpec}. */
export interface TinySpecOptions {
  steps?: number;
  rows?: number;
  columns?: number;
  bias?: "softplus" | "none";
  layers?: LayerSizes;
}

/** A small spec of an architecture: 3 steps of 6 × 3 pixels by default. */
export function tinySpec(
  architecture: Architecture,
  options: TinySpecOptions = {},
): ModelSpec {
  return createSpec({
    architecture,
    steps: options.steps ?? 3,
    rows: options.rows ?? 6,
    columns: options.columns ?? 3,
    bias: options.bias ?? "softplus",
    dropout: "none",
    layers: { ...TINY[architecture], ...options.layers },
  });
}

/** Options of {@linkcode createLiveModel}. */
export interface LiveModelOptions {
  seed?: number;
  /** Factor applied to every kernel (thesis-code §8: random nets are mostly dead). */
  scale?: number;
  /** Replaces weights after scaling (e.g. to set gate biases). */
  edit?: (
    weights: Record<string, { shape: readonly number[]; data: Float32Array }>,
  ) => void;
}

/**
 * A model whose kernels are scaled up (default ×2), so that ReLUs fire and
 * the true-class logit is positive for most inputs. Biases keep their
 * initial softplus(b) = 0.01. Caller owns the model.
 */
export async function createLiveModel(
  spec: ModelSpec,
  options: LiveModelOptions = {},
): Promise<RnnModel> {
  const seed = options.seed ?? 1;
  const scale = options.scale ?? 2;
  const draft = createModel(spec, { seed });
  let weights: WeightMap;
  try {
    weights = await draft.exportWeights();
  } finally {
    draft.dispose();
  }
  const edited: Record<
    string,
    { shape: readonly number[]; data: Float32Array }
  > = {};
  for (const [name, w] of Object.entries(weights)) {
    const data = Float32Array.from(w.data);
    if (name.endsWith(".kernel")) {
      for (let i = 0; i < data.length; i++) data[i] *= scale;
    }
    edited[name] = { shape: w.shape, data };
  }
  options.edit?.(edited);
  return createModel(spec, { weights: edited });
}

/** `count` sequences with pixels uniform in [−1, 1) and labels 0–9. */
export function randomInput(
  spec: ModelSpec,
  count: number,
  seed: number,
): { x: Float32Array; count: number; labels: Uint8Array } {
  const random = createRandom(seed);
  const x = uniform(
    random,
    count * spec.steps * spec.rows * spec.columns,
    -1,
    1,
  );
  const labels = Uint8Array.from(
    { length: count },
    () => Math.floor(random() * 10),
  );
  return { x, count, labels };
}
