/**
 * Test helpers of `models/data/` (private to this folder's tests).
 *
 * @module
 */
import type { ImageSet } from "./image_set.ts";

/**
 * A set whose images are all different: image n, pixel j holds a value
 * unique to (n, j), spread over [−1, 1). Labels are given.
 */
export function distinctImages(
  labels: readonly number[],
  height: number,
  width: number,
): ImageSet {
  const count = labels.length;
  const pixels = height * width;
  const images = new Float32Array(count * pixels);
  for (let i = 0; i < images.length; i++) {
    images[i] = (2 * i) / images.length - 1;
  }
  return { images, labels: Uint8Array.from(labels), count, height, width };
}

/** Index of the image of `set` equal to `block`, or −1 if none is. */
export function findImage(set: ImageSet, block: Float32Array): number {
  const pixels = set.height * set.width;
  for (let n = 0; n < set.count; n++) {
    let same = true;
    for (let j = 0; j < pixels && same; j++) {
      same = set.images[n * pixels + j] === block[j];
    }
    if (same) return n;
  }
  return -1;
}

/** Block k (columns [k·w, (k+1)·w)) of image n of a set of width 3·w. */
export function blockOf(set: ImageSet, n: number, k: number): Float32Array {
  const w = set.width / 3;
  const block = new Float32Array(set.height * w);
  for (let row = 0; row < set.height; row++) {
    const from = (n * set.height + row) * set.width + k * w;
    block.set(set.images.subarray(from, from + w), row * w);
  }
  return block;
}

/** Labels 0, 1, …, classes − 1 repeated to length `count`. */
export function cyclicLabels(count: number, classes: number): number[] {
  return Array.from({ length: count }, (_, i) => i % classes);
}
