import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { Random } from "../data/random.ts";
import { registerHeapSliceKernels } from "./heap_slice.ts";

/** Runs `f` on the cpu backend (TF.js's reference) and on wasm; same values and shapes. */
async function same(
  label: string,
  f: () => tf.Tensor | tf.Tensor[],
): Promise<void> {
  const read = (r: tf.Tensor | tf.Tensor[]) => {
    const list = Array.isArray(r) ? r : [r];
    const out = list.map((t) => ({
      shape: t.shape,
      values: [...t.dataSync()],
    }));
    tf.dispose(list);
    return out;
  };
  await tf.setBackend("cpu");
  const want = tf.tidy(() => read(f()));
  await tf.setBackend("wasm");
  const got = tf.tidy(() => read(f()));
  assert.deepEqual(got, want, label);
}

function tensor(shape: number[], dtype: tf.DataType, seed: number): tf.Tensor {
  const random = new Random(seed);
  const n = shape.reduce((a, d) => a * d, 1);
  const values = Array.from(
    { length: n },
    () =>
      dtype === "float32"
        ? random.next() * 4 - 2
        : Math.floor(random.next() * 7) - (dtype === "bool" ? 5 : 3),
  );
  return tf.tensor(values, shape, dtype);
}

Deno.test("heap Slice, SplitV and Unpack match TF.js's cpu kernels on the wasm backend", async () => {
  await initBackend("wasm");
  assert.deepEqual(registerHeapSliceKernels().sort(), [
    "Slice",
    "SplitV",
    "Unpack",
  ]);
  const before = tf.memory().numTensors;
  const shapes = [[7], [5, 9], [3, 4, 6], [2, 3, 4, 5], [50, 288]];
  let seed = 1;
  for (const dtype of ["float32", "int32", "bool"] as const) {
    for (const shape of shapes) {
      const s = seed++;
      const x = () => tensor(shape, dtype, s);
      const rank = shape.length;
      const begin = shape.map((d, i) => (i * 2 + 1) % d);
      const size = shape.map((d, i) =>
        i % 2 === 0 ? d - begin[i]! : Math.max(1, (d - begin[i]!) >> 1)
      );
      await same(
        `slice ${dtype} ${shape} ${begin} ${size}`,
        () => tf.slice(x(), begin, size),
      );
      await same(
        `slice one row ${dtype} ${shape} (a step of a time-major tensor)`,
        () => tf.slice(x(), shape[0]! >> 1, 1),
      );
      await same(
        `slice whole inner ${dtype} ${shape}`,
        () => tf.slice(x(), [shape[0]! >> 1], [-1]),
      );
      await same(
        `slice empty ${dtype} ${shape}`,
        () =>
          tf.slice(
            x(),
            shape.map(() => 0),
            shape.map((d, i) => i === rank - 1 ? 0 : d),
          ),
      );
      for (let axis = 0; axis < rank; axis++) {
        const d = shape[axis]!;
        await same(
          `split ${dtype} ${shape} axis ${axis}`,
          () => tf.split(x(), d > 2 ? [1, -1, 1] : [d], axis),
        );
        await same(
          `unstack ${dtype} ${shape} axis ${axis}`,
          () => tf.unstack(x(), axis),
        );
      }
    }
  }
  await same(
    "split in 4 equal parts (the gates)",
    () => tf.split(tensor([50, 288], "float32", 99), 4, 1),
  );
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("heap Slice reads the input after the heap grows", async () => {
  await initBackend("wasm");
  const x = tf.tensor2d(Float32Array.from({ length: 24 }, (_, i) => i), [4, 6]);
  const piece = tf.slice(x, [1, 2], [2, 3]);
  const big = tf.zeros([64 * 1024 * 1024 / 4]);
  assert.deepEqual([...piece.dataSync()], [8, 9, 10, 14, 15, 16]);
  tf.dispose([x, piece, big]);
});
