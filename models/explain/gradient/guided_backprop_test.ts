import assert from "node:assert/strict";
import { initBackend } from "../../backend.ts";
import { assertClose, assertNoLeak } from "../_testing.ts";
import { guidedBackprop } from "./guided_backprop.ts";
import { sensitivity } from "./sensitivity.ts";
import { mapWeights, randomInput, tinyModel } from "./_testing.ts";

await initBackend("wasm");

const abs = (_name: string, v: Float32Array) => v.map(Math.abs);

Deno.test("guidedBackprop() equals sensitivity where every ReLU gradient is positive", async (t) => {
  // Non-negative weights, no biases and positive inputs: every unit is
  // active and every gradient reaching a ReLU is positive, so the guided
  // ReLU passes everything. With "keep", the R-LSTM's gate paths are
  // positive too (∂h/∂z of each gate is o·g·σ', c_prev·o·σ', c·σ' ≥ 0).
  const cases = [
    ["deep", "zero"],
    ["conv_deep", "zero"],
    ["r_lstm", "keep"],
  ] as const;
  for (const [architecture, gateGradient] of cases) {
    await t.step(`${architecture}, gateGradient ${gateGradient}`, async () => {
      await assertNoLeak(async () => {
        const model = tinyModel(architecture, { bias: "none" });
        try {
          await mapWeights(model, abs);
          const input = randomInput(model, 2, 51, 0.1, 1);
          const sa = await sensitivity(model, input);
          const gb = await guidedBackprop(model, input, {
            params: { gateGradient },
          });
          assert.ok(sa.relevance.some((v) => v > 0), "gradient vanishes");
          assertClose(gb.relevance, sa.relevance, 1e-5, "GB vs SA");
          assert.deepEqual(gb.params, { gateGradient });
        } finally {
          model.dispose();
        }
      });
    });
  }
});

Deno.test("guidedBackprop() stops negative gradients at ReLUs", async (t) => {
  await t.step(
    "all logit weights negative: the guided gradient is zero",
    async () => {
      await assertNoLeak(async () => {
        const model = tinyModel("deep", { bias: "none" });
        try {
          await mapWeights(
            model,
            (name, v) =>
              name === "out2.kernel"
                ? v.map((w) => -Math.abs(w))
                : v.map(Math.abs),
          );
          const input = randomInput(model, 2, 53, 0.1, 1);
          const sa = await sensitivity(model, input);
          const gb = await guidedBackprop(model, input);
          assert.ok(sa.relevance.some((v) => v > 0), "plain gradient vanishes");
          assert.ok(
            gb.relevance.every((v) => v === 0),
            "guided gradient passed a negative gradient",
          );
        } finally {
          model.dispose();
        }
      });
    },
  );
  await t.step(
    "mixed-sign logit weights: only the positive ones pass",
    async () => {
      // out1 is a ReLU layer whose units are all active; the gradient reaching
      // unit j is out2.kernel[j, target]. Guided backprop keeps it where it is
      // positive, and everything below is positive, so GB equals sensitivity of
      // the same network with out2.kernel clamped at 0.
      await assertNoLeak(async () => {
        const model = tinyModel("deep", { bias: "none" });
        const clamped = tinyModel("deep", { bias: "none" });
        try {
          let negatives = 0;
          await mapWeights(model, (name, v) => {
            if (name !== "out2.kernel") return v.map(Math.abs);
            negatives = v.filter((w) => w < 0).length;
            return v;
          });
          assert.ok(negatives > 0, "no negative logit weight to test");
          await mapWeights(
            clamped,
            (name, v) =>
              name === "out2.kernel"
                ? v.map((w) => Math.max(w, 0))
                : v.map(Math.abs),
          );
          const input = randomInput(model, 3, 55, 0.1, 1);
          const gb = await guidedBackprop(model, input);
          const reference = await sensitivity(clamped, input);
          const sa = await sensitivity(model, input);
          assert.ok(
            reference.relevance.some((v) => v > 0),
            "reference vanishes",
          );
          assertClose(
            gb.relevance,
            reference.relevance,
            1e-5,
            "GB vs clamped SA",
          );
          assert.ok(
            sa.relevance.some((v, i) =>
              Math.abs(v - gb.relevance[i]!) > 1e-3 * v
            ),
            "GB equals SA: the case cannot fail",
          );
        } finally {
          model.dispose();
          clamped.dispose();
        }
      });
    },
  );
});

Deno.test("guidedBackprop() gateGradient zero and keep differ on R-LSTM only", async (t) => {
  await t.step("r_lstm, random weights", async () => {
    await assertNoLeak(async () => {
      const model = tinyModel("r_lstm");
      try {
        const input = randomInput(model, 2, 57);
        const zero = await guidedBackprop(model, input);
        const keep = await guidedBackprop(model, input, {
          params: { gateGradient: "keep" },
        });
        assert.deepEqual(zero.params, { gateGradient: "zero" });
        let diff = 0;
        let norm = 0;
        for (let i = 0; i < zero.relevance.length; i++) {
          diff += Math.abs(zero.relevance[i]! - keep.relevance[i]!);
          norm += keep.relevance[i]!;
        }
        assert.ok(
          norm > 0 && diff > 0.01 * norm,
          `relative difference ${diff / norm}`,
        );
      } finally {
        model.dispose();
      }
    });
  });
  await t.step(
    "r_lstm, non-negative weights: zeroing gate paths only removes gradient",
    async () => {
      await assertNoLeak(async () => {
        const model = tinyModel("r_lstm", { bias: "none" });
        try {
          await mapWeights(model, abs);
          const input = randomInput(model, 2, 59, 0.1, 1);
          const zero = await guidedBackprop(model, input);
          const keep = await guidedBackprop(model, input, {
            params: { gateGradient: "keep" },
          });
          // Every path is positive, so each gradient is a sum of positive path
          // terms; zeroing the gates drops some terms.
          assert.ok(
            zero.relevance.every((v, i) =>
              v <= keep.relevance[i]! * (1 + 1e-5)
            ),
          );
          assert.ok(
            zero.relevance.some((v, i) => v < 0.99 * keep.relevance[i]!),
          );
        } finally {
          model.dispose();
        }
      });
    },
  );
  await t.step("deep (no gates): identical", async () => {
    await assertNoLeak(async () => {
      const model = tinyModel("deep");
      try {
        const input = randomInput(model, 2, 61);
        const zero = await guidedBackprop(model, input);
        const keep = await guidedBackprop(model, input, {
          params: { gateGradient: "keep" },
        });
        assert.deepEqual(zero.relevance, keep.relevance);
      } finally {
        model.dispose();
      }
    });
  });
});

Deno.test("guidedBackprop() throws RangeError for an unknown gateGradient", async () => {
  await assertNoLeak(async () => {
    const model = tinyModel("r_lstm");
    try {
      const input = randomInput(model, 1, 63);
      await assert.rejects(
        guidedBackprop(model, input, {
          params: { gateGradient: "maybe" as "zero" },
        }),
        (err: unknown) =>
          err instanceof RangeError &&
          err.message ===
            'Cannot explain with gateGradient = "maybe": gateGradient must be "zero" or "keep"',
      );
    } finally {
      model.dispose();
    }
  });
});
