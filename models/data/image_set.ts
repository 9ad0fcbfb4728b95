/**
 * The image-set contract shared by loading, problems and training, plus the
 * pixel scaling every source goes through.
 *
 * @module
 */

/**
 * Images with labels, pixels scaled to [−1, 1] (x = 2·p/255 − 1),
 * row-major [count, height, width].
 */
export interface ImageSet {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
}

/**
 * A majority-sample set: 28×84 images, label = majority class, marks[k] = 1
 * for the two blocks holding that class.
 */
export interface MajoritySet extends ImageSet {
  marks: Uint8Array; /* count × 3 */
}

/** Number of classes of MNIST and FashionMNIST. */
export const CLASS_COUNT = 10;

/** x = 2·p/255 − 1 for every byte p, rounded once to float32. */
const PIXEL_SCALE: Float32Array = (() => {
  const table = new Float32Array(256);
  for (let p = 0; p < 256; p++) table[p] = (2 * p) / 255 - 1;
  return table;
})();

/**
 * Scales one 8-bit pixel value p to x = 2·p/255 − 1, so 0 (background) maps
 * to −1 and 255 to 1.
 *
 * @param pixel An integer in [0, 255].
 * @returns The float32-rounded scaled value.
 * @throws {RangeError} if `pixel` is not an integer in [0, 255].
 */
export function scalePixel(pixel: number): number {
  const value = PIXEL_SCALE[pixel];
  if (value === undefined || !Number.isInteger(pixel)) {
    throw new RangeError(
      `Cannot scale pixel: expected an integer in [0, 255], found ${pixel}`,
    );
  }
  return value;
}

/** Shape of {@linkcode createImageSet}'s input. */
export interface ImageShape {
  /** Number of images. */
  count: number;
  /** Rows per image. */
  height: number;
  /** Columns per image. */
  width: number;
}

/**
 * Builds an {@linkcode ImageSet} from 8-bit pixels (as stored in IDX files),
 * scaling each to 2·p/255 − 1. Labels are copied, so the result owns all its
 * arrays.
 *
 * @param pixels Row-major [count, height, width] bytes.
 * @param labels One class label below {@linkcode CLASS_COUNT} per image.
 * @param shape Image count and size.
 * @throws {RangeError} if the array lengths do not match `shape` or a label
 * is not below {@linkcode CLASS_COUNT}.
 */
export function createImageSet(
  pixels: Uint8Array,
  labels: Uint8Array,
  shape: ImageShape,
): ImageSet {
  const { count, height, width } = shape;
  checkShape(count, height, width);
  if (pixels.length !== count * height * width) {
    throw new RangeError(
      `Cannot create image set: expected ${
        count * height * width
      } pixels for ${count} images of ${height}×${width}, found ${pixels.length}`,
    );
  }
  const images = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) images[i] = PIXEL_SCALE[pixels[i]!]!;
  const set = { images, labels: labels.slice(), count, height, width };
  checkImageSet(set, "create image set");
  return set;
}

/**
 * Checks that an image set is internally consistent: positive integer
 * height and width, a non-negative integer count, array lengths matching
 * them, labels below {@linkcode CLASS_COUNT}, and (for a majority set)
 * 0/1 marks, three per image.
 *
 * @param set The set to check.
 * @param action What the caller was doing, for the message ("make majority set").
 * @throws {RangeError} naming the first inconsistency.
 */
export function checkImageSet(
  set: ImageSet | MajoritySet,
  action: string,
): void {
  const { count, height, width } = set;
  checkShape(count, height, width, action);
  const fail = (state: string): never => {
    throw new RangeError(`Cannot ${action}: ${state}`);
  };
  if (set.images.length !== count * height * width) {
    fail(
      `expected ${count * height * width} pixels for ${count} images of ` +
        `${height}×${width}, found ${set.images.length}`,
    );
  }
  if (set.labels.length !== count) {
    fail(`expected ${count} labels, found ${set.labels.length}`);
  }
  for (let i = 0; i < count; i++) {
    if (set.labels[i]! >= CLASS_COUNT) {
      fail(
        `label ${
          set.labels[i]
        } at index ${i} is not a class below ${CLASS_COUNT}`,
      );
    }
  }
  if ("marks" in set) {
    const marks = (set as MajoritySet).marks;
    if (marks.length !== 3 * count) {
      fail(`expected ${3 * count} marks, found ${marks.length}`);
    }
    for (let i = 0; i < marks.length; i++) {
      if (marks[i]! > 1) fail(`mark ${marks[i]} at index ${i} is not 0 or 1`);
    }
  }
}

function checkShape(
  count: number,
  height: number,
  width: number,
  action = "create image set",
): void {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(
      `Cannot ${action}: count must be a non-negative integer, found ${count}`,
    );
  }
  if (!Number.isInteger(height) || height < 1) {
    throw new RangeError(
      `Cannot ${action}: height must be a positive integer, found ${height}`,
    );
  }
  if (!Number.isInteger(width) || width < 1) {
    throw new RangeError(
      `Cannot ${action}: width must be a positive integer, found ${width}`,
    );
  }
}
