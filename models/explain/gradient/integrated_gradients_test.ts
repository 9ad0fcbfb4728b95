import assert from "node:assert/strict";
import { initBackend } from "../../backend.ts";
import { assertClose, assertNoLeak } from "../_testing.ts";
import { integratedGradients } from "./integrated_gradients.ts";
import {
  plainGradient,
  randomInput,
  targetLogits,
  tinyModel,
} from "./_testing.ts";

await initBackend("wasm");

Deno.test("integratedGradients() is complete within an error that shrinks with steps", async (t) => {
  // Along the path a ReLU network's gradient is piecewise constant (smooth
  // between kinks with sigmoid gates), so the midpoint rule's error is
  // O(1/steps): each kink costs at most one step's share of its jump. Over
  // six samples of these seeds Σ|residual| / Σ|f(x) − f(x̄)| measured
  // 2e-2 … 8e-2 at 8 steps and 1e-3 … 4e-3 at 256 steps.
  for (const architecture of ["r_lstm", "conv_r_lstm", "deep"] as const) {
    await t.step(architecture, async () => {
      await assertNoLeak(async () => {
        const model = tinyModel(architecture);
        try {
          const input = randomInput(model, 6, 8);
          const error = async (steps: number) => {
            const e = await integratedGradients(model, input, {
              params: { steps },
            });
            const baseline = new Float32Array(input.x.length).fill(-1);
            const fx = targetLogits(model, input.x, 6, input.labels);
            const fb = targetLogits(model, baseline, 6, input.labels);
            let residual = 0;
            let start = 0;
            e.summaries.forEach((s, n) => {
              assertClose([s.startRelevance], [fx[n]! - fb[n]!], 1e-4, "start");
              assert.ok(
                Math.abs(s.residual - (s.startRelevance - s.inputRelevance)) <=
                  1e-6,
              );
              residual += Math.abs(s.residual);
              start += Math.abs(s.startRelevance);
            });
            assert.ok(start > 1e-3, "f(x) = f(baseline): nothing to attribute");
            return residual / start;
          };
          const coarse = await error(8);
          const fine = await error(256);
          assert.ok(coarse <= 0.25, `8 steps: relative error ${coarse}`);
          assert.ok(fine <= 0.01, `256 steps: relative error ${fine}`);
          assert.ok(
            fine < coarse / 4,
            `error did not shrink: ${coarse} → ${fine}`,
          );
        } finally {
          model.dispose();
        }
      });
    });
  }
});

Deno.test("integratedGradients() evaluates the gradient at the midpoints of the path", async () => {
  await assertNoLeak(async () => {
    const model = tinyModel("r_lstm");
    try {
      const input = randomInput(model, 2, 71);
      for (const baseline of [-1, 0.25]) {
        const e = await integratedGradients(model, input, {
          params: { steps: 2, baseline },
        });
        assert.deepEqual(e.params, { steps: 2, baseline });
        // R = (x − x̄) ⊙ (g(x̄ + ¼(x − x̄)) + g(x̄ + ¾(x − x̄))) / 2
        const at = (alpha: number) =>
          plainGradient(
            model,
            input.x.map((v) => baseline + alpha * (v - baseline)),
            2,
            input.labels,
          );
        const [g1, g3] = [at(0.25), at(0.75)];
        const expected = input.x.map((v, i) =>
          (v - baseline) * (g1[i]! + g3[i]!) / 2
        );
        assert.ok(expected.some((v) => v !== 0), "gradient vanishes");
        assertClose(e.relevance, expected, 1e-5, `baseline ${baseline}`);
      }
    } finally {
      model.dispose();
    }
  });
});

Deno.test("integratedGradients() gives the same result however the path is chunked", async () => {
  await assertNoLeak(async () => {
    const model = tinyModel("conv_r_lstm");
    try {
      const input = randomInput(model, 3, 73);
      const whole = await integratedGradients(model, input, {
        params: { steps: 5 },
      });
      // 2 rows per pass: path points split within a sample.
      const chunked = await integratedGradients(model, input, {
        params: { steps: 5 },
        maxBatch: 2,
      });
      assertClose(chunked.relevance, whole.relevance, 1e-5, "R");
    } finally {
      model.dispose();
    }
  });
});

Deno.test("integratedGradients() throws RangeError for invalid parameters before any work", async (t) => {
  const model = tinyModel("r_lstm");
  try {
    const input = randomInput(model, 1, 75);
    const cases: [string, Record<string, number>, string][] = [
      [
        "steps 0",
        { steps: 0 },
        "Cannot explain with steps = 0: steps must be an integer in [1, 1024]",
      ],
      [
        "steps 2.5",
        { steps: 2.5 },
        "Cannot explain with steps = 2.5: steps must be an integer in [1, 1024]",
      ],
      [
        "steps 2000",
        { steps: 2000 },
        "Cannot explain with steps = 2000: steps must be an integer in [1, 1024]",
      ],
      [
        "baseline NaN",
        { baseline: NaN },
        "Cannot explain with baseline = NaN: baseline must be a finite number",
      ],
      [
        "unused alpha",
        { alpha: 2 },
        'Cannot explain with "alpha": method "integrated_gradients" does not use it (it takes steps, baseline)',
      ],
    ];
    for (const [name, params, message] of cases) {
      await t.step(name, async () => {
        await assertNoLeak(async () => {
          await assert.rejects(
            integratedGradients(model, input, { params }),
            (err: unknown) => {
              assert.ok(err instanceof RangeError);
              assert.equal(err.message, message);
              return true;
            },
          );
        });
      });
    }
  } finally {
    model.dispose();
  }
});
