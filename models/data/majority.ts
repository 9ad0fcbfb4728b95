/**
 * The majority-sample problem (thesis §3.3; thesis-code §4,
 * `create_majority_data`): three items side by side, two of them of the
 * label's class.
 *
 * @module
 */
import { checkImageSet, type ImageSet, type MajoritySet } from "./image_set.ts";
import { Random } from "./random.ts";
import { columnsPerStep } from "./sequences.ts";

/**
 * Builds one majority composite per sample of `set`, drawing partners only
 * from `set` itself. For sample n of class i, in index order:
 *
 * 1. a "same" partner is drawn uniformly with replacement from the samples
 *    of class i (it may be n itself);
 * 2. a "different" partner is drawn uniformly from the samples not of
 *    class i;
 * 3. with d = [n, same, different] and a uniformly random permutation π of
 *    (0, 1, 2), the image is d[π(0)] | d[π(1)] | d[π(2)] side by side
 *    (height × 3·width, so 28×84 for 28×28 items);
 * 4. the label is i and marks[3n + k] = 1 exactly when π(k) ≤ 1, i.e. when
 *    block k holds a class-i item.
 *
 * Composite n is built from sample n, so the output keeps the input order.
 * Draws come from {@linkcode Random} seeded with `seed`, so the same set
 * and seed give the same composites (not numpy's: the thesis's exact
 * composites cannot be reproduced with another generator). Build the set
 * separately per split (and per cross-validation part) to keep partners
 * from leaking across splits, which the thesis's 7-fold runs did not.
 *
 * @param set Source items [count, height, width], at least two classes
 * present unless empty.
 * @param seed Seed of the draws, an integer in [0, 2^32 − 1].
 * @returns A new set of `count` composites [count, height, 3·width] with
 * marks [count, 3].
 * @throws {RangeError} if the set is inconsistent, holds a single class, or
 * the seed is out of range.
 */
export function makeMajoritySet(set: ImageSet, seed: number): MajoritySet {
  const { x, marks } = compose(set, seed, 1, "make majority set");
  const { labels, count, height, width } = set;
  return {
    images: x,
    labels: labels.slice(),
    marks,
    count,
    height,
    width: 3 * width,
  };
}

/** Majority composites already cut into steps, see {@linkcode makeMajoritySequences}. */
export interface MajoritySequences {
  /** Composites shaped [count, steps, height·c], c = 3·width / steps. */
  x: Float32Array;
  /** Class label of each composite (the majority class). */
  labels: Uint8Array;
  /** [count, 3]: 1 for the blocks holding the label's class. */
  marks: Uint8Array;
  /** Number of composites. */
  count: number;
}

/**
 * The same composites as {@linkcode makeMajoritySet}, written straight in
 * the step layout of {@linkcode toSequences}: the result equals
 * `toSequences(makeMajoritySet(set, seed), steps)` (with the same labels
 * and marks) without allocating the intermediate images, which matters
 * for 60,000 composites of 28×84 floats.
 *
 * @param set Source items [count, height, width].
 * @param seed Seed of the draws, an integer in [0, 2^32 − 1].
 * @param steps Sequence length T; must divide 3·width.
 * @throws {RangeError} as {@linkcode makeMajoritySet} does, or if `steps`
 * does not divide 3·width.
 */
export function makeMajoritySequences(
  set: ImageSet,
  seed: number,
  steps: number,
): MajoritySequences {
  const { x, marks } = compose(set, seed, steps, "make majority sequences");
  return { x, labels: set.labels.slice(), marks, count: set.count };
}

/** Draws the composites of `set` and writes them in the T-step layout. */
function compose(
  set: ImageSet,
  seed: number,
  steps: number,
  action: string,
): { x: Float32Array; marks: Uint8Array } {
  checkImageSet(set, action);
  const random = new Random(seed);
  const { images, labels, count, height, width } = set;
  const { order, start, size } = groupByClass(labels);
  const present = size.filter((n) => n > 0).length;
  if (count > 0 && present < 2) {
    throw new RangeError(
      `Cannot ${action}: needs items of at least 2 classes, found ${present}`,
    );
  }
  const { block, offset } = stepLayout(height, width, steps);
  const stride = block.length;
  const x = new Float32Array(count * stride);
  const marks = new Uint8Array(3 * count);
  const permutation = [0, 1, 2];
  const items = [0, 0, 0];
  const bases = new Uint32Array(3);
  for (let n = 0; n < count; n++) {
    const label = labels[n]!;
    const first = start[label]!;
    const members = size[label]!;
    const other = random.int(count - members);
    items[0] = n;
    items[1] = order[first + random.int(members)]!;
    items[2] = order[other < first ? other : other + members]!;
    permutation[0] = 0;
    permutation[1] = 1;
    permutation[2] = 2;
    random.shuffle(permutation);
    for (let k = 0; k < 3; k++) {
      marks[3 * n + k] = permutation[k]! <= 1 ? 1 : 0;
      bases[k] = items[permutation[k]!]! * height * width;
    }
    const target = n * stride;
    for (let o = 0; o < stride; o++) {
      x[target + o] = images[bases[block[o]!]! + offset[o]!]!;
    }
  }
  return { x, marks };
}

/**
 * For each position o of one composite in the T-step layout, the block k
 * it reads and the pixel offset within that block's item: position
 * (t, row·c + col) is composite column X = t·c + col, so block ⌊X / W⌋ and
 * item pixel (row, X mod W).
 */
function stepLayout(
  height: number,
  width: number,
  steps: number,
): { block: Uint8Array; offset: Uint32Array } {
  const columns = columnsPerStep(3 * width, steps);
  const block = new Uint8Array(height * 3 * width);
  const offset = new Uint32Array(height * 3 * width);
  let o = 0;
  for (let t = 0; t < steps; t++) {
    for (let row = 0; row < height; row++) {
      for (let col = 0; col < columns; col++) {
        const column = t * columns + col;
        block[o] = Math.floor(column / width);
        offset[o++] = row * width + (column % width);
      }
    }
  }
  return { block, offset };
}

/** Sample indices sorted by class (stable), with each class's start and size. */
function groupByClass(
  labels: Uint8Array,
): { order: Uint32Array; start: Uint32Array; size: Uint32Array } {
  const size = new Uint32Array(256);
  for (const label of labels) size[label]!++;
  const start = new Uint32Array(256);
  for (let c = 1; c < 256; c++) start[c] = start[c - 1]! + size[c - 1]!;
  const next = start.slice();
  const order = new Uint32Array(labels.length);
  for (let n = 0; n < labels.length; n++) order[next[labels[n]!]!++] = n;
  return { order, start, size };
}
