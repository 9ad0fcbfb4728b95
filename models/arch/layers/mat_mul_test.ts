import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { matMul } from "./mat_mul.ts";
import { denseContribution } from "./dense.ts";
import { assertClose, read, uniformArray, withoutLeaks } from "../_testing.ts";

Deno.test("matMul() equals tf.matMul and its gradients", async () => {
  await withoutLeaks(async () => {
    const a = tf.tensor2d(uniformArray(1, 5 * 7), [5, 7]);
    const b = tf.tensor2d(uniformArray(2, 7 * 3), [7, 3]);
    const dy = tf.tensor2d(uniformArray(3, 5 * 3), [5, 3]);
    const loss =
      (f: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor) =>
      (x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(tf.mul(f(x as tf.Tensor2D, y as tf.Tensor2D), dy));
    assertClose(
      await read(() => matMul(a, b)),
      await read(() => tf.matMul(a, b)),
    );
    for (const i of [0, 1]) {
      assertClose(
        await read(() => tf.grads(loss((x, y) => matMul(x, y)))([a, b])[i]!),
        await read(() => tf.grads(loss((x, y) => tf.matMul(x, y)))([a, b])[i]!),
      );
    }
    const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
      tf.sum(
        tf.mul(
          matMul(x as tf.Tensor2D, y as tf.Tensor2D, { inputGradient: false }),
          dy,
        ),
      )
    )([a, b]);
    assert.ok((await da!.data()).every((v) => v === 0));
    assertClose(
      await db!.data(),
      await read(() => tf.matMul(tf.transpose(a), dy)),
    );
    tf.dispose([a, b, dy, da!, db!]);
  });
});

Deno.test("denseContribution() flattens trailing dimensions row-major", async () => {
  await withoutLeaks(async () => {
    const x = tf.tensor4d(uniformArray(4, 2 * 3 * 2 * 2), [2, 3, 2, 2]);
    const w = tf.tensor2d(uniformArray(5, 12 * 4), [12, 4]);
    assertClose(
      await read(() => denseContribution(x, w)),
      await read(() => tf.matMul(tf.reshape(x, [2, 12]), w)),
    );
    tf.dispose([x, w]);
  });
});
