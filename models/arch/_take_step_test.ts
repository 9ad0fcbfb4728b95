import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { takeStep } from "./_take_step.ts";
import { initBackend } from "../backend.ts";
import { read, uniformArray, withoutLeaks } from "./_testing.ts";

Deno.test("takeStep() returns a step's rows and pads its gradient with zeros, on cpu and on wasm's heap Slice", async (t) => {
  await initBackend("wasm");
  for (const backend of ["cpu", "wasm"]) {
    await t.step(backend, () => takeStepCase(backend));
  }
});

async function takeStepCase(backend: string): Promise<void> {
  await tf.setBackend(backend);
  await withoutLeaks(async () => {
    const t = tf.tensor3d(uniformArray(1, 3 * 2 * 4), [3 * 2, 2, 2]);
    for (let step = 0; step < 3; step++) {
      assert.deepEqual(
        await read(() => takeStep(t, step, 3)),
        await read(() => tf.slice(t, [2 * step, 0, 0], [2, 2, 2])),
      );
      const dy = tf.tensor3d(uniformArray(2 + step, 8), [2, 2, 2]);
      const grad = await read(() =>
        tf.grad((v: tf.Tensor) => tf.sum(tf.mul(takeStep(v, step, 3), dy)))(t)
      );
      const want = await read(() =>
        tf.pad(dy, [[2 * step, 4 - 2 * step], [0, 0], [0, 0]])
      );
      assert.deepEqual(grad, want);
      dy.dispose();
    }
    assert.equal(takeStep(t, 0, 1), t);
    t.dispose();
  });
}
