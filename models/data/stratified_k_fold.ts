/**
 * Seeded, stratified k-fold cross-validation splits (thesis §3.3.2: k = 7,
 * so each test part is about the size of the standard test set).
 *
 * @module
 */
import { Random } from "./random.ts";

/** One fold: indices to train on and the held-out indices to test on. */
export interface Fold {
  /** Indices not in this fold's test part, ascending. */
  train: Uint32Array;
  /** This fold's held-out indices, ascending. */
  test: Uint32Array;
}

/** Options of {@linkcode stratifiedKFold}. */
export interface StratifiedKFoldOptions {
  /**
   * Number of folds k, an integer in [2, number of labels].
   * @default 7
   */
  k?: number;
  /** Seed of the within-class shuffle, an integer in [0, 2^32 − 1]. */
  seed: number;
}

/**
 * Splits sample indices into k folds whose test parts are disjoint, cover
 * every index exactly once, and hold each class in proportion: every test
 * part gets ⌊n_c/k⌋ or ⌈n_c/k⌉ samples of a class with n_c samples, and
 * the test parts' sizes differ by at most one.
 *
 * How: the indices of each class are shuffled with {@linkcode Random}
 * seeded by `seed`, the classes are laid end to end in class order, and
 * position p of that list goes to test part p mod k.
 *
 * @param labels Class label of each sample.
 * @param options Number of folds and seed.
 * @returns `k` folds; fold f tests on part f and trains on the rest.
 * @throws {RangeError} if `k` is not an integer in [2, labels.length] or
 * the seed is out of range.
 *
 * @example
 * ```ts
 * const folds = stratifiedKFold(labels, { k: 7, seed: 71 });
 * const { train, test } = folds[0];
 * ```
 */
export function stratifiedKFold(
  labels: Uint8Array,
  options: StratifiedKFoldOptions,
): Fold[] {
  const { k = 7, seed } = options;
  if (!Number.isInteger(k) || k < 2 || k > labels.length) {
    throw new RangeError(
      `Cannot split into folds: k must be an integer in [2, ${labels.length}], found ${k}`,
    );
  }
  const random = new Random(seed);
  const byClass = new Map<number, number[]>();
  labels.forEach((label, index) => {
    const members = byClass.get(label);
    if (members) members.push(index);
    else byClass.set(label, [index]);
  });
  const part = new Uint32Array(labels.length);
  const partSize = new Uint32Array(k);
  let position = 0;
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    for (const index of random.shuffle(byClass.get(label)!)) {
      const f = position++ % k;
      part[index] = f;
      partSize[f]!++;
    }
  }
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const test = new Uint32Array(partSize[f]!);
    const train = new Uint32Array(labels.length - partSize[f]!);
    let t = 0;
    let r = 0;
    for (let index = 0; index < labels.length; index++) {
      if (part[index] === f) test[t++] = index;
      else train[r++] = index;
    }
    folds.push({ train, test });
  }
  return folds;
}
