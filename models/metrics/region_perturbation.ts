/**
 * Region perturbation, most relevant first (MoRF), and the area over the
 * perturbation curve (AOPC): Samek et al. 2017, "Evaluating the
 * visualization of what a deep neural network has learned". The image is cut
 * into square patches; patches are replaced, in order of summed relevance,
 * by fill values (uniform noise in Samek et al.), and the class score is
 * recorded after each step. A faithful heatmap makes the score drop fast,
 * which gives a large AOPC; a random order is the baseline.
 *
 * Pure array code: the caller runs the model on the perturbed inputs.
 *
 * @module
 */
import { createUniform, deriveSeed, permutation } from "../_random.ts";

/** Where a sample's pixels live: `[T, rows, columns]` row-major, the image being `rows × (T·columns)`. */
export interface PatchGeometry {
  /** Time steps T. */
  steps: number;
  /** Image rows. */
  rows: number;
  /** Columns per time step. */
  columns: number;
  /** Side of a square patch in pixels; edge patches may be smaller. */
  patchSize: number;
}

function checkGeometry(g: PatchGeometry): void {
  for (const [name, v] of Object.entries(g)) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(
        `Cannot cut patches: ${name} must be an integer ≥ 1: got ${v}`,
      );
    }
  }
}

/**
 * The patch index of every pixel of one sample, in the sample's
 * `[T, rows, columns]` layout.
 *
 * @param geometry the layout and patch size
 * @returns `patchOf[i]` for every pixel i, and the number of patches
 * @throws {RangeError} for a non-positive or fractional size
 */
export function patchIndex(
  geometry: PatchGeometry,
): { patchOf: Int32Array; count: number } {
  checkGeometry(geometry);
  const { steps, rows, columns, patchSize } = geometry;
  const width = steps * columns;
  const across = Math.ceil(width / patchSize);
  const down = Math.ceil(rows / patchSize);
  const patchOf = new Int32Array(steps * rows * columns);
  for (let t = 0; t < steps; t++) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) {
        const x = t * columns + c;
        patchOf[(t * rows + r) * columns + c] =
          Math.floor(r / patchSize) * across + Math.floor(x / patchSize);
      }
    }
  }
  return { patchOf, count: across * down };
}

/**
 * Orders the patches of one sample by summed relevance, largest first (ties
 * by patch index).
 *
 * @param relevance the sample's relevance, one value per pixel
 * @param patchOf from {@linkcode patchIndex}
 * @param count the number of patches
 * @returns patch indices, most relevant first
 * @throws {RangeError} when the lengths disagree
 */
export function patchOrder(
  relevance: ArrayLike<number>,
  patchOf: Int32Array,
  count: number,
): Int32Array {
  if (relevance.length !== patchOf.length) {
    throw new RangeError(
      `Cannot order patches: the relevance has ${relevance.length} values, the sample ${patchOf.length} pixels`,
    );
  }
  const sums = new Float64Array(count);
  for (let i = 0; i < patchOf.length; i++) sums[patchOf[i]!]! += relevance[i]!;
  const order = Int32Array.from({ length: count }, (_, i) => i);
  return order.sort((a, b) => sums[b]! - sums[a]! || a - b);
}

/**
 * A seeded random order of the patches (the baseline).
 *
 * @param count the number of patches
 * @param seed the stream's seed
 * @returns patch indices in random order
 */
export function randomPatchOrder(count: number, seed: number): Int32Array {
  return Int32Array.from(permutation(count, seed));
}

/**
 * Uniform noise fill values in `[low, high)` for one sample, seeded.
 *
 * @param size pixels per sample
 * @param seed the base seed
 * @param sample the sample's index (each sample gets its own stream)
 * @param range the pixel range
 * @returns the fill values
 */
export function uniformFill(
  size: number,
  seed: number,
  sample: number,
  range: { low: number; high: number } = { low: -1, high: 1 },
): Float32Array {
  const next = createUniform(deriveSeed(seed, "region_perturbation", sample));
  const span = range.high - range.low;
  return Float32Array.from({ length: size }, () => range.low + span * next());
}

/**
 * The perturbation sequence of one sample: the sample itself, then the sample
 * with the first 1, 2, …, `steps` patches of `order` replaced by `fill`.
 *
 * @param x the sample's pixels
 * @param order patch order (most relevant first)
 * @param options `patchOf`, the fill values (one per pixel) and the step count L
 * @returns `(L + 1)` samples back to back
 * @throws {RangeError} when L exceeds the number of patches or lengths disagree
 */
export function perturbationSequence(
  x: ArrayLike<number>,
  order: Int32Array,
  options: { patchOf: Int32Array; fill: ArrayLike<number>; steps: number },
): Float32Array {
  const { patchOf, fill, steps } = options;
  if (steps > order.length) {
    throw new RangeError(
      `Cannot perturb ${steps} patches: the sample has ${order.length}`,
    );
  }
  if (x.length !== patchOf.length || fill.length !== x.length) {
    throw new RangeError(
      `Cannot perturb: the sample has ${x.length} pixels, the patch map ${patchOf.length} and the fill ${fill.length}`,
    );
  }
  const size = x.length;
  const rank = new Int32Array(order.length).fill(steps);
  for (let k = 0; k < steps; k++) rank[order[k]!] = k;
  const out = new Float32Array((steps + 1) * size);
  for (let k = 0; k <= steps; k++) {
    const base = k * size;
    for (let i = 0; i < size; i++) {
      out[base + i] = rank[patchOf[i]!]! < k ? fill[i]! : x[i]!;
    }
  }
  return out;
}

/**
 * Area over the perturbation curve of one sample: the mean over k = 0…L of
 * f(x⁽⁰⁾) − f(x⁽ᵏ⁾) (Samek et al. 2017, eq. 12, for one sample).
 *
 * @param curve the class score after 0…L perturbation steps
 * @returns the AOPC
 * @throws {RangeError} for an empty curve
 */
export function aopc(curve: ArrayLike<number>): number {
  if (curve.length === 0) {
    throw new RangeError("Cannot compute AOPC: the curve is empty");
  }
  const f0 = curve[0]!;
  let sum = 0;
  for (let k = 0; k < curve.length; k++) sum += f0 - curve[k]!;
  return sum / curve.length;
}
