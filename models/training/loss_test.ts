import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  countCorrect,
  withZeroLogit,
  zeroLogitCrossEntropy,
  zeroLogitCrossEntropySum,
} from "./loss.ts";
import {
  assertClose,
  read,
  uniformArray,
  withoutLeaks,
} from "../arch/_testing.ts";

Deno.test("zeroLogitCrossEntropy() is the 11-class softmax cross-entropy with a zero logit", async () => {
  await withoutLeaks(async () => {
    const values = uniformArray(1, 3 * 10, -3, 3);
    const labels = [2, 9, 0];
    const logits = tf.tensor2d(values, [3, 10]);
    const y = tf.tensor1d(labels, "int32");
    let sum = 0;
    for (let n = 0; n < 3; n++) {
      const row = Array.from(values.subarray(n * 10, n * 10 + 10));
      const norm = Math.log(row.reduce((a, v) => a + Math.exp(v), Math.exp(0)));
      sum += norm - row[labels[n]!]!;
    }
    assertClose(await read(() => zeroLogitCrossEntropySum(logits, y)), [sum]);
    assertClose(await read(() => zeroLogitCrossEntropy(logits, y)), [sum / 3]);
    assert.deepEqual(
      await read(() => withZeroLogit(logits)).then((v) => v.length),
      33,
    );
    tf.dispose([logits, y]);
  });
});

Deno.test("countCorrect() takes the argmax over the 10 real logits", async () => {
  await withoutLeaks(async () => {
    // All logits negative: the zero pseudo-logit would win an 11-way argmax.
    const logits = tf.tensor2d([[-1, -2, -3, -4, -5, -6, -7, -8, -9, -0.5], [
      -3,
      -1,
      -2,
      -4,
      -5,
      -6,
      -7,
      -8,
      -9,
      -9,
    ]]);
    const y = tf.tensor1d([9, 2], "int32");
    assert.deepEqual(Array.from(await read(() => countCorrect(logits, y))), [
      1,
    ]);
    tf.dispose([logits, y]);
  });
});
