import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { createModel, createSpec } from "../arch/mod.ts";
import { predict } from "./evaluate.ts";
import { predictPrefix } from "./predict_prefix.ts";

Deno.test("predictPrefix() equals predict() on whole sequences and reads shorter prefixes", async () => {
  await initBackend("wasm");
  const before = tf.memory().numTensors;
  const spec = createSpec({
    architecture: "r_lstm",
    steps: 4,
    columns: 7,
    layers: { in1: 8, recur: 5 },
  });
  const model = createModel(spec, { seed: 3 });
  try {
    const count = 3;
    const stepSize = 28 * 7;
    const x = new Float32Array(count * 4 * stepSize).map((_, i) =>
      Math.sin(i * 0.37)
    );
    const whole = await predict(model, x, count);
    const full = await predictPrefix(model, x, count);
    assert.deepEqual(full.logits, whole.logits);
    // A two-step prefix is the model run on the first two steps only: it
    // differs from the full prediction and ignores what later steps hold.
    const prefix = new Float32Array(count * 2 * stepSize);
    for (let n = 0; n < count; n++) {
      prefix.set(
        x.subarray(n * 4 * stepSize, (n * 4 + 2) * stepSize),
        n * 2 * stepSize,
      );
    }
    const two = await predictPrefix(model, prefix, count);
    assert.notDeepEqual(two.logits, whole.logits);
    assert.equal(two.probabilities.length, count * 11);
    await assert.rejects(
      () => predictPrefix(model, new Float32Array(count * 5 * stepSize), count),
      RangeError,
    );
    await assert.rejects(
      () => predictPrefix(model, new Float32Array(10), count),
      RangeError,
    );
  } finally {
    model.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});
