import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend.ts";
import { ARCHITECTURES } from "../../arch/spec.ts";
import { PreconditionError } from "../../errors.ts";
import { assertClose, assertNoLeak } from "../_testing.ts";
import { createComposite, type RelevanceMethod } from "../composites.ts";
import type { MethodParams, StepRelevance } from "../explanation.ts";
import { relevancePass } from "./relevance_pass.ts";
import { createLiveModel, randomInput, tinySpec } from "./_testing.ts";

const METHODS: [string, RelevanceMethod, MethodParams][] = [
  ["deep Taylor", "deep_taylor", {}],
  ["LRP-α1.5β0.5", "lrp_alpha_beta", { alpha: 1.5, beta: 0.5 }],
  ["LRP-α2β1", "lrp_alpha_beta", { alpha: 2, beta: 1 }],
  ["LRP-ε", "lrp_epsilon", { epsilon: 1e-2 }],
];

Deno.test("relevancePass() conserves relevance for every architecture: input + absorbed + initial state = relu(target logit)", async (t) => {
  await initBackend("wasm");
  for (const architecture of ARCHITECTURES) {
    await t.step(architecture, async () => {
      const spec = tinySpec(architecture);
      const model = await createLiveModel(spec, { seed: 7 });
      const input = randomInput(spec, 8, 11);
      const x = tf.tensor3d(input.x, [8, spec.steps, spec.rows * spec.columns]);
      const logits = await model.forward(x).array();
      x.dispose();
      try {
        for (const [name, method, params] of METHODS) {
          await assertNoLeak(async () => {
            const { relevance, summaries } = await relevancePass(
              model,
              input,
              createComposite(method, params),
              { target: { kind: "predicted" } },
            );
            const size = spec.steps * spec.rows * spec.columns;
            let alive = 0;
            summaries.forEach((s, n) => {
              const expected = Math.max(0, Math.max(...logits[n]!));
              assert.ok(
                Math.abs(s.startRelevance - expected) <= 1e-5 * (1 + expected),
                `${name}: start`,
              );
              let sum = 0;
              for (let i = n * size; i < (n + 1) * size; i++) {
                sum += relevance[i]!;
              }
              assert.ok(
                Math.abs(sum - s.inputRelevance) <= 1e-6 * (1 + Math.abs(sum)),
                `${name}: Σ input`,
              );
              const error = sum + s.absorbedRelevance +
                s.initialStateRelevance - s.startRelevance;
              if (s.startRelevance === 0) {
                assert.equal(
                  sum,
                  0,
                  `${name}[${n}]: a zero start relevance must give zero relevance`,
                );
                return;
              }
              alive++;
              assert.ok(
                Math.abs(error) <= 1e-3 * s.startRelevance,
                `${name}[${n}]: residual ${error} for start ${s.startRelevance}`,
              );
              assert.ok(
                Math.abs(s.residual - -error) <= 1e-6 * s.startRelevance,
                `${name}: residual field`,
              );
              if (method !== "lrp_epsilon") {
                // z-rules ignore biases: only the 1e-9 stabilisers absorb anything.
                assert.ok(
                  Math.abs(s.absorbedRelevance) <= 1e-5 * s.startRelevance,
                  `${name}: absorbed ${s.absorbedRelevance} of ${s.startRelevance}`,
                );
              }
            });
            assert.ok(
              alive >= 6,
              `${name}: only ${alive} of 8 samples have a positive start relevance`,
            );
          });
        }
      } finally {
        model.dispose();
      }
    });
  }
});

