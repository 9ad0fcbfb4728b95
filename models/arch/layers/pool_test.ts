import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { scaledAvgPool } from "./pool.ts";
import {
  assertClose,
  referencePool,
  uniformArray,
  withoutLeaks,
} from "../_testing.ts";

Deno.test("scaledAvgPool() doubles SAME average pooling that averages valid elements only", async () => {
  await withoutLeaks(async () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const y = scaledAvgPool(x);
    // Windows {1,2,4,5}, {3,6}, {7,8}, {9}.
    assert.deepEqual(Array.from(await y.data()), [6, 9, 15, 18]);
    const dx = tf.grad((v: tf.Tensor) =>
      tf.sum(scaledAvgPool(v as tf.Tensor4D))
    )(x);
    // Each input gets 2 / (its window's valid elements).
    assert.deepEqual(Array.from(await dx.data()), [
      0.5,
      0.5,
      1,
      0.5,
      0.5,
      1,
      1,
      1,
      2,
    ]);
    tf.dispose([x, y, dx]);
  });
});

Deno.test("scaledAvgPool() equals a window-sum replica and its gradient", async (t) => {
  for (const [h, w] of [[28, 7], [14, 4], [7, 2], [5, 5], [1, 1]]) {
    await t.step(`${h}×${w}`, async () => {
      await withoutLeaks(async () => {
        const ho = Math.ceil(h! / 2);
        const wo = Math.ceil(w! / 2);
        const x = tf.tensor4d(uniformArray(1, 2 * h! * w! * 3), [2, h!, w!, 3]);
        const dy = tf.tensor4d(uniformArray(2, 2 * ho * wo * 3), [
          2,
          ho,
          wo,
          3,
        ]);
        const grad = (f: (v: tf.Tensor4D) => tf.Tensor4D) =>
          tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v as tf.Tensor4D), dy)))(x);
        const [ours, replica] = [grad(scaledAvgPool), grad(referencePool)];
        assertClose(await ours.data(), await replica.data());
        const [y, yReplica] = [scaledAvgPool(x), referencePool(x)];
        assertClose(await y.data(), await yReplica.data());
        tf.dispose([x, dy, ours, replica, y, yReplica]);
      });
    });
  }
});
