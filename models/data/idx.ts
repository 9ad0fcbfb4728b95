/**
 * Parsing of the IDX format of MNIST and FashionMNIST (LeCun and Cortes):
 * a big-endian header, then unsigned bytes.
 *
 * ```
 * offset 0  u8  0x00
 * offset 1  u8  0x00
 * offset 2  u8  data type (0x08 = unsigned byte, the only one accepted)
 * offset 3  u8  number of dimensions n (3 for images, 1 for labels)
 * offset 4  u32 BE size of dimension 0, … up to dimension n − 1
 * then      the product of the sizes, in bytes, row-major
 * ```
 *
 * So images have magic number 0x00000803 and labels 0x00000801.
 *
 * @module
 */
import { CLASS_COUNT, createImageSet, type ImageSet } from "./image_set.ts";

/** Magic number of an IDX file of unsigned-byte images [count, rows, cols]. */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** Magic number of an IDX file of unsigned-byte labels [count]. */
export const IDX_LABELS_MAGIC = 0x00000801;

const UNSIGNED_BYTE = 0x08;

/**
 * Thrown when bytes are not a well-formed IDX file of the expected kind.
 * The message names the file; {@linkcode IdxFormatError.fileName} holds it.
 */
export class IdxFormatError extends Error {
  override name = "IdxFormatError";
  /** The file name given to the parser. */
  readonly fileName: string;

  /**
   * @param fileName The file the bytes came from.
   * @param state What is wrong, for example "expected 16 bytes, found 3".
   * @param options Standard error options (`cause`).
   */
  constructor(fileName: string, state: string, options?: ErrorOptions) {
    super(`Cannot read IDX file "${fileName}": ${state}`, options);
    this.fileName = fileName;
  }
}

/** A parsed IDX file. */
export interface IdxArray {
  /** The file name given to {@linkcode parseIdx}. */
  name: string;
  /** `"images"` for magic 0x00000803, `"labels"` for 0x00000801. */
  kind: "images" | "labels";
  /** Sizes of the dimensions: [count, rows, cols] or [count]. */
  dims: number[];
  /** The values, row-major; a view into the parsed bytes (no copy). */
  data: Uint8Array;
}

/**
 * Parses the bytes of an (uncompressed) IDX file of unsigned-byte images or
 * labels, validating the magic number, data type, number of dimensions,
 * the dimension sizes and that the length is exactly header + data.
 *
 * @param bytes The whole file.
 * @param name The file name, used in error messages.
 * @returns Kind, dimensions and a view of the data bytes.
 * @throws {IdxFormatError} if the bytes are not such a file; the message
 * names `name`, e.g. `Cannot read IDX file "train-images-idx3-ubyte.gz":
 * expected 47040016 bytes, found 1000`.
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 3]);
 * const labels = parseIdx(bytes, "labels.idx");
 * // labels.kind === "labels", labels.dims = [2], labels.data = [7, 3]
 * ```
 */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  const fail = (state: string): never => {
    throw new IdxFormatError(name, state);
  };
  if (bytes.length < 4) {
    fail(`expected a 4-byte magic number, found ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    fail(
      `invalid magic number ${hex(magic)}: expected ${
        hex(IDX_IMAGES_MAGIC)
      } or ${hex(IDX_LABELS_MAGIC)}`,
    );
  }
  if (bytes[2] !== UNSIGNED_BYTE) {
    fail(
      `unsupported data type 0x${
        hex2(bytes[2]!)
      }: expected unsigned byte (0x08)`,
    );
  }
  const rank = bytes[3]!;
  if (magic !== IDX_IMAGES_MAGIC && magic !== IDX_LABELS_MAGIC) {
    fail(
      `unsupported number of dimensions ${rank}: expected 3 (images) or 1 (labels)`,
    );
  }
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) {
    fail(`expected a ${headerLength}-byte header, found ${bytes.length} bytes`);
  }
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d));
  // A zero count is a valid (empty) file; zero rows or columns is not.
  for (let d = 1; d < rank; d++) {
    if (dims[d] === 0) fail(`dimension ${d} has size 0`);
  }
  const dataLength = dims.reduce((product, size) => product * size, 1);
  if (bytes.length !== headerLength + dataLength) {
    fail(`expected ${headerLength + dataLength} bytes, found ${bytes.length}`);
  }
  return {
    name,
    kind: magic === IDX_IMAGES_MAGIC ? "images" : "labels",
    dims,
    data: bytes.subarray(headerLength),
  };
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, "0")}`;
}

function hex2(value: number): string {
  return value.toString(16).padStart(2, "0");
}

/**
 * Pairs a parsed images file with its labels file into an
 * {@linkcode ImageSet}, scaling pixels to [−1, 1].
 *
 * @param images A parsed images file (magic 0x00000803).
 * @param labels A parsed labels file (magic 0x00000801) with one label
 * below {@linkcode CLASS_COUNT} per image.
 * @throws {IdxFormatError} naming the offending file if a kind is wrong,
 * the counts differ or a label is out of range.
 */
export function imageSetFromIdx(images: IdxArray, labels: IdxArray): ImageSet {
  checkKind(images, "images");
  checkKind(labels, "labels");
  const [count = 0, height = 0, width = 0] = images.dims;
  if (labels.dims[0] !== count) {
    throw new IdxFormatError(
      labels.name,
      `expected ${count} labels to match "${images.name}", found ${
        labels.dims[0]
      }`,
    );
  }
  const index = labels.data.findIndex((label) => label >= CLASS_COUNT);
  if (index >= 0) {
    throw new IdxFormatError(
      labels.name,
      `label ${
        labels.data[index]
      } at index ${index} is not a class below ${CLASS_COUNT}`,
    );
  }
  return createImageSet(images.data, labels.data, { count, height, width });
}

function checkKind(array: IdxArray, kind: IdxArray["kind"]): void {
  if (array.kind !== kind) {
    throw new IdxFormatError(
      array.name,
      `expected ${kind}, found ${array.kind}`,
    );
  }
}

/** What {@linkcode encodeIdx} writes. */
export interface IdxContent {
  /** `"images"` (dims [count, rows, cols]) or `"labels"` (dims [count]). */
  kind: "images" | "labels";
  /** Sizes of the dimensions. */
  dims: readonly number[];
  /** The values, row-major, product of `dims` bytes. */
  data: Uint8Array;
}

/**
 * Encodes unsigned-byte images or labels as an (uncompressed) IDX file, the
 * inverse of {@linkcode parseIdx}; handy for fixtures and small data folders.
 *
 * @param content Kind, dimensions and data.
 * @returns The file's bytes.
 * @throws {RangeError} if `dims` does not fit `kind` or `data`.
 */
export function encodeIdx(content: IdxContent): Uint8Array {
  const { kind, dims, data } = content;
  const rank = kind === "images" ? 3 : 1;
  const size = dims.reduce((product, d) => product * d, 1);
  if (
    dims.length !== rank || dims.some((d) => !Number.isInteger(d) || d < 0) ||
    size !== data.length
  ) {
    throw new RangeError(
      `Cannot encode IDX ${kind}: dimensions [${
        dims.join(", ")
      }] do not fit ${rank} dimensions and ${data.length} values`,
    );
  }
  const bytes = new Uint8Array(4 + 4 * rank + data.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, kind === "images" ? IDX_IMAGES_MAGIC : IDX_LABELS_MAGIC);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  bytes.set(data, 4 + 4 * rank);
  return bytes;
}
