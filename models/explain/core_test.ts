import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import {
  assertClose,
  assertNoLeak,
  createRandom,
  normal,
  values,
} from "./_testing.ts";
import {
  AlphaBeta,
  applyRule,
  Epsilon,
  type LinearLayer,
  MixedDomain,
  type Rule,
  WeightCache,
  ZBox,
  ZPlus,
} from "./rules/mod.ts";
import { FAST_CONV2D, FAST_DENSE } from "./lrp/_linear_maps.ts";
import {
  absorbedOf,
  negativePart,
  positiveMask,
  sampleSums,
  stabilizer,
} from "./core.ts";

const RULES: [string, Rule][] = [
  ["Epsilon", Epsilon({ epsilon: 0.01 })],
  ["ZPlus", ZPlus()],
  ["AlphaBeta(2, 1)", AlphaBeta({ alpha: 2, beta: 1 })],
  ["ZBox", ZBox()],
  ["MixedDomain(1.5, 0.5)", MixedDomain({ alpha: 1.5, beta: 0.5, pixels: 2 })],
];

const LAYERS: [string, LinearLayer, number[], number[]][] = [
  ["dense", FAST_DENSE, [4, 6], [6, 5]],
  ["conv2d", FAST_CONV2D, [2, 5, 4, 3], [3, 3, 3, 4]],
];

Deno.test("applyRule() with a WeightCache equals applyRule() without one, call after call, and the cache frees what it kept", async (t) => {
  await initBackend("wasm");
  let seed = 11;
  for (const [layerName, layer, inputShape, weightShape] of LAYERS) {
    for (const [ruleName, rule] of RULES) {
      await t.step(`${ruleName} on ${layerName}`, async () => {
        const random = createRandom(seed++);
        const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
        // Inputs in [0, 1): in every rule's domain (pixels and ReLU outputs).
        const input = () =>
          tf.tensor(
            Float32Array.from(normal(random, size(inputShape)), Math.abs)
              .map((v) => Math.min(v, 0.99)),
            inputShape,
          );
        const w = tf.tensor(normal(random, size(weightShape)), weightShape);
        const bias = tf.neg(tf.abs(tf.tensor1d(
          normal(random, weightShape.at(-1)!),
        )));
        const outShape = layer.outputShape(inputShape, weightShape);
        const calls = [0, 1].map(() => ({
          input: input(),
          relevance: tf.abs(
            tf.tensor(normal(random, size(outShape)), outShape),
          ),
        }));
        try {
          await assertNoLeak(async () => {
            const cache = new WeightCache();
            try {
              for (const [k, c] of calls.entries()) {
                const tensors = { ...c, weight: w, bias };
                const plain = applyRule(rule, layer, tensors);
                const withCache = applyRule(rule, layer, { ...tensors, cache });
                try {
                  assertClose(
                    await values(withCache.relevance),
                    await values(plain.relevance),
                    1e-4,
                    `call ${k} relevance`,
                  );
                  assertClose(
                    await values(withCache.absorbed),
                    await values(plain.absorbed),
                    1e-4,
                    `call ${k} absorbed`,
                  );
                } finally {
                  tf.dispose([
                    plain.relevance,
                    plain.absorbed,
                    withCache.relevance,
                    withCache.absorbed,
                  ]);
                }
              }
              // At least the adjoint's prepared weight (Wᵀ, the flipped kernel).
              assert.ok(cache.size > 0, "the cache kept nothing");
            } finally {
              cache.dispose();
            }
            assert.equal(cache.size, 0);
          });
        } finally {
          tf.dispose([
            w,
            bias,
            ...calls.flatMap((c) => [c.input, c.relevance]),
          ]);
        }
      });
    }
  }
});

Deno.test("stabilizer(), negativePart() and positiveMask() equal their comparison forms, at ±0 and ±∞ too", async () => {
  await initBackend("wasm");
  await assertNoLeak(async () => {
    const v = Array.from(
      Float32Array.of(-2, -0, 0, 1e-30, -1e-30, 3.5, Infinity, -Infinity),
    );
    const x = tf.tensor1d(v);
    const out = tf.tidy(() => [
      stabilizer(x, 0.25),
      negativePart(x),
      positiveMask(x),
    ]);
    try {
      const [stab, negative, mask] = await Promise.all(
        out.map((t) => values(t)),
      );
      v.forEach((xi, i) => {
        // sign⁺(±0) = +1, as the thesis code's stabiliser.
        assert.equal(stab![i], xi >= 0 ? 0.25 : -0.25, `stabilizer(${xi})`);
        // −relu(−0) is −0 where min(0, 0) is +0: equal as numbers (+ 0).
        assert.equal(
          negative![i]! + 0,
          Math.min(xi, 0) + 0,
          `negativePart(${xi})`,
        );
        assert.equal(mask![i], xi > 0 ? 1 : 0, `positiveMask(${xi})`);
      });
    } finally {
      tf.dispose([x, ...out]);
    }
  });
});

