/**
 * Seeded layer cases for the rule tests: tensors for the engine and the same
 * float32 values, written out as edges, for the replicas.
 *
 * Each case plants the situations the rules must get right: output 0's
 * weights are all ≥ 0 (an empty negative part) and output 1's all ≤ 0 (an
 * empty positive part); on the non-negative domain about half the inputs
 * are exactly 0 and the last sample is all zeros.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  avgPoolEdges,
  conv2dEdges,
  denseEdges,
  type Edges,
  type ReplicaCase,
} from "../_replica.ts";
import { createRandom, normal, uniform } from "../_testing.ts";
import type { LinearLayer } from "../core.ts";
import { createAvgPool } from "../layers/avg_pool.ts";
import { CONV2D } from "../layers/conv2d.ts";
import { DENSE } from "../layers/dense.ts";

/** Layer geometries used by the tests. */
export type CaseLayer =
  | "dense"
  | "conv3x3"
  | "conv5x5"
  | "conv2x3"
  | "conv5x5c1"
  | "pool"
  | "pool1";

/**
 * Input domains: `real` N(0, 1); `nonneg` ReLU of N(0, 1) with the last
 * sample all zero; `pixels` uniform in [−1, 1]; `box` within per-input
 * bounds around [−1, 1];
 * `mixed` the first `pixels` features/channels in [−1, 1], the rest
 * non-negative.
 */
export type Domain = "real" | "nonneg" | "pixels" | "box" | "mixed";

/** How many pixel features (dense) or channels (conv) a mixed case has. */
export const PIXELS: Readonly<Record<"dense" | "conv", number>> = {
  dense: 4,
  conv: 1,
};

/** A seeded case: the tensors (caller disposes) and the replica's view. */
export interface LayerCase {
  layer: LinearLayer;
  input: tf.Tensor;
  weight?: tf.Tensor;
  bias?: tf.Tensor;
  relevance: tf.Tensor;
  /** Per-input bounds `[...sample shape]` (box and mixed domains). */
  low?: tf.Tensor;
  high?: tf.Tensor;
  /** The same data for the replicas. */
  replica: ReplicaCase;
  /** Per-sample input index → bounds (box: all; mixed: pixel part, else 0). */
  lowValues: Float64Array;
  highValues: Float64Array;
  /** Whether per-sample input index i belongs to the pixel part (mixed). */
  isPixel: (i: number) => boolean;
  /** The bound tensors of the pixel part only (mixed domain). */
  pixelLow?: tf.Tensor;
  pixelHigh?: tf.Tensor;
  /** Disposes every tensor of the case. */
  dispose(): void;
}

interface Geometry {
  layer: LinearLayer;
  batch: number;
  sample: number[];
  weightShape: number[] | null;
  edges: (w: Float32Array) => Edges;
  outSample: number[];
}

function geometry(kind: CaseLayer): Geometry {
  const convCase = (
    h: number,
    w: number,
    kh: number,
    kw: number,
    channels = 3,
  ): Geometry => ({
    layer: CONV2D,
    batch: 2,
    sample: [h, w, channels],
    weightShape: [kh, kw, channels, 4],
    edges: (v) => conv2dEdges(v, [h, w, channels], [kh, kw, 4]),
    outSample: [h, w, 4],
  });
  switch (kind) {
    case "dense":
      return {
        layer: DENSE,
        batch: 3,
        sample: [10],
        weightShape: [10, 6],
        edges: (v) => denseEdges(v, 10, 6),
        outSample: [6],
      };
    case "conv3x3":
      return convCase(6, 5, 3, 3);
    case "conv5x5":
      return convCase(7, 4, 5, 5);
    case "conv2x3":
      return convCase(5, 6, 2, 3);
    case "conv5x5c1":
      // One input channel, like a first layer onto pixels.
      return convCase(7, 4, 5, 5, 1);
    case "pool":
    case "pool1": {
      const scale = kind === "pool" ? 2 : 1;
      return {
        layer: createAvgPool({ scale }),
        batch: 2,
        sample: [5, 7, 3],
        weightShape: null,
        edges: () => avgPoolEdges([5, 7, 3], scale),
        outSample: [3, 4, 3],
      };
    }
  }
}

/** Weights ~ N(0, 2/fan_in), output 0 all ≥ 0 and output 1 all ≤ 0. */
function weights(random: () => number, shape: number[]): Float32Array {
  const outs = shape[shape.length - 1] as number;
  const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const w = normal(random, fanIn * outs).map((v) => v * Math.sqrt(2 / fanIn));
  for (let i = 0; i < fanIn; i++) {
    w[i * outs] = Math.abs(w[i * outs] as number);
    w[i * outs + 1] = -Math.abs(w[i * outs + 1] as number);
  }
  return w;
}

