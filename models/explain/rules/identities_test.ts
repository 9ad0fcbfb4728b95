import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend.ts";
import {
  assertClose,
  assertNoLeak,
  createRandom,
  normal,
  uniform,
  values,
} from "../_testing.ts";
import { applyRule, type LinearLayer, type Rule } from "../core.ts";
import { AVG_POOL, createAvgPool } from "../layers/avg_pool.ts";
import { CONV2D } from "../layers/conv2d.ts";
import { DENSE } from "../layers/dense.ts";
import { AlphaBeta, Epsilon, MixedDomain, Norm, ZBox, ZPlus } from "./mod.ts";

/** Applies a rule and keeps only the input relevance. */
function relevanceOf(
  rule: Rule,
  layer: LinearLayer,
  tensors: { input: tf.Tensor; weight?: tf.Tensor; relevance: tf.Tensor },
): tf.Tensor {
  const out = applyRule(rule, layer, tensors);
  out.absorbed.dispose();
  return out.relevance;
}

function tensorOf(data: Float32Array, shape: number[]): tf.Tensor {
  return tf.tensor(data, shape);
}

Deno.test("Epsilon(0) through a bias-free dense ReLU network equals gradient × input", async () => {
  await initBackend("wasm");
  const random = createRandom(7);
  const x = tensorOf(normal(random, 4 * 8), [4, 8]);
  const w1 = tensorOf(normal(random, 8 * 6), [8, 6]);
  const w2 = tensorOf(normal(random, 6 * 1), [6, 1]);
  try {
    await assertNoLeak(async () => {
      const net = (v: tf.Tensor) =>
        tf.matMul(
          tf.relu(tf.matMul(v as tf.Tensor2D, w1 as tf.Tensor2D)),
          w2 as tf.Tensor2D,
        );
      const [lrp, gradInput] = tf.tidy(() => {
        const h = tf.relu(tf.matMul(x as tf.Tensor2D, w1 as tf.Tensor2D));
        const y = net(x);
        const rule = Epsilon({ epsilon: 0 });
        const rh = relevanceOf(rule, DENSE, {
          input: h,
          weight: w2,
          relevance: y,
        });
        const rx = relevanceOf(rule, DENSE, {
          input: x,
          weight: w1,
          relevance: rh,
        });
        const grad = tf.grad((v: tf.Tensor) => tf.sum(net(v)))(x);
        return [rx, tf.mul(grad, x)];
      });
      try {
        assertClose(await values(lrp), await values(gradInput), 1e-4, "R_x");
      } finally {
        tf.dispose([lrp, gradInput]);
      }
    });
  } finally {
    tf.dispose([x, w1, w2]);
  }
});

Deno.test("Epsilon(0) through a bias-free conv-ReLU-pool-dense network equals gradient × input", async () => {
  await initBackend("wasm");
  const random = createRandom(8);
  const x = tensorOf(normal(random, 2 * 7 * 5), [2, 7, 5, 1]);
  const w1 = tensorOf(normal(random, 3 * 3 * 3), [3, 3, 1, 3]);
  const w2 = tensorOf(normal(random, 4 * 3 * 3), [36, 1]);
  try {
    await assertNoLeak(async () => {
      const conv = (v: tf.Tensor) => tf.relu(CONV2D.forward(v, w1));
      const net = (v: tf.Tensor) =>
        tf.matMul(
          tf.reshape(AVG_POOL.forward(conv(v), null), [2, 36]),
          w2 as tf.Tensor2D,
        );
      const [lrp, gradInput] = tf.tidy(() => {
        const a = conv(x);
        const p = AVG_POOL.forward(a, null);
        const rule = Epsilon({ epsilon: 0 });
        const rp = relevanceOf(rule, DENSE, {
          input: tf.reshape(p, [2, 36]),
          weight: w2,
          relevance: net(x),
        });
        const ra = relevanceOf(rule, AVG_POOL, {
          input: a,
          relevance: tf.reshape(rp, p.shape),
        });
        const rx = relevanceOf(rule, CONV2D, {
          input: x,
          weight: w1,
          relevance: ra,
        });
        const grad = tf.grad((v: tf.Tensor) => tf.sum(net(v)))(x);
        return [rx, tf.mul(grad, x)];
      });
      try {
        assertClose(await values(lrp), await values(gradInput), 1e-4, "R_x");
      } finally {
        tf.dispose([lrp, gradInput]);
      }
    });
  } finally {
    tf.dispose([x, w1, w2]);
  }
});

interface Pair {
  name: string;
  a: Rule;
  b: Rule;
  layer: LinearLayer;
  input: () => tf.Tensor;
  weight?: () => tf.Tensor;
  relevance: () => tf.Tensor;
  rtol: number;
}

