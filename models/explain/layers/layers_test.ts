import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend.ts";
import {
  assertClose,
  assertNoLeak,
  createRandom,
  normal,
  values,
} from "../_testing.ts";
import type { LinearLayer } from "../core.ts";
import { AVG_POOL, createAvgPool } from "./avg_pool.ts";
import { CONV2D } from "./conv2d.ts";
import { DENSE } from "./dense.ts";

const CASES: [string, LinearLayer, number[], number[] | null][] = [
  ["dense", DENSE, [3, 7], [7, 4]],
  ["conv2d 3×3", CONV2D, [2, 6, 5, 3], [3, 3, 3, 4]],
  ["conv2d 5×5", CONV2D, [2, 7, 4, 2], [5, 5, 2, 3]],
  ["conv2d 2×3", CONV2D, [2, 5, 6, 3], [2, 3, 3, 2]],
  ["avgPool on odd sizes", AVG_POOL, [2, 5, 7, 3], null],
  ["avgPool on even sizes", AVG_POOL, [2, 4, 6, 2], null],
  ["avgPool with scale 1", createAvgPool({ scale: 1 }), [1, 3, 3, 2], null],
];

Deno.test("LinearLayer.transpose() is the adjoint of forward(): ⟨L x, g⟩ = ⟨x, Lᵀ g⟩", async (t) => {
  await initBackend("wasm");
  let seed = 1;
  for (const [name, layer, inputShape, weightShape] of CASES) {
    await t.step(name, async () => {
      const random = createRandom(seed++);
      const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
      const x = tf.tensor(normal(random, size(inputShape)), inputShape);
      const w = weightShape === null
        ? null
        : tf.tensor(normal(random, size(weightShape)), weightShape);
      const outShape = layer.outputShape(inputShape, weightShape);
      const g = tf.tensor(normal(random, size(outShape)), outShape);
      try {
        await assertNoLeak(async () => {
          const [lx, ltg] = tf.tidy(
            () => [layer.forward(x, w), layer.transpose(g, w, inputShape)],
          );
          try {
            assert.deepEqual(lx!.shape, outShape);
            assert.deepEqual(ltg!.shape, inputShape);
            const dot = (a: Float64Array, b: Float64Array) =>
              a.reduce((s, v, i) => s + v * b[i]!, 0);
            const left = dot(await values(lx!), await values(g));
            const right = dot(await values(x), await values(ltg!));
            assert.ok(
              Math.abs(left - right) <= 1e-5 * (Math.abs(left) + 1),
              `${left} vs ${right}`,
            );
          } finally {
            tf.dispose([lx!, ltg!]);
          }
        });
      } finally {
        tf.dispose([x, g, ...(w ? [w] : [])]);
      }
    });
  }
});

Deno.test("AVG_POOL.forward() equals 2 · tf.avgPool(x, 2, 2, 'same'), averaging edge windows over valid elements", async () => {
  await initBackend("wasm");
  const x = tf.tensor(normal(createRandom(3), 2 * 5 * 7 * 3), [2, 5, 7, 3]);
  try {
    await assertNoLeak(async () => {
      const [ours, theirs] = tf.tidy(() => [
        AVG_POOL.forward(x, null),
        tf.mul(tf.avgPool(x as tf.Tensor4D, 2, 2, "same"), 2),
      ]);
      try {
        assertClose(await values(ours!), await values(theirs!), 1e-6, "pooled");
      } finally {
        tf.dispose([ours!, theirs!]);
      }
    });
  } finally {
    x.dispose();
  }
  // A 3×3 map: the bottom-right window holds one element, so it keeps 2·x.
  const small = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
  try {
    const pooled = AVG_POOL.forward(small, null);
    assert.deepEqual(Array.from(await pooled.data()), [6, 9, 15, 18]);
    pooled.dispose();
  } finally {
    small.dispose();
  }
});
