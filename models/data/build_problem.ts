/**
 * Turning a dataset and a problem request into the arrays a model trains
 * and is evaluated on.
 *
 * @module
 */
import { checkImageSet, type ImageSet } from "./image_set.ts";
import { makeMajoritySequences } from "./majority.ts";
import { deriveSeed } from "./random.ts";
import { columnsPerStep, toSequences } from "./sequences.ts";
import { stratifiedKFold } from "./stratified_k_fold.ts";

/** The two problems of the thesis. */
export type ProblemKind = "sequence" | "majority";

/** Which samples train and which test. */
export type ProblemSplit =
  /** The dataset's own train/test split. */
  | { kind: "standard" }
  /** Fold `fold` of stratified `folds`-fold cross-validation of train+test pooled. */
  | { kind: "fold"; folds: number; fold: number };

/** A source dataset: its standard train and test sets. */
export interface SourceSets {
  /** The standard training set. */
  train: ImageSet;
  /** The standard test set. */
  test: ImageSet;
}

/** Options of {@linkcode buildProblem}. */
export interface ProblemOptions {
  /** `"sequence"`: classify the image itself; `"majority"`: classify 3-item composites. */
  problem: ProblemKind;
  /**
   * Sequence length T; must divide the (composite) width.
   * @default 12 for "majority", 7 for "sequence"
   */
  steps?: number;
  /** The standard split, or one fold of a stratified cross-validation. */
  split: ProblemSplit;
  /**
   * Seed of the fold assignment and of the majority composites, an integer
   * in [0, 2^32 − 1].
   */
  seed: number;
}

/** Samples of one side of a problem, as model input. */
export interface ProblemPart {
  /** Inputs shaped [count, steps, features], see {@linkcode toSequences}. */
  x: Float32Array;
  /** Class label of each sample. */
  labels: Uint8Array;
  /** For "majority": [count, 3], 1 for the blocks holding the label's class. */
  marks?: Uint8Array;
  /** Number of samples. */
  count: number;
}

/** What {@linkcode buildProblem} returns. */
export interface Problem {
  /** Samples to train on. */
  train: ProblemPart;
  /** Held-out samples to evaluate on. */
  test: ProblemPart;
  /** Sequence length T. */
  steps: number;
  /** Columns per step c = width / T. */
  columns: number;
  /** Image rows. */
  height: number;
  /** Values per step, height · columns. */
  features: number;
}

/** Seed streams of {@linkcode buildProblem}, one per use. */
const FOLD_STREAM = 0;
const TRAIN_STREAM = 1;
const TEST_STREAM = 2;

/**
 * Resolves a problem request into model inputs.
 *
 * - Standard split: the dataset's train and test sets as they are.
 * - Fold split: train and test are pooled (train first), split with
 *   {@linkcode stratifiedKFold}, and fold `fold` gives the two parts.
 * - "majority": composites are made with {@linkcode makeMajoritySequences}
 *   *within each part separately* (train seeded with
 *   `deriveSeed(seed, 1)`, test with `deriveSeed(seed, 2)`; folds use
 *   `deriveSeed(seed, 0)`), so no item appears on both sides.
 * - Every image is cut into T steps as {@linkcode toSequences} does
 *   (majority composites are written in that layout directly).
 *
 * @param sets The dataset's standard train and test sets (same image size).
 * @param options Problem, steps, split and seed.
 * @returns Inputs, labels (and marks) of both parts, plus the step geometry.
 * @throws {RangeError} if T does not divide the width, the split is
 * invalid (`folds` < 2, `fold` outside [0, folds)), the sets differ in
 * image size or are inconsistent, or the seed is out of range.
 *
 * @example
 * ```ts
 * const problem = buildProblem({ train, test }, {
 *   problem: "majority",
 *   steps: 12,
 *   split: { kind: "fold", folds: 7, fold: 0 },
 *   seed: 71,
 * });
 * // problem.train.x has shape [N, 12, 28 · 7]
 * ```
 */
export function buildProblem(
  sets: SourceSets,
  options: ProblemOptions,
): Problem {
  const { problem, split, seed } = options;
  if (problem !== "sequence" && problem !== "majority") {
    throw new RangeError(
      `Cannot build problem: unknown problem "${problem}", expected "sequence" or "majority"`,
    );
  }
  const steps = options.steps ?? (problem === "majority" ? 12 : 7);
  const { train, test } = sets;
  checkImageSet(train, "build problem");
  checkImageSet(test, "build problem");
  if (train.height !== test.height || train.width !== test.width) {
    throw new RangeError(
      `Cannot build problem: train images are ${train.height}×${train.width} but test images are ${test.height}×${test.width}`,
    );
  }
  const width = problem === "majority" ? 3 * train.width : train.width;
  const columns = columnsPerStep(width, steps);
  deriveSeed(seed, 0); // Validates the seed before any work.
  const [trainSet, testSet] = splitSets(train, test, split, seed);
  const toPart = (set: ImageSet, stream: number): ProblemPart => {
    if (problem === "sequence") {
      // Copied so that callers never alias a (cached) dataset's labels.
      return {
        x: toSequences(set, steps),
        labels: set.labels.slice(),
        count: set.count,
      };
    }
    return makeMajoritySequences(set, deriveSeed(seed, stream), steps);
  };
  return {
    train: toPart(trainSet, TRAIN_STREAM),
    test: toPart(testSet, TEST_STREAM),
    steps,
    columns,
    height: train.height,
    features: train.height * columns,
  };
}

function splitSets(
  train: ImageSet,
  test: ImageSet,
  split: ProblemSplit,
  seed: number,
): [ImageSet, ImageSet] {
  if (split.kind === "standard") return [train, test];
  if (split.kind !== "fold") {
    throw new RangeError(
      `Cannot build problem: unknown split kind "${
        (split as { kind: unknown }).kind
      }", expected "standard" or "fold"`,
    );
  }
  const { folds, fold } = split;
  if (!Number.isInteger(fold) || fold < 0 || !(fold < folds)) {
    throw new RangeError(
      `Cannot build problem: fold must be an integer in [0, ${folds}), found ${fold}`,
    );
  }
  const labels = new Uint8Array(train.count + test.count);
  labels.set(train.labels);
  labels.set(test.labels, train.count);
  const parts = stratifiedKFold(labels, {
    k: folds,
    seed: deriveSeed(seed, FOLD_STREAM),
  });
  const { train: trainIndices, test: testIndices } = parts[fold]!;
  return [
    takePooled(train, test, trainIndices),
    takePooled(train, test, testIndices),
  ];
}

/**
 * Copies the samples at `indices` of the pool train ++ test (index i below
 * train.count is train's sample i, else test's sample i − train.count),
 * without materialising the pool.
 */
function takePooled(
  train: ImageSet,
  test: ImageSet,
  indices: Uint32Array,
): ImageSet {
  const { height, width } = train;
  const pixels = height * width;
  const images = new Float32Array(indices.length * pixels);
  const labels = new Uint8Array(indices.length);
  indices.forEach((index, i) => {
    const [set, n] = index < train.count
      ? [train, index]
      : [test, index - train.count];
    images.set(set.images.subarray(n * pixels, (n + 1) * pixels), i * pixels);
    labels[i] = set.labels[n]!;
  });
  return { images, labels, count: indices.length, height, width };
}