const random = createRandom(9);
const nonNegative = (shape: number[]) => () =>
  tf.tensor(uniform(random, shape.reduce((p, q) => p * q, 1), 0, 1), shape);
const real = (shape: number[]) => () =>
  tf.tensor(normal(random, shape.reduce((p, q) => p * q, 1)), shape);
const pixels = (shape: number[]) => () =>
  tf.tensor(uniform(random, shape.reduce((p, q) => p * q, 1), -1, 1), shape);
const positiveRelevance = (shape: number[]) => () =>
  tf.tensor(uniform(random, shape.reduce((p, q) => p * q, 1), 0, 1), shape);

const PAIRS: Pair[] = [
  {
    name:
      "AlphaBeta(1, 0) equals Epsilon(0) for non-negative dense weights and inputs",
    a: AlphaBeta({ alpha: 1, beta: 0 }),
    b: Epsilon({ epsilon: 0 }),
    layer: DENSE,
    input: nonNegative([3, 9]),
    weight: nonNegative([9, 5]),
    relevance: positiveRelevance([3, 5]),
    rtol: 1e-5,
  },
  {
    name:
      "AlphaBeta(1, 0) equals Epsilon(0) for non-negative conv2d weights and inputs",
    a: AlphaBeta({ alpha: 1, beta: 0 }),
    b: Epsilon({ epsilon: 0 }),
    layer: CONV2D,
    input: nonNegative([2, 6, 5, 3]),
    weight: nonNegative([3, 3, 3, 4]),
    relevance: positiveRelevance([2, 6, 5, 4]),
    rtol: 1e-5,
  },
  {
    name: "AlphaBeta(2, 1) equals ZPlus when no weight is negative",
    a: AlphaBeta({ alpha: 2, beta: 1 }),
    b: ZPlus(),
    layer: CONV2D,
    input: nonNegative([2, 6, 5, 3]),
    weight: nonNegative([3, 3, 3, 4]),
    relevance: real([2, 6, 5, 4]),
    rtol: 1e-6,
  },
  {
    name: "MixedDomain with every input a pixel equals ZBox",
    a: MixedDomain({ pixels: 3, alpha: 2, beta: 1 }),
    b: ZBox(),
    layer: CONV2D,
    input: pixels([2, 6, 5, 3]),
    weight: real([5, 5, 3, 4]),
    relevance: real([2, 6, 5, 4]),
    rtol: 1e-6,
  },
  {
    name: "MixedDomain with no pixel input and alpha 1 equals ZPlus",
    a: MixedDomain({ pixels: 0 }),
    b: ZPlus(),
    layer: DENSE,
    input: nonNegative([3, 9]),
    weight: real([9, 5]),
    relevance: real([3, 5]),
    rtol: 1e-6,
  },
  {
    name: "Norm through avgPool does not depend on the pooling scale",
    a: Norm(),
    b: Norm(),
    layer: createAvgPool({ scale: 1 }),
    input: nonNegative([2, 5, 7, 3]),
    relevance: real([2, 3, 4, 3]),
    rtol: 1e-6,
  },
];

Deno.test("rules reduce to each other in their degenerate cases", async (t) => {
  await initBackend("wasm");
  for (const pair of PAIRS) {
    await t.step(pair.name, async () => {
      const input = pair.input();
      const weight = pair.weight?.();
      const relevance = pair.relevance();
      const tensors = { input, relevance, ...(weight ? { weight } : {}) };
      const layerB = pair.layer.kind === "avgPool" ? AVG_POOL : pair.layer;
      try {
        await assertNoLeak(async () => {
          const a = applyRule(pair.a, pair.layer, tensors);
          const b = applyRule(pair.b, layerB, tensors);
          try {
            assertClose(
              await values(a.relevance),
              await values(b.relevance),
              pair.rtol,
              "relevance",
            );
            // The stabilisers' shares differ (ε vs none, ε·scale vs ε), and
            // they are all that the absorbed amounts differ by.
            const size = (await values(relevance)).reduce(
              (p, q) => p + Math.abs(q),
              0,
            );
            const absorbedA = await values(a.absorbed);
            const absorbedB = await values(b.absorbed);
            absorbedA.forEach((v, i) => {
              assert.ok(
                Math.abs(v - absorbedB[i]!) <= 1e-6 * size,
                `absorbed[${i}]: ${v} vs ${absorbedB[i]}`,
              );
            });
          } finally {
            tf.dispose([a.relevance, a.absorbed, b.relevance, b.absorbed]);
          }
        });
      } finally {
        tf.dispose([input, weight, relevance].filter((v) => v !== undefined));
      }
    });
  }
});
