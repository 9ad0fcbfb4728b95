/**
 * The majority-sample problem (thesis §3.3; thesis-code §4,
 * `create_majority_data`): three items side by side, two of them of the
 * label's class.
 *
 * @module
 */
import { checkImageSet, type ImageSet, type MajoritySet } from "./image_set.ts";
import { Random } from "./random.ts";

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
  checkImageSet(set, "make majority set");
  const random = new Random(seed);
  const { images, labels, count, height, width } = set;
  const { order, start, size } = groupByClass(labels);
  const present = size.filter((n) => n > 0).length;
  if (count > 0 && present < 2) {
    throw new RangeError(
      `Cannot make majority set: needs items of at least 2 classes, found ${present}`,
    );
  }
  const outWidth = 3 * width;
  const out = new Float32Array(count * height * outWidth);
  const marks = new Uint8Array(3 * count);
  const permutation = [0, 1, 2];
  const items = [0, 0, 0];
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
      const source = items[permutation[k]!]! * height * width;
      const target = n * height * outWidth + k * width;
      for (let row = 0; row < height; row++) {
        const from = source + row * width;
        const to = target + row * outWidth;
        for (let col = 0; col < width; col++) {
          out[to + col] = images[from + col]!;
        }
      }
    }
  }
  return {
    images: out,
    labels: labels.slice(),
    marks,
    count,
    height,
    width: outWidth,
  };
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
