/**
 * The typed error of a dataset that is not on disk.
 *
 * @module
 */

/**
 * Thrown when a dataset's IDX files are in none of the places looked at,
 * or a folder holds only some of them. The message lists every place
 * looked at; {@linkcode DatasetNotFoundError.searched} holds them.
 *
 * @example
 * ```ts
 * new DatasetNotFoundError("fashion_mnist", ["./data/fashion_mnist"]);
 * // Cannot find dataset "fashion_mnist": no IDX files in "./data/fashion_mnist"
 * ```
 */
export class DatasetNotFoundError extends Error {
  override name = "DatasetNotFoundError";
  /** The dataset asked for. */
  readonly dataset: string;
  /** Folders looked in, in order. */
  readonly searched: readonly string[];

  /**
   * @param dataset The dataset asked for.
   * @param searched Folders looked in, in order.
   * @param state What was found instead; by default "no IDX files in …"
   * listing `searched`.
   */
  constructor(dataset: string, searched: readonly string[], state?: string) {
    const places = searched.map((dir) => `"${dir}"`).join(", ");
    super(
      `Cannot find dataset "${dataset}": ${
        state ?? `no IDX files in ${places || "any folder"}`
      }`,
    );
    this.dataset = dataset;
    this.searched = searched;
  }
}
