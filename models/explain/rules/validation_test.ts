import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend.ts";
import { assertNoLeak } from "../_testing.ts";
import {
  applyRule,
  type LayerTensors,
  type LinearLayer,
  type Rule,
} from "../core.ts";
import { AVG_POOL, createAvgPool } from "../layers/avg_pool.ts";
import { CONV2D } from "../layers/conv2d.ts";
import { DENSE } from "../layers/dense.ts";
import {
  AlphaBeta,
  Epsilon,
  Flat,
  lstmCellRelevance,
  MixedDomain,
  Norm,
  WSquare,
  ZBox,
  ZPlus,
} from "./mod.ts";

Deno.test("rule factories throw RangeError for parameters out of range", async (t) => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      "AlphaBeta(2, 0.5)",
      () => AlphaBeta({ alpha: 2, beta: 0.5 }),
      /alpha - beta must be 1/,
    ],
    [
      "AlphaBeta(0.5, -0.5)",
      () => AlphaBeta({ alpha: 0.5, beta: -0.5 }),
      /beta must be a finite number ≥ 0/,
    ],
    [
      "AlphaBeta(NaN, 0)",
      () => AlphaBeta({ alpha: NaN, beta: 0 }),
      /alpha - beta must be 1/,
    ],
    [
      "AlphaBeta stabilizer -1",
      () => AlphaBeta({ alpha: 1, beta: 0, stabilizer: -1 }),
      /stabilizer/,
    ],
    [
      "Epsilon(-0.1)",
      () => Epsilon({ epsilon: -0.1 }),
      /epsilon must be a finite number ≥ 0, got -0.1/,
    ],
    ["Epsilon(Infinity)", () => Epsilon({ epsilon: Infinity }), /epsilon/],
    ["ZPlus stabilizer NaN", () => ZPlus({ stabilizer: NaN }), /stabilizer/],
    ["Norm stabilizer -1", () => Norm({ stabilizer: -1 }), /stabilizer/],
    ["WSquare stabilizer -1", () => WSquare({ stabilizer: -1 }), /stabilizer/],
    ["Flat stabilizer -1", () => Flat({ stabilizer: -1 }), /stabilizer/],
    [
      "ZBox low above high",
      () => ZBox({ low: 1, high: -1 }),
      /low must be below high/,
    ],
    ["ZBox infinite low", () => ZBox({ low: -Infinity }), /low must be finite/],
    [
      "MixedDomain pixels 1.5",
      () => MixedDomain({ pixels: 1.5 }),
      /pixels must be an integer/,
    ],
    [
      "MixedDomain alpha 2 beta 0",
      () => MixedDomain({ pixels: 1, alpha: 2, beta: 0 }),
      /alpha - beta must be 1/,
    ],
    [
      "avgPool scale 0",
      () => createAvgPool({ scale: 0 }),
      /scale must be a finite number > 0/,
    ],
  ];
  for (const [name, make, message] of cases) {
    await t.step(
      name,
      () =>
        assert.throws(
          make,
          (e: unknown) => e instanceof RangeError && message.test(e.message),
        ),
    );
  }
});

Deno.test("AlphaBeta() accepts the thesis presets", () => {
  for (
    const [alpha, beta] of [[1, 0], [1.2, 0.2], [1.5, 0.5], [2, 1], [3, 2]]
  ) {
    assert.deepEqual(AlphaBeta({ alpha: alpha!, beta: beta! }).params, {
      alpha,
      beta,
      stabilizer: 1e-9,
    });
  }
});

