import assert from "node:assert/strict";
import { initBackend } from "../../backend.ts";
import { assertClose, assertNoLeak } from "../_testing.ts";
import { sensitivity } from "./sensitivity.ts";
import { smoothgrad } from "./smoothgrad.ts";
import { gaussianNoise } from "./_noise.ts";
import { plainGradient, randomInput, tinyModel } from "./_testing.ts";

await initBackend("wasm");

Deno.test("smoothgrad() is deterministic by seed", async () => {
  await assertNoLeak(async () => {
    const model = tinyModel("r_lstm");
    try {
      const input = randomInput(model, 2, 81);
      const params = { samples: 4, noise: 0.3, seed: 7 };
      const a = await smoothgrad(model, input, { params });
      const b = await smoothgrad(model, input, { params });
      const c = await smoothgrad(model, input, {
        params: { ...params, seed: 8 },
      });
      assert.deepEqual(a.relevance, b.relevance);
      assert.notDeepEqual(a.relevance, c.relevance);
      assert.deepEqual(a.params, params);
      const defaults = await smoothgrad(model, input);
      assert.deepEqual(defaults.params, { samples: 16, noise: 0.2, seed: 0 });
    } finally {
      model.dispose();
    }
  });
});

Deno.test("smoothgrad() equals sensitivity when noise is 0", async () => {
  await assertNoLeak(async () => {
    const model = tinyModel("conv_r_lstm");
    try {
      const input = randomInput(model, 2, 83);
      const sg = await smoothgrad(model, input, {
        params: { samples: 3, noise: 0 },
      });
      const sa = await sensitivity(model, input);
      assert.ok(sa.relevance.some((v) => v > 0), "gradient vanishes");
      assertClose(sg.relevance, sa.relevance, 1e-5, "R");
    } finally {
      model.dispose();
    }
  });
});

Deno.test("smoothgrad() averages squared gradients at x + ε_k, ε_k shared by all samples", async () => {
  await assertNoLeak(async () => {
    const model = tinyModel("r_lstm");
    try {
      const input = randomInput(model, 2, 85);
      const [samples, noise, seed] = [3, 0.5, 11];
      const sg = await smoothgrad(model, input, {
        params: { samples, noise, seed },
      });
      const size = input.x.length / 2;
      const expected = new Float64Array(input.x.length);
      for (let k = 0; k < samples; k++) {
        const eps = gaussianNoise(seed, k, size, noise);
        const noisy = input.x.map((v, i) => v + eps[i % size]!);
        const g = plainGradient(model, noisy, 2, input.labels);
        for (let i = 0; i < g.length; i++) {
          expected[i]! += g[i]! * g[i]! / samples;
        }
      }
      assertClose(sg.relevance, expected, 1e-5, "R");
      for (const s of sg.summaries) assert.ok(Number.isNaN(s.residual));
    } finally {
      model.dispose();
    }
  });
});

Deno.test("gaussianNoise() draws N(0, std²) values", () => {
  const values = gaussianNoise(3, 0, 20001, 0.5);
  let mean = 0;
  for (const v of values) mean += v / values.length;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2 / values.length;
  // Standard errors: 0.5/√20001 ≈ 0.0035 for the mean, ≈ 0.0025 for the variance.
  assert.ok(Math.abs(mean) < 0.015, `mean ${mean}`);
  assert.ok(Math.abs(variance - 0.25) < 0.01, `variance ${variance}`);
  assert.notDeepEqual(gaussianNoise(3, 1, 8, 1), gaussianNoise(3, 0, 8, 1));
  assert.deepEqual(gaussianNoise(3, 1, 8, 1), gaussianNoise(3, 1, 8, 1));
});

Deno.test("smoothgrad() throws RangeError for invalid parameters", async (t) => {
  const model = tinyModel("r_lstm");
  try {
    const input = randomInput(model, 1, 87);
    const cases: [string, Record<string, number>, string][] = [
      [
        "samples 0",
        { samples: 0 },
        "Cannot explain with samples = 0: samples must be an integer in [1, 1024]",
      ],
      [
        "noise -0.1",
        { noise: -0.1 },
        "Cannot explain with noise = -0.1: noise must be a finite number ≥ 0",
      ],
      [
        "noise Infinity",
        { noise: Infinity },
        "Cannot explain with noise = Infinity: noise must be a finite number ≥ 0",
      ],
      [
        "seed -1",
        { seed: -1 },
        "Cannot explain with seed = -1: seed must be an integer in [0, 4294967295]",
      ],
      [
        "unused steps",
        { steps: 4 },
        'Cannot explain with "steps": method "smoothgrad" does not use it (it takes samples, noise, seed)',
      ],
    ];
    for (const [name, params, message] of cases) {
      await t.step(name, async () => {
        await assertNoLeak(async () => {
          await assert.rejects(
            smoothgrad(model, input, { params }),
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
