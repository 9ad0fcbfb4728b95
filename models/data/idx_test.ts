import assert from "node:assert/strict";
import { encodeIdx, IdxFormatError, imageSetFromIdx, parseIdx } from "./idx.ts";

// Three 2×2 images written out by hand: magic 0x00000803, dims 3, 2, 2.
const IMAGES = new Uint8Array([
  0,
  0,
  8,
  3,
  0,
  0,
  0,
  3,
  0,
  0,
  0,
  2,
  0,
  0,
  0,
  2,
  0,
  255,
  51,
  102,
  1,
  2,
  3,
  4,
  255,
  255,
  0,
  0,
]);
// Three labels: magic 0x00000801, dims 3.
const LABELS = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9]);

function assertRefused(bytes: Uint8Array, state: string): void {
  const name = "train-images-idx3-ubyte.gz";
  assert.throws(() => parseIdx(bytes, name), (error: unknown) => {
    assert.ok(error instanceof IdxFormatError);
    assert.equal(error.name, "IdxFormatError");
    assert.equal(error.fileName, name);
    assert.equal(error.message, `Cannot read IDX file "${name}": ${state}`);
    return true;
  });
}

Deno.test("parseIdx() reads hand-written images and labels", () => {
  const images = parseIdx(IMAGES, "images");
  assert.equal(images.kind, "images");
  assert.equal(images.name, "images");
  assert.deepEqual(images.dims, [3, 2, 2]);
  assert.deepEqual(Array.from(images.data), [
    0,
    255,
    51,
    102,
    1,
    2,
    3,
    4,
    255,
    255,
    0,
    0,
  ]);
  const labels = parseIdx(LABELS, "labels");
  assert.equal(labels.kind, "labels");
  assert.deepEqual(labels.dims, [3]);
  assert.deepEqual(Array.from(labels.data), [7, 0, 9]);
});

Deno.test("parseIdx() reads bytes that start inside a larger buffer", () => {
  const padded = new Uint8Array(LABELS.length + 5);
  padded.set(LABELS, 5);
  const labels = parseIdx(padded.subarray(5), "labels");
  assert.deepEqual(Array.from(labels.data), [7, 0, 9]);
});

Deno.test("parseIdx() refuses a truncated file naming it", () => {
  assertRefused(
    IMAGES.subarray(0, IMAGES.length - 1),
    "expected 28 bytes, found 27",
  );
  assertRefused(
    IMAGES.subarray(0, 10),
    "expected a 16-byte header, found 10 bytes",
  );
  assertRefused(
    IMAGES.subarray(0, 2),
    "expected a 4-byte magic number, found 2 bytes",
  );
  assertRefused(
    new Uint8Array(),
    "expected a 4-byte magic number, found 0 bytes",
  );
});

Deno.test("parseIdx() refuses an over-long file naming it", () => {
  const long = new Uint8Array(IMAGES.length + 1);
  long.set(IMAGES);
  assertRefused(long, "expected 28 bytes, found 29");
});

Deno.test("parseIdx() refuses the full-size header of a truncated download", () => {
  // 60000 × 28 × 28 images (0xea60 = 60000), cut after 1000 bytes.
  const header = new Uint8Array(1000);
  header.set([0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28]);
  assertRefused(header, "expected 47040016 bytes, found 1000");
});

Deno.test("parseIdx() refuses a wrong magic number naming it", () => {
  const gzip = IMAGES.slice();
  gzip.set([0x1f, 0x8b, 8, 0]);
  assertRefused(
    gzip,
    "invalid magic number 0x1f8b0800: expected 0x00000803 or 0x00000801",
  );
  const floats = IMAGES.slice();
  floats[2] = 0x0d;
  assertRefused(
    floats,
    "unsupported data type 0x0d: expected unsigned byte (0x08)",
  );
});

Deno.test("parseIdx() refuses wrong dimensions naming the file", () => {
  const rank2 = IMAGES.slice();
  rank2[3] = 2;
  assertRefused(
    rank2,
    "unsupported number of dimensions 2: expected 3 (images) or 1 (labels)",
  );
  const zeroRows = IMAGES.slice();
  zeroRows[11] = 0;
  assertRefused(zeroRows, "dimension 1 has size 0");
  // The header claims 3×3 images but holds 2×2 ones.
  const wrongSize = IMAGES.slice();
  wrongSize[11] = 3;
  wrongSize[15] = 3;
  assertRefused(wrongSize, "expected 43 bytes, found 28");
});

Deno.test("encodeIdx() is the inverse of parseIdx()", () => {
  const images = parseIdx(IMAGES, "images");
  assert.deepEqual(encodeIdx(images), IMAGES);
  assert.deepEqual(encodeIdx(parseIdx(LABELS, "labels")), LABELS);
  assert.throws(
    () => encodeIdx({ kind: "labels", dims: [2, 2], data: new Uint8Array(4) }),
    RangeError,
  );
  assert.throws(
    () => encodeIdx({ kind: "labels", dims: [3], data: new Uint8Array(4) }),
    RangeError,
  );
});

Deno.test("imageSetFromIdx() scales pixels to 2·p/255 − 1", () => {
  const set = imageSetFromIdx(parseIdx(IMAGES, "i"), parseIdx(LABELS, "l"));
  assert.equal(set.count, 3);
  assert.equal(set.height, 2);
  assert.equal(set.width, 2);
  assert.deepEqual(Array.from(set.labels), [7, 0, 9]);
  const expected = [0, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0].map((p) =>
    Math.fround(2 * p / 255 - 1)
  );
  assert.deepEqual(Array.from(set.images), expected);
  assert.equal(set.images[0], -1);
  assert.equal(set.images[1], 1);
  // The result owns its arrays: the parsed bytes are not aliased.
  assert.notEqual(set.labels.buffer, LABELS.buffer);
});

Deno.test("imageSetFromIdx() refuses mismatched files naming the culprit", () => {
  const images = parseIdx(IMAGES, "img");
  const labels = parseIdx(LABELS, "lab");
  assert.throws(() => imageSetFromIdx(labels, labels), {
    name: "IdxFormatError",
    message: 'Cannot read IDX file "lab": expected images, found labels',
  });
  const two = parseIdx(
    encodeIdx({
      kind: "labels",
      dims: [2],
      data: new Uint8Array([1, 2]),
    }),
    "two",
  );
  assert.throws(() => imageSetFromIdx(images, two), {
    name: "IdxFormatError",
    message:
      'Cannot read IDX file "two": expected 3 labels to match "img", found 2',
  });
  const bad = parseIdx(
    encodeIdx({
      kind: "labels",
      dims: [3],
      data: new Uint8Array([1, 10, 2]),
    }),
    "bad",
  );
  assert.throws(() => imageSetFromIdx(images, bad), {
    name: "IdxFormatError",
    message:
      'Cannot read IDX file "bad": label 10 at index 1 is not a class below 10',
  });
});
