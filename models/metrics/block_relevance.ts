/**
 * Relevance aggregated over time steps and over the blocks of a
 * majority-sample image (thesis §3.3.2, thesis-code §5.1).
 *
 * @module
 */

/**
 * How negative relevance enters a block metric. `clip` sets negative pixel
 * relevance to zero first (the thesis text does this for LRP-αβ heatmaps,
 * §3.3.2); `keep` sums signed relevance (the released code).
 */
export type NegativeRelevance = "clip" | "keep";

/** Geometry of one explained sequence: T steps of rows × columns pixels. */
export interface StepLayout {
  /** Number of time steps T. */
  steps: number;
  /** Pixel values per step (rows × columns). */
  stepSize: number;
}

/**
 * Sums relevance per time step for each of `count` samples laid out as
 * [count, T, stepSize].
 *
 * @returns a [count, T] array of per-step sums
 */
export function stepRelevance(
  relevance: Float32Array,
  count: number,
  shape: StepLayout,
  negative: NegativeRelevance = "keep",
): Float64Array {
  const { steps, stepSize } = shape;
  if (relevance.length !== count * steps * stepSize) {
    throw new RangeError(
      `Cannot sum relevance per step: expected ${
        count * steps * stepSize
      } values, found ${relevance.length}`,
    );
  }
  const out = new Float64Array(count * steps);
  for (let s = 0; s < count * steps; s++) {
    let acc = 0;
    const base = s * stepSize;
    for (let i = 0; i < stepSize; i++) {
      const v = relevance[base + i];
      acc += negative === "clip" && v < 0 ? 0 : v;
    }
    out[s] = acc;
  }
  return out;
}

/**
 * Per-block relevance shares: each sample's step sums divided by their total
 * (+1e-20, as thesis-code §5.1; a negative total flips the signs), then summed
 * over the T / blocks consecutive steps of each block.
 *
 * @param steps per-step relevance, [count, T]
 * @returns a [count, blocks] array
 */
export function blockShares(
  steps: Float64Array,
  count: number,
  stepCount: number,
  blocks = 3,
): Float64Array {
  if (stepCount % blocks !== 0) {
    throw new RangeError(
      `Cannot split ${stepCount} steps into ${blocks} blocks: ${stepCount} is not a multiple of ${blocks}`,
    );
  }
  const per = stepCount / blocks;
  const out = new Float64Array(count * blocks);
  for (let n = 0; n < count; n++) {
    let total = 0;
    for (let t = 0; t < stepCount; t++) total += steps[n * stepCount + t];
    const denom = total + 1e-20;
    for (let t = 0; t < stepCount; t++) {
      out[n * blocks + Math.floor(t / per)] += steps[n * stepCount + t] / denom;
    }
  }
  return out;
}
