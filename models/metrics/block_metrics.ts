/**
 * Explanation-quality metrics for majority-sample problems, where the
 * ground truth marks the two blocks that hold the majority class.
 *
 * - cosine similarity between the block mark m and the block shares v
 *   (thesis §3.3.2; 0 where ‖m‖‖v‖ = 0, as thesis-code §5.3);
 * - the share of relevance in the marked blocks (thesis-code §5.2);
 * - RelevanceMassAccuracy and RelevanceRankAccuracy on the pixel mask of the
 *   marked blocks (Arras et al. 2022; the names Quantus uses).
 *
 * @module
 */
import {
  blockShares,
  type NegativeRelevance,
  stepRelevance,
} from "./block_relevance.ts";

/** Cosine similarity of two equal-length vectors, 0 when either is zero. */
export function cosineSimilarity(
  u: ArrayLike<number>,
  v: ArrayLike<number>,
): number {
  let dot = 0;
  let uu = 0;
  let vv = 0;
  for (let i = 0; i < u.length; i++) {
    dot += u[i] * v[i];
    uu += u[i] * u[i];
    vv += v[i] * v[i];
  }
  const norm = Math.sqrt(uu) * Math.sqrt(vv);
  return norm === 0 ? 0 : dot / norm;
}

/** Per-sample metric values for a batch of explained majority samples. */
export interface BlockMetricValues {
  /** cos(m, v) per sample. */
  cosineSimilarity: Float64Array;
  /** Σ_k m_k v_k per sample: the share of relevance in the marked blocks. */
  correctBlockShare: Float64Array;
  /** Relevance inside the marked blocks over all relevance, per sample (pixel level). */
  relevanceMassAccuracy: Float64Array;
  /** Share of the top-K pixels (K = mask size) that lie in the marked blocks. */
  relevanceRankAccuracy: Float64Array;
}

/** Options of {@linkcode blockMetrics}. */
export interface BlockMetricOptions {
  /** Number of time steps T. */
  steps: number;
  /** Pixel rows of the image. @default 28 */
  rows?: number;
  /** Columns per time step c. */
  columns: number;
  /** Number of blocks (items side by side). @default 3 */
  blocks?: number;
  /** Negative relevance handling. @default "keep" */
  negative?: NegativeRelevance;
}

/**
 * Computes every block metric for `count` relevance maps laid out as
 * [count, T, rows · columns] (each step row-major), against `marks`
 * [count, blocks] of 0/1.
 */
export function blockMetrics(
  relevance: Float32Array,
  marks: Uint8Array,
  count: number,
  options: BlockMetricOptions,
): BlockMetricValues {
  const rows = options.rows ?? 28;
  const blocks = options.blocks ?? 3;
  const negative = options.negative ?? "keep";
  const { steps, columns } = options;
  const stepSize = rows * columns;
  if (marks.length !== count * blocks) {
    throw new RangeError(
      `Cannot compute block metrics: expected ${
        count * blocks
      } marks, found ${marks.length}`,
    );
  }
  const perStep = stepRelevance(
    relevance,
    count,
    { steps, stepSize },
    negative,
  );
  const shares = blockShares(perStep, count, steps, blocks);
  const stepsPerBlock = steps / blocks;
  const out: BlockMetricValues = {
    cosineSimilarity: new Float64Array(count),
    correctBlockShare: new Float64Array(count),
    relevanceMassAccuracy: new Float64Array(count),
    relevanceRankAccuracy: new Float64Array(count),
  };
  const size = steps * stepSize;
  const order = new Uint32Array(size);
  const values = new Float64Array(size);
  for (let n = 0; n < count; n++) {
    const m = marks.subarray(n * blocks, (n + 1) * blocks);
    const v = shares.subarray(n * blocks, (n + 1) * blocks);
    out.cosineSimilarity[n] = cosineSimilarity(m, v);
    let share = 0;
    for (let k = 0; k < blocks; k++) share += m[k] * v[k];
    out.correctBlockShare[n] = share;
    // Pixel level: step t belongs to block floor(t / stepsPerBlock).
    let inside = 0;
    let total = 0;
    let maskSize = 0;
    for (let i = 0; i < size; i++) {
      const raw = relevance[n * size + i];
      const r = negative === "clip" && raw < 0 ? 0 : raw;
      values[i] = r;
      order[i] = i;
      const inMask =
        m[Math.floor(Math.floor(i / stepSize) / stepsPerBlock)] === 1;
      total += r;
      if (inMask) {
        inside += r;
        maskSize++;
      }
    }
    out.relevanceMassAccuracy[n] = total === 0 ? 0 : inside / total;
    order.sort((a, b) => values[b] - values[a]);
    let hits = 0;
    for (let j = 0; j < maskSize; j++) {
      const i = order[j];
      if (m[Math.floor(Math.floor(i / stepSize) / stepsPerBlock)] === 1) hits++;
    }
    out.relevanceRankAccuracy[n] = maskSize === 0 ? 0 : hits / maskSize;
  }
  return out;
}
