import assert from "node:assert/strict";
import type { ImageSet } from "./image_set.ts";
import { distinctImages } from "./_testing.ts";
import { columnsPerStep, fromSequences, toSequences } from "./sequences.ts";

Deno.test("toSequences() cuts a hand-written image into row-major steps", () => {
  // Two 2×4 images:  1 2 3 4     11 12 13 14
  //                  5 6 7 8     15 16 17 18
  const set: ImageSet = {
    images: Float32Array.from([
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      11,
      12,
      13,
      14,
      15,
      16,
      17,
      18,
    ]),
    labels: Uint8Array.from([3, 4]),
    count: 2,
    height: 2,
    width: 4,
  };
  // T = 2, c = 2: step 0 = columns 0–1 row by row, step 1 = columns 2–3.
  assert.deepEqual(Array.from(toSequences(set, 2)), [
    1,
    2,
    5,
    6,
    3,
    4,
    7,
    8,
    11,
    12,
    15,
    16,
    13,
    14,
    17,
    18,
  ]);
  // T = 4, c = 1: one column per step, top to bottom.
  assert.deepEqual(Array.from(toSequences(set, 4)), [
    1,
    5,
    2,
    6,
    3,
    7,
    4,
    8,
    11,
    15,
    12,
    16,
    13,
    17,
    14,
    18,
  ]);
  // T = 1: the whole image, row-major.
  assert.deepEqual(toSequences(set, 1), set.images);
});

Deno.test("toSequences() puts pixel (n, row, t·c + col) at (n, t, row·c + col)", () => {
  const set = distinctImages([0, 1, 2], 28, 84);
  const steps = 12;
  const c = 7;
  const x = toSequences(set, steps);
  assert.equal(x.length, 3 * steps * 28 * c);
  for (let n = 0; n < 3; n++) {
    for (let t = 0; t < steps; t++) {
      for (let row = 0; row < 28; row++) {
        for (let col = 0; col < c; col++) {
          const got = x[((n * steps + t) * 28 + row) * c + col];
          const want = set.images[(n * 28 + row) * 84 + t * c + col];
          assert.equal(got, want);
        }
      }
    }
  }
});

Deno.test("fromSequences() is the inverse of toSequences()", () => {
  const set = distinctImages([5, 6], 28, 28);
  for (const steps of [1, 4, 7, 14, 28]) {
    const x = toSequences(set, steps);
    const back = fromSequences(x, { count: 2, steps, height: 28, width: 28 });
    assert.deepEqual(back, set.images);
  }
  assert.throws(
    () =>
      fromSequences(new Float32Array(5), {
        count: 1,
        steps: 2,
        height: 2,
        width: 2,
      }),
    RangeError,
  );
});

Deno.test("toSequences() throws RangeError when T does not divide the width", () => {
  const set = distinctImages([1], 28, 28);
  for (const steps of [0, 3, 5, 12, 1.5, -4]) {
    assert.throws(() => toSequences(set, steps), {
      name: "RangeError",
      message:
        `Cannot cut images into steps: ${steps} steps do not divide width 28`,
    });
  }
  assert.equal(columnsPerStep(84, 12), 7);
});

Deno.test("toSequences() throws RangeError for an inconsistent set", () => {
  const set = distinctImages([1, 2], 4, 4);
  assert.throws(
    () => toSequences({ ...set, count: 3 }, 2),
    /Cannot cut images into steps: expected 48 pixels/,
  );
});
