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
import {
  CONV2D,
  createAvgPool,
  DENSE,
  type LinearLayer,
} from "../rules/mod.ts";
import { createFastAvgPool, FAST_CONV2D, FAST_DENSE } from "./_linear_maps.ts";

const CASES: [string, LinearLayer, LinearLayer, number[], number[] | null][] = [
  ["dense", FAST_DENSE, DENSE, [3, 7], [7, 4]],
  ["conv2d 5×5", FAST_CONV2D, CONV2D, [2, 7, 4, 2], [5, 5, 2, 3]],
  ["conv2d 3×3", FAST_CONV2D, CONV2D, [2, 6, 5, 3], [3, 3, 3, 4]],
  // One input channel: the adjoint is a banded row convolution.
  ["conv2d 5×5 onto 1 channel", FAST_CONV2D, CONV2D, [3, 9, 4, 1], [
    5,
    5,
    1,
    6,
  ]],
  // Wider than twice the kernel: a depthwise convolution and a sum.
  ["conv2d 5×5 onto 1 channel, 11 columns", FAST_CONV2D, CONV2D, [
    2,
    5,
    11,
    1,
  ], [5, 5, 1, 3]],
  // Wider than twice the kernel onto 3 channels: the plain convolution.
  ["conv2d 3×3, 7 columns", FAST_CONV2D, CONV2D, [2, 4, 7, 3], [3, 3, 3, 2]],
  // One output channel: the forward is a banded convolution.
  ["conv2d 3×3 onto 1 filter", FAST_CONV2D, CONV2D, [2, 6, 4, 3], [3, 3, 3, 1]],
  ["conv2d 2×3 (fallback)", FAST_CONV2D, CONV2D, [2, 5, 6, 3], [2, 3, 3, 2]],
  ["avgPool, odd sizes", createFastAvgPool(2), createAvgPool({ scale: 2 }), [
    2,
    5,
    7,
    3,
  ], null],
  ["avgPool, even sizes", createFastAvgPool(2), createAvgPool({ scale: 2 }), [
    2,
    4,
    6,
    2,
  ], null],
  ["avgPool, scale 1", createFastAvgPool(1), createAvgPool({ scale: 1 }), [
    1,
    3,
    3,
    2,
  ], null],
];

Deno.test("FAST_DENSE, FAST_CONV2D and createFastAvgPool() have the same maps and transposes as the layers of rules/", async (t) => {
  await initBackend("wasm");
  let seed = 3;
  for (const [name, fast, stock, inputShape, weightShape] of CASES) {
    await t.step(name, async () => {
      const random = createRandom(seed++);
      const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
      const x = tf.tensor(normal(random, size(inputShape)), inputShape);
      const w = weightShape === null
        ? null
        : tf.tensor(normal(random, size(weightShape)), weightShape);
      const outShape = stock.outputShape(inputShape, weightShape);
      const g = tf.tensor(normal(random, size(outShape)), outShape);
      try {
        await assertNoLeak(async () => {
          const out = tf.tidy(() => [
            fast.forward(x, w),
            stock.forward(x, w),
            fast.transpose(g, w, inputShape),
            stock.transpose(g, w, inputShape),
            ...(fast.adjoint && w
              ? [fast.adjoint.apply(g, fast.adjoint.prepare(w), inputShape)]
              : []),
          ]);
          try {
            assert.equal(fast.kind, stock.kind);
            assert.deepEqual(out[2]!.shape, inputShape);
            assertClose(
              await values(out[0]!),
              await values(out[1]!),
              1e-5,
              `${name} forward`,
            );
            assertClose(
              await values(out[2]!),
              await values(out[3]!),
              1e-5,
              `${name} transpose`,
            );
            assert.equal(out.length, w === null ? 4 : 5, "dense/conv adjoint");
            if (out[4] !== undefined) {
              assertClose(
                await values(out[4]),
                await values(out[3]!),
                1e-5,
                `${name} adjoint`,
              );
            }
          } finally {
            tf.dispose(out);
          }
        });
      } finally {
        tf.dispose([x, g, ...(w ? [w] : [])]);
      }
    });
  }
});
