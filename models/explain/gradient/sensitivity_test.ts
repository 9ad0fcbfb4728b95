import assert from "node:assert/strict";
import { initBackend } from "../../backend.ts";
import { NUM_CLASSES } from "../../arch/spec.ts";
import { argmax } from "../explanation.ts";
import { assertClose, assertNoLeak, createRandom } from "../_testing.ts";
import { sensitivity } from "./sensitivity.ts";
import {
  plainGradient,
  randomInput,
  targetLogits,
  tinyModel,
} from "./_testing.ts";

await initBackend("wasm");

/**
 * Central differences of the target logit at the given coordinates of sample
 * 0, all 2K perturbed copies in one forward pass.
 */
function centralDifferences(
  model: ReturnType<typeof tinyModel>,
  x: Float32Array,
  target: number,
  coordinates: number[],
  h: number,
): Float64Array {
  const size = x.length;
  const copies = new Float32Array(2 * coordinates.length * size);
  coordinates.forEach((i, k) => {
    copies.set(x, 2 * k * size);
    copies.set(x, (2 * k + 1) * size);
    copies[2 * k * size + i]! += h;
    copies[(2 * k + 1) * size + i]! -= h;
  });
  const count = 2 * coordinates.length;
  const f = targetLogits(model, copies, count, new Array(count).fill(target));
  return Float64Array.from(
    coordinates,
    (_, k) => (f[2 * k]! - f[2 * k + 1]!) / (2 * h),
  );
}

Deno.test("sensitivity() matches central finite differences of the target logit", async (t) => {
  for (const architecture of ["r_lstm", "conv_r_lstm"] as const) {
    await t.step(architecture, async () => {
      await assertNoLeak(async () => {
        const model = tinyModel(architecture);
        try {
          const { steps, rows, columns } = model.spec;
          const input = randomInput(model, 1, 11);
          const target = input.labels[0]!;
          const grad = plainGradient(model, input.x, 1, [target]);
          const explanation = await sensitivity(model, input);
          const random = createRandom(3);
          const coordinates = Array.from(
            { length: 12 },
            () => Math.floor(random() * grad.length),
          );
          // The last column of every step's image: with c = 7 the SAME
          // pooling's edge windows (width 1, then 2 of 4) sit there, where a
          // wrong pooling gradient would show.
          for (let t = 0; t < steps; t++) {
            for (let r = 0; r < rows; r++) {
              coordinates.push(t * rows * columns + r * columns + columns - 1);
            }
          }
          // h = 1e-3: float32 rounding of the logit (|f| < 1, relative 1e-7)
          // then costs < 1e-4 of a gradient, and for these seeds no ReLU kink
          // lies within ±h (with h ≥ 3e-3 tiny networks crossed kinks).
          const fd = centralDifferences(
            model,
            input.x,
            target,
            coordinates,
            1e-3,
          );
          let scale = 0;
          for (const g of grad) scale = Math.max(scale, Math.abs(g));
          assert.ok(scale > 1e-4, `gradient vanishes: max |g| = ${scale}`);
          coordinates.forEach((i, k) => {
            const g = grad[i]!;
            // Tolerance 1e-2 of the largest gradient (observed ≤ 2e-4): well
            // below a factor-2 pooling-edge error or a wrong coordinate.
            assert.ok(
              Math.abs(fd[k]! - g) <= 1e-2 * scale,
              `x[${i}]: finite difference ${fd[k]}, gradient ${g}`,
            );
            assertClose([explanation.relevance[i]!], [g * g], 1e-5, `R[${i}]`);
          });
        } finally {
          model.dispose();
        }
      });
    });
  }
});

Deno.test("sensitivity() equals the squared tf.grad gradient and summarises each sample", async () => {
  await assertNoLeak(async () => {
    const model = tinyModel("r_lstm");
    try {
      const input = randomInput(model, 4, 21);
      const explanation = await sensitivity(model, input);
      const grad = plainGradient(model, input.x, 4, input.labels);
      assertClose(explanation.relevance, grad.map((g) => g * g), 1e-5, "R");
      assert.equal(explanation.method, "sensitivity");
      assert.deepEqual(explanation.params, {});
      const logits = targetLogits(model, input.x, 4, input.labels);
      const size = input.x.length / 4;
      explanation.summaries.forEach((s, n) => {
        assert.equal(s.targetClass, input.labels[n]);
        assertClose([s.targetLogit], [logits[n]!], 1e-5, "target logit");
        let sum = 0;
        for (let i = 0; i < size; i++) {
          sum += explanation.relevance[n * size + i]!;
        }
        assertClose([s.inputRelevance], [sum], 1e-6, "input relevance");
        assert.ok(s.inputRelevance > 0);
        for (
          const v of [
            s.startRelevance,
            s.absorbedRelevance,
            s.initialStateRelevance,
            s.residual,
          ]
        ) {
          assert.ok(Number.isNaN(v));
        }
      });
    } finally {
      model.dispose();
    }
  });
});

Deno.test("sensitivity() differentiates the predicted class or an explicit class on request", async () => {
  await assertNoLeak(async () => {
    const model = tinyModel("deep");
    try {
      const input = randomInput(model, 3, 31);
      const predicted = await sensitivity(model, input, {
        target: { kind: "predicted" },
      });
      const explicit = await sensitivity(model, input, {
        target: { kind: "class", index: 7 },
      });
      const logits = new Float32Array(3 * NUM_CLASSES);
      for (let k = 0; k < NUM_CLASSES; k++) {
        const f = targetLogits(model, input.x, 3, [k, k, k]);
        for (let n = 0; n < 3; n++) logits[n * NUM_CLASSES + k] = f[n]!;
      }
      const argmaxes = [0, 1, 2].map((n) =>
        argmax(logits, n * NUM_CLASSES, NUM_CLASSES)
      );
      assert.deepEqual(predicted.summaries.map((s) => s.targetClass), argmaxes);
      assert.deepEqual(
        predicted.summaries.map((s) => s.predictedClass),
        argmaxes,
      );
      assert.deepEqual(explicit.summaries.map((s) => s.targetClass), [7, 7, 7]);
      const g = plainGradient(model, input.x, 3, argmaxes);
      assertClose(predicted.relevance, g.map((v) => v * v), 1e-5, "predicted");
      const g7 = plainGradient(model, input.x, 3, [7, 7, 7]);
      assertClose(explicit.relevance, g7.map((v) => v * v), 1e-5, "class 7");
    } finally {
      model.dispose();
    }
  });
});
