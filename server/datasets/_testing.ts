/**
 * Test helpers of `server/datasets/` (private to this folder's tests).
 *
 * @module
 */
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { encodeIdx } from "../../models/mod.ts";
import { IDX_FILE_NAMES } from "./load_dataset.ts";

/** Options of {@linkcode writeIdxDataset}. */
export interface SyntheticIdxOptions {
  /** Training images. */
  train: number;
  /** Test images. */
  test: number;
  /** Image side. */
  side: number;
  /** Write `.gz` files instead of raw ones. */
  gzip: boolean;
}

/**
 * Writes the four standard IDX files of a tiny dataset into `dir` (created
 * if needed): pixel j of image n is (n·7 + j) mod 256, label n mod 10.
 */
export async function writeIdxDataset(
  dir: string,
  options: SyntheticIdxOptions,
): Promise<void> {
  const { train, test, side, gzip } = options;
  await Deno.mkdir(dir, { recursive: true });
  const files: [string, Uint8Array][] = [
    [IDX_FILE_NAMES.trainImages, images(train, side)],
    [IDX_FILE_NAMES.trainLabels, labels(train)],
    [IDX_FILE_NAMES.testImages, images(test, side)],
    [IDX_FILE_NAMES.testLabels, labels(test)],
  ];
  for (const [base, bytes] of files) {
    const path = join(dir, gzip ? `${base}.gz` : base);
    await Deno.writeFile(path, gzip ? gzipSync(bytes) : bytes);
  }
}

function images(count: number, side: number): Uint8Array {
  const data = new Uint8Array(count * side * side);
  for (let n = 0; n < count; n++) {
    for (let j = 0; j < side * side; j++) {
      data[n * side * side + j] = (n * 7 + j) % 256;
    }
  }
  return encodeIdx({ kind: "images", dims: [count, side, side], data });
}

function labels(count: number): Uint8Array {
  const data = Uint8Array.from({ length: count }, (_, n) => n % 10);
  return encodeIdx({ kind: "labels", dims: [count], data });
}
