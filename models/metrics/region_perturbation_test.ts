import assert from "node:assert/strict";
import {
  aopc,
  patchIndex,
  patchOrder,
  perturbationSequence,
  randomPatchOrder,
  uniformFill,
} from "./region_perturbation.ts";

// A 2-row image of 2 steps × 2 columns (width 4), patches of 2 × 2:
// image columns 0–1 are step 0, 2–3 step 1, so patch 0 = step 0, patch 1 = step 1.
const GEOMETRY = { steps: 2, rows: 2, columns: 2, patchSize: 2 };

Deno.test("patchIndex() maps each pixel of the [T, rows, columns] layout to its image patch", () => {
  const { patchOf, count } = patchIndex(GEOMETRY);
  assert.equal(count, 2);
  assert.deepEqual(Array.from(patchOf), [0, 0, 0, 0, 1, 1, 1, 1]);
  const odd = patchIndex({ steps: 3, rows: 3, columns: 1, patchSize: 2 });
  // Image 3 × 3, patches 2 × 2 with smaller edge ones: 2 across, 2 down.
  assert.equal(odd.count, 4);
  // Pixel (t=2, r=2) is image (row 2, column 2): patch 1·2 + 1 = 3.
  assert.equal(odd.patchOf[2 * 3 + 2], 3);
  assert.equal(odd.patchOf[1 * 3 + 0], 0, "image (0, 1) is in patch 0");
  assert.throws(() => patchIndex({ ...GEOMETRY, patchSize: 0 }), RangeError);
});

Deno.test("patchOrder() sorts patches by summed relevance, largest first", () => {
  const { patchOf, count } = patchIndex(GEOMETRY);
  const relevance = [0, 1, 0, 0, 2, 0, 0, 1];
  assert.deepEqual(Array.from(patchOrder(relevance, patchOf, count)), [1, 0]);
  assert.deepEqual(
    Array.from(patchOrder(new Array(8).fill(0), patchOf, count)),
    [0, 1],
    "ties keep index order",
  );
  assert.throws(() => patchOrder([1], patchOf, count), RangeError);
});

Deno.test("perturbationSequence() replaces the first k patches of the order at step k", () => {
  const { patchOf } = patchIndex(GEOMETRY);
  const x = [1, 2, 3, 4, 5, 6, 7, 8];
  const fill = new Array(8).fill(-1);
  const out = perturbationSequence(x, Int32Array.from([1, 0]), {
    patchOf,
    fill,
    steps: 2,
  });
  assert.deepEqual(Array.from(out.subarray(0, 8)), x);
  assert.deepEqual(Array.from(out.subarray(8, 16)), [
    1,
    2,
    3,
    4,
    -1,
    -1,
    -1,
    -1,
  ]);
  assert.deepEqual(Array.from(out.subarray(16, 24)), new Array(8).fill(-1));
  assert.throws(
    () =>
      perturbationSequence(x, Int32Array.from([1, 0]), {
        patchOf,
        fill,
        steps: 3,
      }),
    RangeError,
  );
});

Deno.test("aopc() is the mean drop from the first score over k = 0…L", () => {
  // Drops 0, 2, 3 → (0 + 2 + 3) / 3.
  assert.equal(aopc([5, 3, 2]), 5 / 3);
  assert.equal(aopc([1]), 0);
  assert.ok(aopc([1, 2]) < 0, "a rising score gives a negative AOPC");
  assert.throws(() => aopc([]), RangeError);
});

Deno.test("randomPatchOrder() and uniformFill() are seeded and in range", () => {
  const a = randomPatchOrder(10, 3);
  assert.deepEqual(a, randomPatchOrder(10, 3));
  assert.deepEqual(Array.from(a).sort((x, y) => x - y), [...Array(10).keys()]);
  const f = uniformFill(100, 1, 0);
  assert.deepEqual(f, uniformFill(100, 1, 0));
  assert.notDeepEqual(f, uniformFill(100, 1, 1));
  assert.ok(f.every((v) => v >= -1 && v < 1));
});
