import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend.ts";
import { assertNoLeak, createRandom, uniform } from "../_testing.ts";
import { guidedRelu } from "./guided_relu.ts";

await initBackend("wasm");

Deno.test("guidedRelu() passes grad·[grad > 0]·[output > 0] and computes relu forward", async () => {
  await assertNoLeak(() => {
    const z = [-2, -0.5, 0, 0.5, 2, 3, 1];
    const dy = [1, -1, 1, 1, -1, 2, 0];
    const [value, grad] = tf.tidy(() => {
      const zt = tf.tensor1d(z);
      const f = (a: tf.Tensor) =>
        tf.sum(tf.mul(guidedRelu(a), tf.tensor1d(dy)));
      return [guidedRelu(zt).arraySync(), tf.grad(f)(zt).arraySync()];
    });
    assert.deepEqual(value, [0, 0, 0, 0.5, 2, 3, 1]);
    // Only active units (z > 0) with a positive upstream gradient pass it.
    assert.deepEqual(grad, [0, 0, 0, 1, 0, 2, 0]);
  });
});

Deno.test("guidedRelu() gives the guided gradient of a two-layer network (plain-loop replica)", async () => {
  await assertNoLeak(() => {
    const random = createRandom(5);
    const [n, h] = [6, 8];
    const w1 = uniform(random, n * h, -1, 1); // [n, h]
    const w2 = uniform(random, h, -1, 1);
    const x = uniform(random, n, -1, 1);
    const got = tf.tidy(() => {
      const f = (a: tf.Tensor) =>
        tf.sum(tf.mul(
          guidedRelu(tf.matMul(a as tf.Tensor2D, tf.tensor2d(w1, [n, h]))),
          tf.tensor2d(w2, [1, h]),
        ));
      return tf.grad(f)(tf.tensor2d(x, [1, n])).dataSync();
    });
    // Replica: a_j = Σ_i x_i w1_ij; the unit passes w2_j iff a_j > 0 and w2_j > 0.
    const expected = new Float64Array(n);
    let active = 0;
    let blocked = 0;
    for (let j = 0; j < h; j++) {
      let a = 0;
      for (let i = 0; i < n; i++) a += x[i]! * w1[i * h + j]!;
      if (a > 0 && w2[j]! > 0) {
        active++;
        for (let i = 0; i < n; i++) expected[i]! += w1[i * h + j]! * w2[j]!;
      } else if (a > 0) blocked++;
    }
    // The case exercises both branches: some units pass, some active ones are blocked.
    assert.ok(
      active > 0 && blocked > 0,
      `active ${active}, blocked ${blocked}`,
    );
    for (let i = 0; i < n; i++) {
      assert.ok(
        Math.abs(got[i]! - expected[i]!) <= 1e-5,
        `x[${i}]: ${got[i]} vs ${expected[i]}`,
      );
    }
  });
});
