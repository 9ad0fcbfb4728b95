import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import type { RnnModel } from "../arch/rnn_model.ts";
import { OutOfRangeError, PreconditionError } from "../errors.ts";
import { assertNoLeak } from "./_testing.ts";
import { explain, resolveParams } from "./attributors.ts";
import { createComposite } from "./composites.ts";
import { METHOD_NAMES, type MethodParams } from "./explanation.ts";
import { defaultParams } from "./registry.ts";
import { relevancePass } from "./lrp/relevance_pass.ts";
import { createLiveModel, randomInput, tinySpec } from "./lrp/_testing.ts";

Deno.test("resolveParams() fills defaults, derives β from α and echoes given values", () => {
  for (const method of METHOD_NAMES) {
    assert.deepEqual(resolveParams(method), defaultParams(method), method);
  }
  assert.deepEqual(resolveParams("lrp_alpha_beta", { alpha: 2 }), {
    alpha: 2,
    beta: 1,
    low: -1,
    high: 1,
    stabilizer: 1e-9,
    inputDomain: "bounded",
  });
  assert.equal(resolveParams("lrp_alpha_beta", { beta: 0.5 }).alpha, 1.5);
  assert.equal(
    resolveParams("lrp_alpha_beta", { alpha: 1.2, beta: 0.2 }).beta,
    0.2,
  );
  assert.equal(resolveParams("lrp_epsilon", { epsilon: 0 }).epsilon, 0);
  assert.equal(resolveParams("integrated_gradients", { steps: 1 }).steps, 1);
});

Deno.test("resolveParams() throws RangeError or TypeError with std messages for invalid parameters", async (t) => {
  const cases: [string, string, MethodParams, RegExp, typeof RangeError][] = [
    [
      "α − β ≠ 1",
      "lrp_alpha_beta",
      { alpha: 2, beta: 0.5 },
      /^Cannot explain with "lrp_alpha_beta": alpha - beta must be 1: got alpha 2 and beta 0.5$/,
      RangeError,
    ],
    [
      "α < 1",
      "lrp_alpha_beta",
      { alpha: 0.5 },
      /alpha must be ≥ 1: got 0.5/,
      RangeError,
    ],
    [
      "β < 0",
      "lrp_alpha_beta",
      { beta: -1 },
      /beta must be ≥ 0: got -1/,
      RangeError,
    ],
    [
      "ε < 0",
      "lrp_epsilon",
      { epsilon: -1e-3 },
      /^Cannot explain with "lrp_epsilon": epsilon must be ≥ 0: got -0.001$/,
      RangeError,
    ],
    [
      "ε = NaN",
      "lrp_epsilon",
      { epsilon: NaN },
      /epsilon must be finite/,
      RangeError,
    ],
    [
      "low ≥ high",
      "deep_taylor",
      { low: 1, high: 1 },
      /low must be below high: got low 1 and high 1/,
      RangeError,
    ],
    [
      "low above the default high",
      "deep_taylor",
      { low: 2 },
      /low must be below high: got low 2 and high 1/,
      RangeError,
    ],
    [
      "stabiliser < 0",
      "deep_taylor",
      { stabilizer: -1 },
      /stabilizer must be ≥ 0/,
      RangeError,
    ],
    [
      "steps < 1",
      "integrated_gradients",
      { steps: 0 },
      /steps must be ≥ 1: got 0/,
      RangeError,
    ],
    [
      "fractional steps",
      "integrated_gradients",
      { steps: 2.5 },
      /steps must be an integer: got 2.5/,
      RangeError,
    ],
    [
      "too many samples",
      "smoothgrad",
      { samples: 5000 },
      /samples must be ≤ 1024/,
      RangeError,
    ],
    [
      "noise < 0",
      "smoothgrad",
      { noise: -0.1 },
      /noise must be ≥ 0/,
      RangeError,
    ],
    [
      "a parameter the method does not use",
      "deep_taylor",
      { alpha: 2 },
      /it does not use "alpha" \(it takes low, high, stabilizer, inputDomain\)/,
      RangeError,
    ],
    [
      "a parameter of a method without any",
      "sensitivity",
      { epsilon: 1 },
      /it takes no parameters/,
      RangeError,
    ],
    [
      "an unknown choice",
      "deep_taylor",
      { inputDomain: "box" as "real" },
      /inputDomain must be one of "bounded", "real": got "box"/,
      TypeError,
    ],
    [
      "a string number",
      "lrp_epsilon",
      { epsilon: "1" as unknown as number },
      /epsilon must be a number: got string/,
      TypeError,
    ],
  ];
  for (const [name, method, params, message, Kind] of cases) {
    await t.step(name, () => {
      assert.throws(
        () => resolveParams(method, params),
        (e) => e instanceof Kind && message.test((e as Error).message),
      );
    });
  }
  assert.throws(() => resolveParams("lrp_gamma"), RangeError);
});

