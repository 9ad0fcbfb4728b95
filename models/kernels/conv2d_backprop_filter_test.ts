import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";

Deno.test("Conv2DBackpropFilter fallback matches the cpu kernel on wasm", async () => {
  const info = await initBackend("wasm");
  // RNN_EXPLAIN_FORCE_BACKEND=blas (CI's second run) selects blas, which brings its
  // own kernel; the wasm backend under it still carries the fallback.
  if (info.name === "wasm") {
    assert.deepEqual(info.fallbackKernels, ["Conv2DBackpropFilter"]);
  } else {
    assert.equal(info.name, "blas");
    await tf.setBackend("wasm");
  }
  const x = tf.randomNormal([2, 7, 5, 3], 0, 1, "float32", 1);
  const dy = tf.randomNormal([2, 7, 5, 4], 0, 1, "float32", 2);
  const dySame = dy;
  const before = tf.memory().numTensors;
  for (
    const [pad, stride] of [["same", 1], ["valid", 1], ["same", 2]] as const
  ) {
    const outH = pad === "same" ? Math.ceil(7 / stride) : 7 - 3 + 1;
    const outW = pad === "same" ? Math.ceil(5 / stride) : 5 - 3 + 1;
    const g = tf.slice(dySame, [0, 0, 0, 0], [2, outH, outW, 4]);
    const w0 = tf.zeros([3, 3, 3, 4]);
    // d/dW Σ conv2d(x, W) ⊙ g = Conv2DBackpropFilter(x, g).
    const got = tf.grad((wv: tf.Tensor) =>
      tf.conv2d(x as tf.Tensor4D, wv as tf.Tensor4D, stride, pad).mul(g).sum()
    )(w0);
    w0.dispose();
    const xs = await x.data();
    const gs = await g.data();
    const gotValues = await got.data();
    // Replica: dW = Σ x_shifted · dy written out with explicit padding.
    const top = pad === "same"
      ? Math.floor(Math.max((outH - 1) * stride + 3 - 7, 0) / 2)
      : 0;
    const left = pad === "same"
      ? Math.floor(Math.max((outW - 1) * stride + 3 - 5, 0) / 2)
      : 0;
    for (let fy = 0; fy < 3; fy++) {
      for (let fx = 0; fx < 3; fx++) {
        for (let c = 0; c < 3; c++) {
          for (let o = 0; o < 4; o++) {
            let s = 0;
            for (let b = 0; b < 2; b++) {
              for (let oy = 0; oy < outH; oy++) {
                for (let ox = 0; ox < outW; ox++) {
                  const iy = oy * stride - top + fy;
                  const ix = ox * stride - left + fx;
                  if (iy < 0 || iy >= 7 || ix < 0 || ix >= 5) continue;
                  s += xs[((b * 7 + iy) * 5 + ix) * 3 + c] *
                    gs[((b * outH + oy) * outW + ox) * 4 + o];
                }
              }
            }
            const v = gotValues[((fy * 3 + fx) * 3 + c) * 4 + o];
            assert.ok(
              Math.abs(v - s) <= 1e-4 * (1 + Math.abs(s)),
              `${pad}/${stride}: ${v} vs ${s}`,
            );
          }
        }
      }
    }
    g.dispose();
    got.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
  // The gradient of a conv2d now works end to end on wasm.
  const w = tf.variable(tf.randomNormal([3, 3, 3, 4], 0, 1, "float32", 3));
  const grads = tf.grads((wv: tf.Tensor) =>
    tf.conv2d(x as tf.Tensor4D, wv as tf.Tensor4D, 1, "same").sum()
  );
  const [gw] = grads([w]);
  assert.deepEqual(gw.shape, [3, 3, 3, 4]);
  tf.dispose([gw, w, x, dy]);
});
