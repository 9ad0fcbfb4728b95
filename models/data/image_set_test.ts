import assert from "node:assert/strict";
import { checkImageSet, createImageSet, scalePixel } from "./image_set.ts";

Deno.test("scalePixel() maps 0 to −1, 255 to 1 and is linear between", () => {
  assert.equal(scalePixel(0), -1);
  assert.equal(scalePixel(255), 1);
  for (let p = 0; p < 256; p++) {
    assert.equal(scalePixel(p), Math.fround(2 * p / 255 - 1));
  }
  for (const p of [-1, 256, 1.5, Number.NaN]) {
    assert.throws(() => scalePixel(p), {
      name: "RangeError",
      message:
        `Cannot scale pixel: expected an integer in [0, 255], found ${p}`,
    });
  }
});

Deno.test("createImageSet() scales pixels and copies labels", () => {
  const labels = Uint8Array.from([2, 9]);
  const set = createImageSet(Uint8Array.from([0, 51, 204, 255]), labels, {
    count: 2,
    height: 1,
    width: 2,
  });
  assert.deepEqual(Array.from(set.images), [-1, -0.6, 0.6, 1].map(Math.fround));
  assert.deepEqual(set.labels, labels);
  labels[0] = 7;
  assert.equal(set.labels[0], 2);
});

Deno.test("createImageSet() throws RangeError for a mismatched shape", () => {
  assert.throws(
    () =>
      createImageSet(new Uint8Array(5), new Uint8Array(2), {
        count: 2,
        height: 1,
        width: 2,
      }),
    {
      name: "RangeError",
      message:
        "Cannot create image set: expected 4 pixels for 2 images of 1×2, found 5",
    },
  );
  assert.throws(
    () =>
      createImageSet(new Uint8Array(0), new Uint8Array(0), {
        count: 0,
        height: 0,
        width: 2,
      }),
    /height must be a positive integer, found 0/,
  );
});

Deno.test("checkImageSet() names the first inconsistency", async (t) => {
  const base = {
    images: new Float32Array(8),
    labels: Uint8Array.from([1, 2]),
    count: 2,
    height: 2,
    width: 2,
  };
  const cases = [
    [{ ...base, labels: Uint8Array.from([1]) }, "expected 2 labels, found 1"],
    [
      { ...base, labels: Uint8Array.from([1, 10]) },
      "label 10 at index 1 is not a class below 10",
    ],
    [{ ...base, count: -1 }, "count must be a non-negative integer, found -1"],
    [{ ...base, width: 1.5 }, "width must be a positive integer, found 1.5"],
    [{ ...base, marks: new Uint8Array(5) }, "expected 6 marks, found 5"],
    [
      { ...base, marks: Uint8Array.from([0, 1, 1, 2, 1, 0]) },
      "mark 2 at index 3 is not 0 or 1",
    ],
  ] as const;
  for (const [set, state] of cases) {
    await t.step(state, () => {
      assert.throws(() => checkImageSet(set, "test"), {
        name: "RangeError",
        message: `Cannot test: ${state}`,
      });
    });
  }
  checkImageSet(
    { ...base, marks: Uint8Array.from([0, 1, 1, 1, 1, 0]) },
    "test",
  );
});
