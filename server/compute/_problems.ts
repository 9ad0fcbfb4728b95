/**
 * A worker's cache of built dataset problems (the arrays behind sample
 * references, evaluations and training). Datasets are cached by
 * `server/datasets` per worker; built problems are large (FashionMNIST-MAJ's
 * train part is about 560 MB), so few are kept.
 *
 * @module
 */
import { buildProblem, type Problem } from "../../models/mod.ts";
import { DATASET_NAMES, loadDataset } from "../datasets/mod.ts";
import type { DataSourceRef } from "./protocol.ts";

/** Options of {@linkcode ProblemCache}. */
export interface ProblemCacheOptions {
  /**
   * Built problems kept, least recently used evicted first.
   * @default 1
   */
  capacity?: number;
  /** Data folder searched for IDX files. @default none */
  dataDir?: string;
}

/** Built problems by data source and sequence length. */
export class ProblemCache {
  #capacity: number;
  #dataDir: string | undefined;
  #entries = new Map<string, Promise<Problem>>();

  /** @param options capacity and data folder */
  constructor(options: ProblemCacheOptions = {}) {
    this.#capacity = options.capacity ?? 1;
    this.#dataDir = options.dataDir;
  }

  /**
   * Returns the problem of a data source cut into `steps` steps, building it
   * once.
   *
   * @param source dataset, problem, split and seed
   * @param steps the sequence length T
   * @returns the built problem (shared: treat as read-only)
   * @throws {RangeError|TypeError} for an invalid source
   * @throws {DatasetNotFoundError} if the dataset's files are missing
   */
  get(source: DataSourceRef, steps: number): Promise<Problem> {
    checkSource(source);
    const key = JSON.stringify([
      source.dataset,
      source.problem,
      source.split,
      source.seed,
      steps,
    ]);
    let entry = this.#entries.get(key);
    if (entry !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      return entry;
    }
    entry = this.#build(source, steps);
    this.#entries.set(key, entry);
    entry.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    while (this.#entries.size > this.#capacity) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    return entry;
  }

  async #build(source: DataSourceRef, steps: number): Promise<Problem> {
    const options = this.#dataDir === undefined
      ? {}
      : { dataDir: this.#dataDir };
    const { train, test } = await loadDataset(source.dataset, options);
    return buildProblem({ train, test }, {
      problem: source.problem,
      steps,
      split: source.split,
      seed: source.seed,
    });
  }
}

function checkSource(source: DataSourceRef): void {
  if (typeof source !== "object" || source === null) {
    throw new TypeError("Cannot use data source: it must be an object");
  }
  if (!DATASET_NAMES.includes(source.dataset)) {
    throw new RangeError(
      `Cannot use data source: unknown dataset ${
        JSON.stringify(source.dataset)
      }, expected one of ${DATASET_NAMES.map((d) => `"${d}"`).join(", ")}`,
    );
  }
  if (typeof source.split !== "object" || source.split === null) {
    throw new TypeError("Cannot use data source: split must be an object");
  }
}
