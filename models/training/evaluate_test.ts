import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { createSpec } from "../arch/spec.ts";
import { createModel } from "../arch/rnn_model.ts";
import { assertClose, liven, read, withoutLeaks } from "../arch/_testing.ts";
import { evaluate, predict } from "./evaluate.ts";
import { zeroLogitCrossEntropy } from "./loss.ts";
import { syntheticData } from "./_testing.ts";

Deno.test("evaluate() averages the loss and accuracy over batches", async () => {
  await withoutLeaks(async () => {
    const spec = createSpec({ architecture: "deep", steps: 4 });
    const model = liven(createModel(spec, { seed: 2 }));
    try {
      const data = syntheticData(23, spec);
      const whole = await evaluate(model, data, { batchSize: 100 });
      const batched = await evaluate(model, data, { batchSize: 5 });
      assert.equal(whole.count, 23);
      assertClose([batched.loss, batched.accuracy], [
        whole.loss,
        whole.accuracy,
      ], 1e-5);
      const x = tf.tensor3d(data.x, [23, 4, 196]);
      const y = tf.tensor1d(Array.from(data.labels), "int32");
      const logits = await read(() => model.forward(x));
      assertClose(
        [whole.loss],
        await read(() => zeroLogitCrossEntropy(model.forward(x), y)),
        1e-5,
      );
      let correct = 0;
      for (let n = 0; n < 23; n++) {
        const row = Array.from(logits.subarray(n * 10, n * 10 + 10));
        if (row.indexOf(Math.max(...row)) === data.labels[n]) correct++;
      }
      assert.equal(whole.accuracy, correct / 23);
      tf.dispose([x, y]);
    } finally {
      model.dispose();
    }
  });
});

Deno.test("predict() returns logits, 11-way probabilities and the 10-way argmax", async () => {
  await withoutLeaks(async () => {
    const spec = createSpec({ architecture: "r_lstm", steps: 4 });
    const model = liven(createModel(spec, { seed: 3 }));
    try {
      const { x } = syntheticData(7, spec);
      const p = await predict(model, x, 7, { batchSize: 3 });
      assert.equal(p.logits.length, 70);
      assert.equal(p.probabilities.length, 77);
      for (let n = 0; n < 7; n++) {
        const z = Array.from(p.logits.subarray(n * 10, n * 10 + 10));
        const probs = p.probabilities.subarray(n * 11, n * 11 + 11);
        const norm = z.reduce((a, v) => a + Math.exp(v), 1);
        assertClose(
          probs,
          [...z.map((v) => Math.exp(v) / norm), 1 / norm],
          1e-4,
          1e-6,
        );
        assert.equal(p.predicted[n], z.indexOf(Math.max(...z)));
      }
      const xt = tf.tensor3d(x, [7, 4, 196]);
      assertClose(p.logits, await read(() => model.forward(xt)));
      xt.dispose();
    } finally {
      model.dispose();
    }
  });
});

Deno.test("evaluate() and predict() refuse data of the wrong shape and stop when aborted", async () => {
  await withoutLeaks(async () => {
    const spec = createSpec({ architecture: "shallow", steps: 4 });
    const model = createModel(spec);
    try {
      const data = syntheticData(4, spec);
      await assert.rejects(
        () => evaluate(model, { ...data, count: 5 }),
        RangeError,
      );
      await assert.rejects(
        () => predict(model, data.x.subarray(1), 4),
        /x has 3135 values, expected 4 × 4 × 196 = 3136/,
      );
      await assert.rejects(
        () =>
          evaluate(model, { ...data, labels: new Uint8Array([1, 2, 3, 10]) }),
        /labels\[3\] is 10/,
      );
      await assert.rejects(
        () => evaluate(model, data, { batchSize: 0 }),
        RangeError,
      );
      const controller = new AbortController();
      controller.abort(new Error("stop"));
      await assert.rejects(
        () => evaluate(model, data, { signal: controller.signal }),
        /stop/,
      );
    } finally {
      model.dispose();
    }
  });
});
