import assert from "node:assert/strict";
import { initBackend } from "../../backend.ts";
import { assertClose, assertNoLeak } from "../_testing.ts";
import { gradientXInput } from "./gradient_x_input.ts";
import {
  plainGradient,
  randomInput,
  targetLogits,
  tinyModel,
} from "./_testing.ts";

await initBackend("wasm");

Deno.test("gradientXInput() equals tf.grad × x", async (t) => {
  for (
    const architecture of ["r_lstm", "conv_r_lstm", "conv_plus_deep"] as const
  ) {
    await t.step(architecture, async () => {
      await assertNoLeak(async () => {
        const model = tinyModel(architecture);
        try {
          const input = randomInput(model, 3, 41);
          const explanation = await gradientXInput(model, input);
          const grad = plainGradient(model, input.x, 3, input.labels);
          const expected = grad.map((g, i) => g * input.x[i]!);
          assert.ok(expected.some((v) => v !== 0), "gradient vanishes");
          assertClose(explanation.relevance, expected, 1e-5, "R");
          assert.equal(explanation.method, "gradient_x_input");
        } finally {
          model.dispose();
        }
      });
    });
  }
});

Deno.test("gradientXInput() reports residual f(x) − Σ R, zero for bias-free ReLU networks", async (t) => {
  // Bias-free ReLU networks with zero initial states are positively
  // homogeneous, f(λx) = λ f(x), so f(x) = Σ_i x_i ∂f/∂x_i (Euler).
  for (const architecture of ["shallow", "deep", "conv_deep"] as const) {
    await t.step(architecture, async () => {
      await assertNoLeak(async () => {
        const model = tinyModel(architecture, { bias: "none" });
        try {
          const input = randomInput(model, 3, 43);
          const explanation = await gradientXInput(model, input);
          const logits = targetLogits(model, input.x, 3, input.labels);
          explanation.summaries.forEach((s, n) => {
            assert.ok(
              Math.abs(logits[n]!) > 1e-3,
              `dead network: f = ${logits[n]}`,
            );
            assertClose([s.startRelevance], [logits[n]!], 1e-5, "start");
            assert.equal(s.absorbedRelevance, 0);
            assert.equal(s.initialStateRelevance, 0);
            assert.equal(s.residual, s.startRelevance - s.inputRelevance);
            assert.ok(
              Math.abs(s.residual) <= 1e-4 * Math.abs(s.startRelevance),
              `residual ${s.residual} of f = ${s.startRelevance}`,
            );
          });
        } finally {
          model.dispose();
        }
      });
    });
  }
  await t.step("r_lstm (gates break homogeneity)", async () => {
    await assertNoLeak(async () => {
      const model = tinyModel("r_lstm", { bias: "none" });
      try {
        const input = randomInput(model, 3, 43);
        const explanation = await gradientXInput(model, input);
        const worst = Math.max(
          ...explanation.summaries.map((s) =>
            Math.abs(s.residual / s.startRelevance)
          ),
        );
        assert.ok(worst > 1e-2, `residual unexpectedly small: ${worst}`);
      } finally {
        model.dispose();
      }
    });
  });
});
