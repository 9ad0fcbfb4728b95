import assert from "node:assert/strict";
import { distinctImages } from "./_testing.ts";
import { makeMajoritySet } from "./majority.ts";
import { subset } from "./subset.ts";

Deno.test("subset() copies the chosen images and labels in order", () => {
  const set = distinctImages([3, 1, 4, 1, 5], 2, 3);
  const part = subset(set, [4, 0, 4]);
  assert.equal(part.count, 3);
  assert.equal(part.height, 2);
  assert.equal(part.width, 3);
  assert.deepEqual(Array.from(part.labels), [5, 3, 5]);
  assert.deepEqual(part.images.subarray(0, 6), set.images.subarray(24, 30));
  assert.deepEqual(part.images.subarray(6, 12), set.images.subarray(0, 6));
  assert.deepEqual(part.images.subarray(12, 18), set.images.subarray(24, 30));
  assert.equal("marks" in part, false);
  part.images[0] = 42;
  assert.notEqual(set.images[24], 42);
});

Deno.test("subset() keeps the marks of a majority set", () => {
  const maj = makeMajoritySet(distinctImages([0, 1, 2, 0], 2, 2), 4);
  const part = subset(maj, Uint32Array.from([2, 1]));
  assert.deepEqual(
    part.marks,
    Uint8Array.from([...maj.marks.subarray(6, 9), ...maj.marks.subarray(3, 6)]),
  );
  assert.deepEqual(part.images.subarray(0, 12), maj.images.subarray(24, 36));
});

Deno.test("subset() throws RangeError for an index out of range", () => {
  const set = distinctImages([0, 1], 2, 2);
  assert.throws(() => subset(set, [1, 2]), {
    name: "RangeError",
    message: "Cannot take subset: index 2 at position 1 is not in [0, 2)",
  });
  assert.throws(() => subset(set, [-1]), RangeError);
  assert.throws(() => subset(set, [0.5]), RangeError);
});
