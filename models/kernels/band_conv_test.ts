import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { bandKernelGradient } from "./band_conv.ts";

/** Seeded values in [−1, 1) (a linear congruential generator). */
function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = state / 2147483648 - 1;
  }
  return out;
}

/** [N, H, W, ci] input, kh × kw kernel, co output channels. */
const GEOMETRIES: [
  string,
  [number, number, number, number],
  number,
  number,
  number,
][] = [
  ["5×5 onto pixels (a first layer)", [3, 28, 7, 1], 5, 5, 4],
  ["3×3, 6 → 5 channels (a second layer)", [2, 14, 4, 6], 3, 3, 5],
  ["5×5 on an image narrower than the kernel", [2, 6, 3, 2], 5, 5, 3],
  ["1×3", [2, 4, 5, 2], 1, 3, 2],
  ["3×1", [2, 4, 3, 2], 3, 1, 2],
];

Deno.test("bandKernelGradient() equals the kernel gradient of tf.conv2d (SAME, stride 1) on cpu and wasm, and leaks nothing", async (t) => {
  await initBackend("wasm");
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    for (const [label, shape, kh, kw, co] of GEOMETRIES) {
      await t.step(`${backend}: ${label}`, () => {
        const [n, h, w, ci] = shape;
        const x = tf.tensor4d(values(n * h * w * ci, 1), shape);
        const kernel = tf.tensor4d(values(kh * kw * ci * co, 2), [
          kh,
          kw,
          ci,
          co,
        ]);
        const dy = tf.tensor4d(values(n * h * w * co, 3), [n, h, w, co]);
        const before = tf.memory().numTensors;
        const got = bandKernelGradient(x, dy, kh, kw);
        assert.equal(tf.memory().numTensors, before + 1, "only the result");
        const want = tf.tidy(() =>
          tf.grad((k: tf.Tensor) =>
            tf.sum(tf.mul(tf.conv2d(x, k as tf.Tensor4D, 1, "same"), dy))
          )(kernel)
        );
        assert.deepEqual(got.shape, [kh, kw, ci, co]);
        const [g, r] = [got.dataSync(), want.dataSync()];
        const scale = Math.max(...Array.from(r, Math.abs));
        for (let i = 0; i < r.length; i++) {
          assert.ok(
            Math.abs(g[i]! - r[i]!) <= 1e-5 * scale,
            `${label}: entry ${i}: ${g[i]} vs ${r[i]}`,
          );
        }
        tf.dispose([x, kernel, dy, got, want]);
      });
    }
  }
  await tf.setBackend("wasm");
});