Deno.test("relevancePass() streams T steps from T − 1 down to 0 whose concatenation is the returned relevance", async () => {
  await initBackend("wasm");
  const spec = tinySpec("conv_plus_r_lstm", { steps: 4 });
  const model = await createLiveModel(spec, { seed: 3 });
  const input = randomInput(spec, 3, 5);
  const size = spec.rows * spec.columns;
  try {
    await assertNoLeak(async () => {
      const seen: StepRelevance[] = [];
      const result = await relevancePass(
        model,
        input,
        createComposite("deep_taylor"),
        {
          onStep: (s) => seen.push(s),
        },
      );
      assert.deepEqual(seen.map((s) => s.step), [3, 2, 1, 0]);
      for (const s of seen) {
        assert.equal(s.relevance.length, 3 * size);
        for (let n = 0; n < 3; n++) {
          const offset = (n * spec.steps + s.step) * size;
          assert.deepEqual(
            Array.from(s.relevance.subarray(n * size, (n + 1) * size)),
            Array.from(result.relevance.subarray(offset, offset + size)),
          );
          const sum = s.relevance.subarray(n * size, (n + 1) * size).reduce(
            (a, v) => a + v,
            0,
          );
          assert.ok(Math.abs(s.sums[n]! - sum) <= 1e-6 * (1 + Math.abs(sum)));
        }
      }
      const total = result.summaries.map((s) => s.inputRelevance);
      const streamed = [0, 1, 2].map((n) =>
        seen.reduce((a, s) => a + s.sums[n]!, 0)
      );
      assertClose(streamed, total, 1e-6, "Σ of step sums");
    });
  } finally {
    model.dispose();
  }
});

Deno.test("relevancePass() rejects with the abort reason between steps and leaks nothing", async () => {
  await initBackend("wasm");
  const spec = tinySpec("conv_deep", { steps: 4 });
  const model = await createLiveModel(spec);
  const input = randomInput(spec, 2, 1);
  try {
    await assertNoLeak(async () => {
      const controller = new AbortController();
      const reason = new Error("client went away");
      const steps: number[] = [];
      await assert.rejects(
        relevancePass(
          model,
          input,
          createComposite("lrp_alpha_beta", { alpha: 2 }),
          {
            signal: controller.signal,
            onStep: (s) => {
              steps.push(s.step);
              controller.abort(reason);
            },
          },
        ),
        (e) => e === reason,
      );
      assert.deepEqual(steps, [3], "no step after the abort");
    });
    await assertNoLeak(async () => {
      const controller = new AbortController();
      controller.abort(new Error("before"));
      await assert.rejects(
        relevancePass(model, input, createComposite("deep_taylor"), {
          signal: controller.signal,
        }),
        /before/,
      );
    });
  } finally {
    model.dispose();
  }
});

Deno.test("relevancePass() leaks nothing when onStep throws or a precondition fails", async () => {
  await initBackend("wasm");
  const spec = tinySpec("shallow");
  const model = await createLiveModel(spec);
  const input = randomInput(spec, 2, 1);
  try {
    await assertNoLeak(async () => {
      await assert.rejects(
        relevancePass(model, input, createComposite("deep_taylor"), {
          onStep: () => {
            throw new Error("sink failed");
          },
        }),
        /sink failed/,
      );
    });
    await assertNoLeak(async () => {
      // The true label needs labels: refused after the trace exists.
      await assert.rejects(
        relevancePass(
          model,
          { x: input.x, count: 2 },
          createComposite("deep_taylor"),
        ),
        PreconditionError,
      );
    });
    await assertNoLeak(async () => {
      await assert.rejects(
        relevancePass(
          model,
          input,
          createComposite("deep_taylor", { inputDomain: "real" }),
        ),
        (e) => e instanceof PreconditionError && /"hidden".*w²/.test(e.message),
      );
    });
    await assertNoLeak(async () => {
      await assert.rejects(
        relevancePass(
          model,
          { ...input, x: input.x.subarray(1) },
          createComposite("lrp_epsilon"),
        ),
        RangeError,
      );
    });
  } finally {
    model.dispose();
  }
});

