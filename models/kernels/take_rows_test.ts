import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { registerTakeRowsKernel, TAKE_ROWS, takeRows } from "./take_rows.ts";

Deno.test("takeRows() copies the rows tf.slice takes, for every dtype, on the wasm kernel", async () => {
  await initBackend("wasm");
  assert.ok(registerTakeRowsKernel());
  assert.ok(tf.getKernel(TAKE_ROWS, "wasm") !== undefined);
  const before = tf.memory().numTensors;
  const cases: [number[], tf.DataType][] = [
    [[12, 5], "float32"],
    [[6, 3, 4], "float32"],
    [[7, 2], "int32"],
    [[9, 3], "bool"],
    [[4], "float32"],
  ];
  for (const [shape, dtype] of cases) {
    const n = shape.reduce((a, d) => a * d, 1);
    const values = Array.from({ length: n }, (_, i) => (i * 7) % 5 - 2);
    const x = tf.tensor(values, shape, dtype);
    for (
      const [begin, size] of [[0, 1], [2, 2], [shape[0]! - 1, 1], [
        0,
        shape[0]!,
      ], [1, 0]]
    ) {
      const got = takeRows(x, begin!, size!);
      const want = tf.slice(x, begin!, size!);
      assert.deepEqual(got.shape, want.shape, `${shape} ${begin}+${size}`);
      assert.equal(got.dtype, dtype);
      assert.deepEqual(got.dataSync(), want.dataSync());
      tf.dispose([got, want]);
    }
    x.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("takeRows() keeps its rows after the heap grows, and x stays intact", async () => {
  await initBackend("wasm");
  const x = tf.tensor2d(Float32Array.from({ length: 40 }, (_, i) => i), [
    10,
    4,
  ]);
  const rows = takeRows(x, 3, 2);
  // Allocate enough to grow the wasm heap, then read both back.
  const big = tf.zeros([64 * 1024 * 1024 / 4]);
  assert.deepEqual([...rows.dataSync()], [12, 13, 14, 15, 16, 17, 18, 19]);
  assert.equal(x.dataSync()[39], 39);
  tf.dispose([x, rows, big]);
});

Deno.test("takeRows() refuses rows outside the tensor and falls back to tf.slice elsewhere", async () => {
  await initBackend("wasm");
  const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
  assert.throws(() => takeRows(x, 2, 2), RangeError);
  assert.throws(() => takeRows(x, -1, 1), RangeError);
  assert.throws(() => takeRows(x, 0.5, 1), RangeError);
  await tf.setBackend("cpu");
  try {
    const y = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const rows = takeRows(y, 1, 2);
    assert.deepEqual([...rows.dataSync()], [3, 4, 5, 6]);
    tf.dispose([y, rows]);
  } finally {
    await tf.setBackend("wasm");
  }
  x.dispose();
});