async function withModel(
  architecture: Parameters<typeof tinySpec>[0],
  body: (model: RnnModel) => Promise<void>,
  options: Parameters<typeof tinySpec>[1] = {},
  seed = 4,
): Promise<void> {
  await initBackend("wasm");
  const model = await createLiveModel(tinySpec(architecture, options), {
    seed,
  });
  try {
    await body(model);
  } finally {
    model.dispose();
  }
}

Deno.test("explain() refuses invalid requests before any work, with typed errors and no leaks", async () => {
  await withModel("shallow", async (model) => {
    const input = randomInput(model.spec, 2, 3);
    const outside = Float32Array.from(input.x);
    outside[5] = 1.5;
    const cases: [string, () => Promise<unknown>, (e: unknown) => boolean][] = [
      [
        "zᴮ with a pixel above high",
        () => explain(model, { ...input, x: outside }, "deep_taylor"),
        (e) =>
          e instanceof PreconditionError &&
          /x\[5\] is 1.5, outside the zᴮ bounds \[-1, 1\]/.test(e.message),
      ],
      [
        "mixed rule with a pixel above high",
        () =>
          explain(model, { ...input, x: outside }, "lrp_alpha_beta", {
            params: { alpha: 2 },
          }),
        (e) => e instanceof PreconditionError,
      ],
      [
        "w² on Shallow",
        () =>
          explain(model, input, "deep_taylor", {
            params: { inputDomain: "real" },
          }),
        (e) =>
          e instanceof PreconditionError &&
          /layer "hidden" concatenates pixels with non-negative states/.test(
            e.message,
          ),
      ],
      [
        "the true label without labels",
        () => explain(model, { x: input.x, count: 2 }, "lrp_epsilon"),
        (e) =>
          e instanceof PreconditionError &&
          /no labels were given/.test(e.message),
      ],
      [
        "a class past the last",
        () =>
          explain(model, input, "deep_taylor", {
            target: { kind: "class", index: 10 },
          }),
        (e) => e instanceof OutOfRangeError,
      ],
      [
        "an unknown target kind",
        () =>
          explain(model, input, "deep_taylor", {
            target: { kind: "best" } as never,
          }),
        (e) => e instanceof TypeError,
      ],
      [
        "a wrong input length",
        () =>
          explain(model, { ...input, x: input.x.subarray(1) }, "deep_taylor"),
        (e) =>
          e instanceof RangeError &&
          /x has \d+ values, expected/.test(e.message),
      ],
      [
        "a non-finite pixel",
        () =>
          explain(model, {
            ...input,
            x: Float32Array.from(input.x, (v, i) => i === 3 ? NaN : v),
          }, "sensitivity"),
        (e) =>
          e instanceof RangeError && /x\[3\] is not finite/.test(e.message),
      ],
      [
        "a label past the last class",
        () =>
          explain(
            model,
            { ...input, labels: Uint8Array.of(1, 10) },
            "lrp_epsilon",
          ),
        (e) => e instanceof RangeError && /labels\[1\] is 10/.test(e.message),
      ],
      [
        "α − β ≠ 1",
        () =>
          explain(model, input, "lrp_alpha_beta", {
            params: { alpha: 3, beta: 1 },
          }),
        (e) => e instanceof RangeError,
      ],
      [
        "an unknown method",
        () => explain(model, input, "lrp_zplus"),
        (e) => e instanceof RangeError,
      ],
    ];
    // Spies on the model: a refused request never runs it.
    let runs = 0;
    const trace = model.trace.bind(model);
    const forward = model.forward.bind(model);
    model.trace = (...args) => (runs++, trace(...args));
    model.forward = (...args) => (runs++, forward(...args));
    for (const [name, run, check] of cases) {
      await assertNoLeak(async () => {
        await assert.rejects(run(), (e) => {
          assert.ok(check(e), `${name}: got ${e}`);
          return true;
        });
      });
      assert.equal(runs, 0, `${name}: the model ran before the refusal`);
    }
    // Inputs outside [−1, 1] are fine with bounds that hold them, and for LRP-ε.
    await assertNoLeak(async () => {
      await explain(model, { ...input, x: outside }, "deep_taylor", {
        params: { low: -2, high: 2 },
      });
      await explain(model, { ...input, x: outside }, "lrp_epsilon");
    });
  });
});