Deno.test("relevancePass() explains N samples in one call exactly as N single calls", async () => {
  await initBackend("wasm");
  for (const architecture of ["deep", "conv_r_lstm"] as const) {
    const spec = tinySpec(architecture);
    const model = await createLiveModel(spec, { seed: 5 });
    const input = randomInput(spec, 4, 9);
    const size = spec.steps * spec.rows * spec.columns;
    const composite = createComposite("lrp_alpha_beta", {
      alpha: 1.5,
      beta: 0.5,
    });
    try {
      await assertNoLeak(async () => {
        const batched = await relevancePass(model, input, composite, {
          target: { kind: "predicted" },
        });
        for (let n = 0; n < 4; n++) {
          const single = await relevancePass(
            model,
            { x: input.x.subarray(n * size, (n + 1) * size), count: 1 },
            composite,
            { target: { kind: "predicted" } },
          );
          assertClose(
            single.relevance,
            batched.relevance.subarray(n * size, (n + 1) * size),
            1e-4,
            `${architecture}[${n}]`,
          );
          assert.equal(
            single.summaries[0]!.targetClass,
            batched.summaries[n]!.targetClass,
          );
          assertClose(
            [
              single.summaries[0]!.startRelevance,
              single.summaries[0]!.absorbedRelevance,
            ],
            [
              batched.summaries[n]!.startRelevance,
              batched.summaries[n]!.absorbedRelevance,
            ],
            1e-4,
            `${architecture}[${n}] summary`,
          );
        }
      });
    } finally {
      model.dispose();
    }
  }
});

Deno.test("relevancePass() above maxBatch runs chunks with the same result and still streams T − 1 down to 0", async () => {
  await initBackend("wasm");
  const spec = tinySpec("conv_plus_deep");
  const model = await createLiveModel(spec, { seed: 2 });
  const input = randomInput(spec, 5, 4);
  const composite = createComposite("deep_taylor");
  try {
    await assertNoLeak(async () => {
      const whole = await relevancePass(model, input, composite);
      const seen: StepRelevance[] = [];
      const chunked = await relevancePass(model, input, composite, {
        maxBatch: 2,
        onStep: (s) => seen.push(s),
      });
      assertClose(chunked.relevance, whole.relevance, 1e-5, "relevance");
      assert.deepEqual(
        chunked.summaries.map((s) => s.targetClass),
        whole.summaries.map((s) => s.targetClass),
      );
      assertClose(
        chunked.summaries.map((s) => s.absorbedRelevance + s.inputRelevance),
        whole.summaries.map((s) => s.absorbedRelevance + s.inputRelevance),
        1e-5,
        "summaries",
      );
      assert.deepEqual(seen.map((s) => s.step), [2, 1, 0]);
      const size = spec.rows * spec.columns;
      for (const s of seen) {
        for (let n = 0; n < 5; n++) {
          const offset = (n * spec.steps + s.step) * size;
          assert.deepEqual(
            Array.from(s.relevance.subarray(n * size, (n + 1) * size)),
            Array.from(chunked.relevance.subarray(offset, offset + size)),
          );
        }
      }
      await assert.rejects(
        relevancePass(model, input, composite, { maxBatch: 0 }),
        /maxBatch must be an integer ≥ 1/,
      );
    });
  } finally {
    model.dispose();
  }
});

Deno.test("relevancePass() hands out each step before it works on the earlier steps", async () => {
  await initBackend("wasm");
  for (const architecture of ["r_lstm", "conv_r_lstm", "deep"] as const) {
    const spec = tinySpec(architecture, { steps: 4 });
    const model = await createLiveModel(spec, { seed: 5 });
    const input = randomInput(spec, 2, 9);
    try {
      // Log every rule application and every streamed step, in order.
      const log: string[] = [];
      const base = createComposite("lrp_alpha_beta", { alpha: 1.5, beta: 0.5 });
      const composite = {
        ...base,
        ruleFor: (slot: Parameters<typeof base.ruleFor>[0]) => {
          const rule = base.ruleFor(slot);
          return {
            ...rule,
            normalize: (...args: Parameters<typeof rule.normalize>) => {
              log.push("rule");
              return rule.normalize(...args);
            },
          };
        },
      };
      await assertNoLeak(async () => {
        await relevancePass(model, input, composite, {
          onStep: (s) => log.push(`step ${s.step}`),
        });
      });
      const first = log.indexOf("step 3");
      const last = log.indexOf("step 0");
      assert.ok(first >= 0 && last > first, architecture);
      // Rules ran between the first and the last streamed step: step 3 was
      // handed out while steps 2…0 were still to be explained.
      assert.ok(
        log.slice(first, last).includes("rule"),
        `${architecture}: ${log.join(", ")}`,
      );
    } finally {
      model.dispose();
    }
  }
});
