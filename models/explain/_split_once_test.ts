import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { assertNoLeak, createRandom, normal } from "./_testing.ts";
import { splitOnce } from "./_split_once.ts";

await initBackend("wasm");

const CASES: [string, number[], number | number[], number][] = [
  ["steps of a time-major matrix", [12, 5], 4, 0],
  ["rows by sizes", [7, 3], [2, 0, 5], 0],
  ["columns of a matrix", [6, 9], [2, 3, 4], 1],
  ["channels of an image batch", [2, 3, 4, 5], [1, 4], 3],
  ["channels by a negative axis", [2, 3, 4, 5], [3, 2], -1],
  ["rows of an image batch", [2, 6, 4, 3], 3, 1],
  ["one piece", [4, 3], 1, 0],
];

Deno.test("splitOnce() equals tf.split", async (t) => {
  const random = createRandom(5);
  for (const [label, shape, sizes, axis] of CASES) {
    await t.step(label, async () => {
      const x = tf.tensor(normal(random, shape.reduce((a, b) => a * b)), shape);
      try {
        await assertNoLeak(() => {
          const expected = tf.split(
            x,
            typeof sizes === "number" ? sizes : [...sizes],
            axis,
          );
          const actual = splitOnce(x, sizes, axis);
          try {
            assert.equal(actual.length, expected.length);
            actual.forEach((a, k) => {
              assert.deepEqual(a.shape, expected[k]!.shape);
              assert.deepEqual(a.dataSync(), expected[k]!.dataSync());
            });
          } finally {
            tf.dispose([...actual, ...expected]);
          }
        });
      } finally {
        x.dispose();
      }
    });
  }
});

Deno.test("splitOnce() throws when the sizes, axis or dtype do not fit", async () => {
  const x = tf.zeros([6, 4]);
  const ints = tf.zeros([6, 4], "int32");
  try {
    await assertNoLeak(() => {
      assert.throws(() => splitOnce(x, 4, 0), RangeError);
      assert.throws(() => splitOnce(x, [2, 3], 0), RangeError);
      assert.throws(() => splitOnce(x, [2, -1, 5], 0), RangeError);
      assert.throws(() => splitOnce(x, 2, 2), RangeError);
      assert.throws(() => splitOnce(ints, 2, 0), TypeError);
    });
  } finally {
    tf.dispose([x, ints]);
  }
});