function condition(
  e: Edges,
  x: Float32Array,
  r: Float32Array,
  batch: number,
): void {
  for (let n = 0; n < batch; n++) {
    const z = new Float64Array(e.outputs);
    const size = new Float64Array(e.outputs);
    for (let k = 0; k < e.from.length; k++) {
      const v = (x[n * e.inputs + e.from[k]!] as number) * e.weight[k]!;
      z[e.to[k]!] += v;
      size[e.to[k]!] += Math.abs(v);
    }
    for (let j = 0; j < e.outputs; j++) {
      if (Math.abs(z[j]!) < 0.05 * size[j]!) r[n * e.outputs + j] = 0;
    }
  }
}

/**
 * Builds a seeded case.
 *
 * @param kind the layer geometry
 * @param domain the input domain
 * @param seed the generator seed
 * @param options `bias`: add an effective bias in [−0.3, 0];
 *   `conditioned`: set R_j = 0 wherever `|z_j| < 5% of Σ_i |x_i w_ij|`.
 *   LRP-0 divides by z_j, so a nearly cancelling z_j amplifies float32
 *   rounding by `Σ|x w| / |z_j|` and no float32 rule can match a float64
 *   replica there; the other outputs still test the rule.
 */
export function makeCase(
  kind: CaseLayer,
  domain: Domain,
  seed: number,
  options: { bias?: boolean; conditioned?: boolean } = {},
): LayerCase {
  const withBias = options.bias ?? false;
  const g = geometry(kind);
  const random = createRandom(seed);
  const per = g.sample.reduce((a, b) => a * b, 1);
  const outPer = g.outSample.reduce((a, b) => a * b, 1);
  const channels = g.sample[g.sample.length - 1] as number;
  const pixels = g.layer.kind === "dense" ? PIXELS.dense : PIXELS.conv;
  const isPixel = (i: number) => domain === "box" || (i % channels) < pixels;
  const lowValues = new Float64Array(per);
  const highValues = new Float64Array(per);
  for (let i = 0; i < per; i++) {
    if (domain === "box") {
      lowValues[i] = -0.5 - random();
      highValues[i] = 0.5 + random();
    } else if (domain === "mixed" && isPixel(i)) {
      lowValues[i] = -1;
      highValues[i] = 1;
    }
  }
  const x = new Float32Array(g.batch * per);
  const gauss = normal(random, g.batch * per);
  for (let k = 0; k < x.length; k++) {
    const i = k % per;
    const v = gauss[k] as number;
    if (domain === "real") x[k] = v;
    else if (domain === "pixels") x[k] = -1 + 2 * random();
    else if (domain === "nonneg") {
      x[k] = k >= (g.batch - 1) * per ? 0 : Math.max(v, 0);
    } else if (isPixel(i)) {
      const lo = lowValues[i] as number;
      const hi = highValues[i] as number;
      x[k] = lo + (hi - lo) * random();
    } else x[k] = Math.max(v, 0);
  }
  const w = g.weightShape === null ? null : weights(random, g.weightShape);
  const outChannels = g.outSample[g.outSample.length - 1] as number;
  const b = withBias ? uniform(random, outChannels, -0.3, 0) : null;
  const r = uniform(random, g.batch * outPer, -0.3, 1);
  const edges = g.edges(w ?? new Float32Array());
  if (options.conditioned) condition(edges, x, r, g.batch);
  const input = tf.tensor(x, [g.batch, ...g.sample]);
  const weight = w === null ? undefined : tf.tensor(w, g.weightShape!);
  const bias = b === null ? undefined : tf.tensor1d(b);
  const relevance = tf.tensor(r, [g.batch, ...g.outSample]);
  const boxed = domain === "box";
  const low = boxed
    ? tf.tensor(Float32Array.from(lowValues), g.sample)
    : undefined;
  const high = boxed
    ? tf.tensor(Float32Array.from(highValues), g.sample)
    : undefined;
  const pixelShape = [...g.sample.slice(0, -1), pixels];
  const mixed = domain === "mixed";
  const owned = [input, weight, bias, relevance, low, high];
  const pixelLow = mixed ? tf.fill(pixelShape, -1) : undefined;
  const pixelHigh = mixed ? tf.fill(pixelShape, 1) : undefined;
  owned.push(pixelLow, pixelHigh);
  return {
    layer: g.layer,
    input,
    ...(weight ? { weight } : {}),
    ...(bias ? { bias } : {}),
    relevance,
    ...(low ? { low } : {}),
    ...(high ? { high } : {}),
    ...(pixelLow ? { pixelLow } : {}),
    ...(pixelHigh ? { pixelHigh } : {}),
    replica: {
      edges,
      batch: g.batch,
      x: Float64Array.from(x),
      r: Float64Array.from(r),
      ...(b ? { bias: Float64Array.from(b) } : {}),
    },
    lowValues,
    highValues,
    isPixel,
    dispose: () => owned.forEach((t) => t?.dispose()),
  };
}