Deno.test("applyRule() throws TypeError for tensors that do not fit, and leaks nothing", async (t) => {
  await initBackend("wasm");
  const x = tf.ones([2, 4]);
  const w = tf.ones([4, 3]);
  const r = tf.ones([2, 3]);
  const image = tf.ones([1, 5, 5, 2]);
  const kernel = tf.ones([3, 3, 2, 4]);
  const pooled = tf.ones([1, 3, 3, 2]);
  const lowBound = tf.zeros([3]);
  const highBound = tf.ones([4]);
  const cases: [string, Rule, LinearLayer, LayerTensors, RegExp][] = [
    ["relevance of the wrong shape", ZPlus(), DENSE, {
      input: x,
      weight: w,
      relevance: tf.ones([2, 4]),
    }, /relevance has shape \[2, 4\], expected the output shape \[2, 3\]/],
    ["a weight of the wrong size", Epsilon(), DENSE, {
      input: x,
      weight: tf.ones([5, 3]),
      relevance: r,
    }, /input has 4 features but the weight expects 5/],
    [
      "no weight",
      Epsilon(),
      DENSE,
      { input: x, relevance: r },
      /no weight was given/,
    ],
    ["an int32 input", Epsilon(), DENSE, {
      input: tf.ones([2, 4], "int32"),
      weight: w,
      relevance: r,
    }, /input has dtype "int32"/],
    ["a bias of the wrong size", Epsilon(), DENSE, {
      input: x,
      weight: w,
      bias: tf.zeros([4]),
      relevance: r,
    }, /bias has shape \[4\], expected \[3\]/],
    [
      "a weight-modifying rule on avgPool",
      AlphaBeta({ alpha: 2, beta: 1 }),
      AVG_POOL,
      { input: image, relevance: pooled },
      /the rule modifies a weight and the layer has none/,
    ],
    ["a weight on avgPool", Norm(), AVG_POOL, {
      input: image,
      weight: kernel,
      relevance: pooled,
    }, /the layer takes no weight/],
    ["pooled relevance of the wrong shape", Norm(), AVG_POOL, {
      input: image,
      relevance: tf.ones([1, 2, 2, 2]),
    }, /expected the output shape \[1, 3, 3, 2\]/],
    ["a conv input of rank 3", Epsilon(), CONV2D, {
      input: tf.ones([5, 5, 2]),
      weight: kernel,
      relevance: tf.ones([1, 5, 5, 4]),
    }, /input has rank 3, expected 4/],
    ["conv channels that do not match", Epsilon(), CONV2D, {
      input: tf.ones([1, 5, 5, 3]),
      weight: kernel,
      relevance: tf.ones([1, 5, 5, 4]),
    }, /input has 3 channels but the weight expects 2/],
    ["a ZBox bound of the wrong shape", ZBox({ low: lowBound }), DENSE, {
      input: x,
      weight: w,
      relevance: r,
    }, /low has shape \[3\], expected \[4\] or \[2, 4\]/],
    ["more MixedDomain pixels than inputs", MixedDomain({ pixels: 5 }), DENSE, {
      input: x,
      weight: w,
      relevance: r,
    }, /pixels is 5 but the input has 4/],
    [
      "a MixedDomain bound over the whole input",
      MixedDomain({ pixels: 1, high: highBound }),
      DENSE,
      { input: x, weight: w, relevance: r },
      /high has shape \[4\], expected \[1\] or \[2, 1\]/,
    ],
  ];
  try {
    for (const [name, rule, layer, tensors, message] of cases) {
      await t.step(name, async () => {
        await assertNoLeak(() => {
          assert.throws(
            () => applyRule(rule, layer, tensors),
            (e: unknown) => e instanceof TypeError && message.test(e.message),
          );
        });
      });
    }
  } finally {
    for (const [, , , tensors] of cases) {
      for (const v of Object.values(tensors)) v.dispose();
    }
    tf.dispose([x, w, r, image, kernel, pooled, lowBound, highBound]);
  }
});

Deno.test("AlphaBeta(2, 0.5) throws RangeError before creating any tensor", async () => {
  await initBackend("wasm");
  await assertNoLeak(() => {
    assert.throws(() => AlphaBeta({ alpha: 2, beta: 0.5 }), RangeError);
  });
});

Deno.test("lstmCellRelevance() throws for mismatched shapes and bad options, and leaks nothing", async () => {
  await initBackend("wasm");
  const a = tf.ones([2, 3]);
  const b = tf.ones([2, 4]);
  try {
    await assertNoLeak(() => {
      assert.throws(
        () =>
          lstmCellRelevance({
            previousCell: a,
            forget: a,
            cell: a,
            relevance: b,
          }),
        (e: unknown) =>
          e instanceof TypeError &&
          /relevance has shape \[2, 4\], expected the cell shape \[2, 3\]/.test(
            e.message,
          ),
      );
      assert.throws(
        () =>
          lstmCellRelevance({
            previousCell: a,
            forget: a,
            cell: a,
            relevance: a,
          }, { stabilizer: -1 }),
        RangeError,
      );
      assert.throws(
        () =>
          lstmCellRelevance({
            previousCell: a,
            forget: a,
            cell: a,
            relevance: a,
          }, {
            stabilizerShare: "gates" as "candidate",
          }),
        RangeError,
      );
    });
  } finally {
    tf.dispose([a, b]);
  }
});