Deno.test("applyRule() takes W·x from output for the term that reads the unmodified input and weight, and only for it", async (t) => {
  await initBackend("wasm");
  let seed = 41;
  const cases: [string, Rule, boolean][] = [
    ["Epsilon", Epsilon({ epsilon: 0.01 }), true],
    ["ZBox", ZBox(), true],
    ["AlphaBeta(2, 1)", AlphaBeta({ alpha: 2, beta: 1 }), false],
  ];
  for (const [layerName, layer, inputShape, weightShape] of LAYERS) {
    for (const [ruleName, rule, usesPlain] of cases) {
      await t.step(`${ruleName} on ${layerName}`, async () => {
        const random = createRandom(seed++);
        const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
        const outShape = layer.outputShape(inputShape, weightShape);
        const input = tf.tensor(
          Float32Array.from(normal(random, size(inputShape)), Math.abs)
            .map((v) => Math.min(v, 0.99)),
          inputShape,
        );
        const weight = tf.tensor(
          normal(random, size(weightShape)),
          weightShape,
        );
        const bias = tf.neg(tf.abs(tf.tensor1d(
          normal(random, weightShape.at(-1)!),
        )));
        const relevance = tf.abs(
          tf.tensor(normal(random, size(outShape)), outShape),
        );
        const exact = layer.forward(input, weight);
        // A wrong W·x: used, it must change the result; unused, it must not.
        const shifted = tf.add(exact, 0.5);
        const tensors = { input, weight, bias, relevance };
        try {
          await assertNoLeak(async () => {
            const results = [
              applyRule(rule, layer, tensors),
              applyRule(rule, layer, { ...tensors, output: exact }),
              applyRule(rule, layer, { ...tensors, output: shifted }),
            ];
            try {
              const [plain, given, wrong] = await Promise.all(
                results.map((r) => values(r.relevance)),
              );
              assertClose(given!, plain!, 1e-4, "relevance with W·x given");
              const changed = wrong!.some((v, i) =>
                Math.abs(v - plain![i]!) > 1e-3 * Math.abs(plain![i]!) + 1e-6
              );
              assert.equal(changed, usesPlain, "a wrong W·x was (not) used");
            } finally {
              tf.dispose(results.flatMap((r) => [r.relevance, r.absorbed]));
            }
            const bad = tf.zeros([1]);
            try {
              assert.throws(
                () => applyRule(rule, layer, { ...tensors, output: bad }),
                TypeError,
              );
            } finally {
              bad.dispose();
            }
          });
        } finally {
          tf.dispose([input, weight, bias, relevance, exact, shifted]);
        }
      });
    }
  }
});

Deno.test("sampleSums() equals tf.sum over every axis but the first, for ranks 1 to 5", async () => {
  await initBackend("wasm");
  const random = createRandom(91);
  const shapes = [[4], [3, 7], [2, 5, 6], [3, 6, 4, 5], [2, 3, 2, 4, 3]];
  for (const shape of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(normal(random, size), shape);
    try {
      await assertNoLeak(async () => {
        const [ours, stock] = tf.tidy(() => [
          sampleSums(t),
          t.rank === 1
            ? tf.clone(t)
            : tf.sum(t, shape.slice(1).map((_, i) => i + 1)),
        ]);
        try {
          assert.deepEqual(ours!.shape, [shape[0]]);
          assertClose(
            await values(ours!),
            await values(stock!),
            1e-5,
            `[${shape.join(", ")}]`,
          );
        } finally {
          tf.dispose([ours!, stock!]);
        }
      });
    } finally {
      t.dispose();
    }
  }
});

Deno.test("absorbedOf() applies a Normalized's absorbedScale, and copies an unscaled absorbed", async () => {
  await initBackend("wasm");
  const absorbed = tf.tensor2d([[1, -2], [0.5, 4]]);
  try {
    await assertNoLeak(async () => {
      const [scaled, plain] = [
        absorbedOf({ gradients: [], absorbed, absorbedScale: -0.25 }),
        absorbedOf({ gradients: [], absorbed }),
      ];
      try {
        assert.deepEqual(Array.from(await scaled.data()), [
          -0.25,
          0.5,
          -0.125,
          -1,
        ]);
        assert.deepEqual(Array.from(await plain.data()), [1, -2, 0.5, 4]);
        assert.notEqual(plain, absorbed, "a copy the caller owns");
      } finally {
        tf.dispose([scaled, plain]);
      }
    });
  } finally {
    absorbed.dispose();
  }
});
