/**
 * Cutting images column-wise into time steps (thesis-code §1.1), and the
 * inverse used to paint per-step values (e.g. relevance) back into images.
 *
 * @module
 */
import { checkImageSet, type ImageSet } from "./image_set.ts";

/**
 * Number of columns per step, c = width / steps.
 *
 * @param width Image width W.
 * @param steps Sequence length T.
 * @throws {RangeError} if `steps` is not a positive integer dividing `width`.
 */
export function columnsPerStep(width: number, steps: number): number {
  if (!Number.isInteger(steps) || steps < 1 || width % steps !== 0) {
    throw new RangeError(
      `Cannot cut images into steps: ${steps} steps do not divide width ${width}`,
    );
  }
  return width / steps;
}

/**
 * Cuts every image into `steps` column blocks of c = width / steps columns
 * and flattens each block row-major (index = row·c + col), as the dense
 * models of the thesis read them.
 *
 * @param set Images [count, height, width].
 * @param steps Sequence length T; must divide the width.
 * @returns A new array shaped [count, T, height·c]: element
 * (n, t, row·c + col) is pixel (n, row, t·c + col).
 * @throws {RangeError} if `steps` does not divide the width or the set is
 * inconsistent.
 *
 * @example
 * ```ts
 * // One 2×4 image cut into T = 2 steps of c = 2 columns:
 * //   a b c d        step 0: a b e f
 * //   e f g h   →    step 1: c d g h
 * ```
 */
export function toSequences(set: ImageSet, steps: number): Float32Array {
  checkImageSet(set, "cut images into steps");
  const { images, count, height, width } = set;
  const columns = columnsPerStep(width, steps);
  const out = new Float32Array(images.length);
  let o = 0;
  for (let n = 0; n < count; n++) {
    const base = n * height * width;
    for (let t = 0; t < steps; t++) {
      for (let row = 0; row < height; row++) {
        // A plain loop: subarray() per row costs more than c ≤ 28 copies.
        const from = base + row * width + t * columns;
        for (let col = 0; col < columns; col++) out[o++] = images[from + col]!;
      }
    }
  }
  return out;
}

/** Shape of the images that {@linkcode fromSequences} rebuilds. */
export interface SequenceShape {
  /** Number of sequences. */
  count: number;
  /** Sequence length T. */
  steps: number;
  /** Image rows. */
  height: number;
  /** Image columns; a multiple of `steps`. */
  width: number;
}

/**
 * The inverse of {@linkcode toSequences}: writes each step's height·c
 * values back into columns [t·c, (t+1)·c) of an image, as the thesis
 * assembles heatmaps.
 *
 * @param values Row-major [count, T, height·c].
 * @param shape Count, steps and image size.
 * @returns A new array shaped [count, height, width].
 * @throws {RangeError} if `steps` does not divide the width or the length
 * of `values` does not match the shape.
 */
export function fromSequences(
  values: Float32Array,
  shape: SequenceShape,
): Float32Array {
  const { count, steps, height, width } = shape;
  const columns = columnsPerStep(width, steps);
  if (values.length !== count * height * width) {
    throw new RangeError(
      `Cannot assemble images from steps: expected ${
        count * height * width
      } values, found ${values.length}`,
    );
  }
  const out = new Float32Array(values.length);
  let o = 0;
  for (let n = 0; n < count; n++) {
    const base = n * height * width;
    for (let t = 0; t < steps; t++) {
      for (let row = 0; row < height; row++) {
        const to = base + row * width + t * columns;
        for (let col = 0; col < columns; col++) out[to + col] = values[o++]!;
      }
    }
  }
  return out;
}
