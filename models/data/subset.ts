/**
 * Selecting samples of an image set by index.
 *
 * @module
 */
import { checkImageSet, type ImageSet, type MajoritySet } from "./image_set.ts";

/**
 * Copies the samples at `indices`, in that order, into a new set of the
 * same kind (marks are kept for a {@linkcode MajoritySet}). Indices may
 * repeat.
 *
 * @typeParam T An {@linkcode ImageSet} or {@linkcode MajoritySet}.
 * @param set The source set.
 * @param indices Sample indices, each below `set.count`.
 * @returns A new set that owns its arrays.
 * @throws {RangeError} if an index is out of range or the set is
 * inconsistent.
 */
export function subset<T extends ImageSet>(
  set: T,
  indices: ArrayLike<number>,
): T {
  checkImageSet(set, "take subset");
  const { count, height, width } = set;
  const pixels = height * width;
  const images = new Float32Array(indices.length * pixels);
  const labels = new Uint8Array(indices.length);
  const hasMarks = "marks" in set;
  const sourceMarks = hasMarks
    ? (set as unknown as MajoritySet).marks
    : undefined;
  const marks = new Uint8Array(hasMarks ? 3 * indices.length : 0);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new RangeError(
        `Cannot take subset: index ${index} at position ${i} is not in [0, ${count})`,
      );
    }
    images.set(
      set.images.subarray(index * pixels, (index + 1) * pixels),
      i * pixels,
    );
    labels[i] = set.labels[index]!;
    if (sourceMarks) {
      marks.set(sourceMarks.subarray(3 * index, 3 * index + 3), 3 * i);
    }
  }
  const base: ImageSet = {
    images,
    labels,
    count: indices.length,
    height,
    width,
  };
  return (hasMarks ? { ...base, marks } : base) as T;
}