Deno.test("explain() runs the relevance pass with the resolved parameters and echoes them", async () => {
  await withModel("conv_plus_deep", async (model) => {
    const input = randomInput(model.spec, 3, 8);
    await assertNoLeak(async () => {
      const steps: number[] = [];
      const ours = await explain(model, input, "lrp_alpha_beta", {
        params: { alpha: 2 },
        target: { kind: "predicted" },
        onStep: (s) => steps.push(s.step),
      });
      assert.equal(ours.method, "lrp_alpha_beta");
      assert.deepEqual(
        ours.params,
        resolveParams("lrp_alpha_beta", { alpha: 2 }),
      );
      assert.deepEqual(steps, [2, 1, 0]);
      const direct = await relevancePass(
        model,
        input,
        createComposite("lrp_alpha_beta", { alpha: 2, beta: 1 }),
        { target: { kind: "predicted" } },
      );
      assert.deepEqual(
        Array.from(ours.relevance),
        Array.from(direct.relevance),
      );
      assert.deepEqual(ours.summaries, direct.summaries);
    });
  });
});

Deno.test("explain() dispatches every gradient method to its attributor", async () => {
  await withModel("r_lstm", async (model) => {
    const input = randomInput(model.spec, 2, 6);
    const size = 2 * model.spec.steps * model.spec.rows * model.spec.columns;
    for (
      const method of [
        "sensitivity",
        "guided_backprop",
        "gradient_x_input",
        "integrated_gradients",
        "smoothgrad",
      ]
    ) {
      await assertNoLeak(async () => {
        const params = method === "integrated_gradients"
          ? { steps: 4 }
          : method === "smoothgrad"
          ? { samples: 2 }
          : {};
        const out = await explain(model, input, method, { params });
        assert.equal(out.method, method);
        assert.equal(out.relevance.length, size);
        assert.deepEqual(out.params, resolveParams(method, params));
        assert.ok(out.relevance.some((v) => v !== 0), method);
      });
    }
  });
});

/**
 * 1e-4 relative per entry, with an absolute floor of 1e-5 of the map's
 * largest entry: both sides sum signed float32 terms, so entries that
 * cancel to ~1% of the largest carry rounding of the larger terms.
 */
function closeToMap(
  actual: Float32Array,
  expected: Float32Array,
  label: string,
): void {
  const max = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  expected.forEach((e, i) => {
    const tolerance = 1e-4 * Math.max(Math.abs(e), 0.1 * max);
    assert.ok(
      Math.abs(actual[i]! - e) <= tolerance,
      `${label}[${i}]: got ${actual[i]}, expected ${e}`,
    );
  });
}

Deno.test("explain() gives gradient × input equal to LRP-0 (ε = 0) on bias-free ReLU networks", async (t) => {
  for (
    const architecture of [
      "deep",
      "shallow",
      "deep_v2",
      "conv_deep",
      "conv_plus_deep",
    ] as const
  ) {
    await t.step(architecture, async () => {
      await withModel(
        architecture,
        async (model) => {
          const input = randomInput(model.spec, 8, 2);
          const size = model.spec.steps * model.spec.rows * model.spec.columns;
          await assertNoLeak(async () => {
            const options = { target: { kind: "predicted" } } as const;
            const lrp0 = await explain(model, input, "lrp_epsilon", {
              ...options,
              params: { epsilon: 0 },
            });
            const gxi = await explain(
              model,
              input,
              "gradient_x_input",
              options,
            );
            // Independent check of the gradient: tf.grad of the target logit, times x.
            const plain = tf.tidy(() => {
              const x = tf.tensor3d(input.x, [
                8,
                model.spec.steps,
                size / model.spec.steps,
              ]);
              const targets = lrp0.summaries.map((s) => s.targetClass);
              const mask = tf.oneHot(tf.tensor1d(targets, "int32"), 10);
              const f = (v: tf.Tensor) =>
                tf.sum(tf.mul(model.forward(v as tf.Tensor3D), mask));
              return tf.mul(tf.grad(f)(x), x);
            });
            const reference = await plain.data() as Float32Array;
            plain.dispose();
            let alive = 0;
            lrp0.summaries.forEach((s, n) => {
              const slice = (a: Float32Array) =>
                a.subarray(n * size, (n + 1) * size);
              if (s.targetLogit <= 0) {
                // LRP starts from relu(logit): nothing to explain.
                assert.ok(slice(lrp0.relevance).every((v) => v === 0));
                return;
              }
              alive++;
              closeToMap(
                slice(lrp0.relevance),
                slice(gxi.relevance),
                `${architecture}[${n}] vs gradient_x_input`,
              );
              closeToMap(
                slice(lrp0.relevance),
                slice(reference),
                `${architecture}[${n}] vs tf.grad`,
              );
              assert.ok(
                Math.abs(s.absorbedRelevance) <= 1e-5 * s.startRelevance,
              );
            });
            assert.ok(
              alive >= 6,
              `${architecture}: only ${alive} live samples`,
            );
          });
        },
        { bias: "none" },
        5,
      );
    });
  }
});
