import assert from "node:assert/strict";
import { createSpec, type ModelSpecInit } from "../arch/spec.ts";
import { createModel, type RnnModel } from "../arch/rnn_model.ts";
import { withoutLeaks } from "../arch/_testing.ts";
import { fit, type FitProgress } from "./fit.ts";
import { evaluate } from "./evaluate.ts";
import { syntheticData } from "./_testing.ts";

async function withModel<T>(
  init: ModelSpecInit,
  fn: (model: RnnModel) => Promise<T>,
  seed = 1,
): Promise<T> {
  return await withoutLeaks(async () => {
    const model = createModel(createSpec(init), { seed });
    try {
      return await fn(model);
    } finally {
      model.dispose();
    }
  });
}

Deno.test("fit() lowers the loss on a small subset without leaking tensors", async () => {
  for (const architecture of ["deep", "r_lstm"] as const) {
    await withModel({ architecture, steps: 4 }, async (model) => {
      const data = syntheticData(150, model.spec, 1);
      const held = syntheticData(50, model.spec, 2);
      const before = await evaluate(model, held);
      const result = await fit(model, data, {
        epochs: 3,
        batchSize: 25,
        learningRate: 0.003,
        seed: 4,
        validation: held,
      });
      const after = await evaluate(model, held);
      assert.ok(
        after.loss < 0.5 * before.loss,
        `${architecture}: ${before.loss} → ${after.loss}`,
      );
      assert.ok(
        after.accuracy > 0.9,
        `${architecture}: accuracy ${after.accuracy}`,
      );
      assert.ok(result.epochs[2]!.loss < result.epochs[0]!.loss);
      assert.deepEqual(result.epochs[2]!.validation, after);
      assert.equal(result.steps, 18);
    });
  }
});

Deno.test("fit() gives bit-identical weights for the same seed and different ones for another", async () => {
  const train = async (seed: number) =>
    await withModel({
      architecture: "conv_r_lstm",
      steps: 4,
      dropout: "stationary",
    }, async (model) => {
      await fit(model, syntheticData(40, model.spec), {
        epochs: 2,
        batchSize: 10,
        seed,
        learningRate: 0.001,
      });
      return await model.exportWeights();
    });
  const [a, b, c] = [await train(5), await train(5), await train(6)];
  for (const name of Object.keys(a)) {
    assert.deepEqual(b[name]!.data, a[name]!.data, name);
  }
  assert.notDeepEqual(c["lstm.kernel"]!.data, a["lstm.kernel"]!.data);
});

Deno.test("fit() reports progress after every step and summaries after every epoch", async () => {
  await withModel({ architecture: "shallow", steps: 4 }, async (model) => {
    const seen: FitProgress[] = [];
    const epochs: number[] = [];
    const result = await fit(model, syntheticData(30, model.spec), {
      epochs: 2,
      batchSize: 8,
      onProgress: (p) => seen.push(p),
      onEpochEnd: (s) => {
        epochs.push(s.epoch);
      },
    });
    assert.equal(seen.length, 8);
    assert.deepEqual(seen.map((p) => [p.epoch, p.step]), [
      [0, 0],
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 0],
      [1, 1],
      [1, 2],
      [1, 3],
    ]);
    for (const p of seen) {
      assert.equal(p.stepsPerEpoch, 4);
      assert.ok(Number.isFinite(p.loss) && p.loss > 0);
      assert.ok(p.accuracy >= 0 && p.accuracy <= 1);
      assert.ok(p.samplesPerSecond > 0);
      assert.ok(p.etaSeconds >= 0);
    }
    assert.equal(seen.at(-1)!.etaSeconds, 0);
    assert.deepEqual(epochs, [0, 1]);
    assert.equal(result.samplesPerEpoch, 30);
  });
});

Deno.test("fit() trains on a fixed subset with maxSamples and resumes at startEpoch", async () => {
  await withModel({ architecture: "deep", steps: 4 }, async (model) => {
    const data = syntheticData(40, model.spec);
    const subset = await fit(model, data, {
      epochs: 1,
      batchSize: 10,
      maxSamples: 15,
    });
    assert.equal(subset.samplesPerEpoch, 15);
    assert.equal(subset.steps, 2);
    const resumed = await fit(model, data, {
      epochs: 3,
      startEpoch: 2,
      batchSize: 10,
    });
    assert.deepEqual(resumed.epochs.map((e) => e.epoch), [2]);
    assert.equal(resumed.steps, 4);
  });
});

Deno.test("fit() stops between steps when aborted and keeps the model usable", async () => {
  await withModel({ architecture: "r_lstm", steps: 4 }, async (model) => {
    const controller = new AbortController();
    let steps = 0;
    await assert.rejects(
      () =>
        fit(model, syntheticData(50, model.spec), {
          epochs: 5,
          batchSize: 10,
          signal: controller.signal,
          onProgress: () => {
            if (++steps === 3) {
              controller.abort(
                new DOMException("cancelled by test", "AbortError"),
              );
            }
          },
        }),
      /cancelled by test/,
    );
    assert.equal(steps, 3);
    const after = await evaluate(model, syntheticData(10, model.spec));
    assert.ok(Number.isFinite(after.loss));
  });
});

Deno.test("fit() throws RangeError for invalid options before training", async () => {
  await withModel({ architecture: "shallow", steps: 4 }, async (model) => {
    const data = syntheticData(5, model.spec);
    await assert.rejects(
      () => fit(model, data, { epochs: 0 }),
      /epochs must be an integer ≥ 1: got 0/,
    );
    await assert.rejects(
      () => fit(model, data, { batchSize: 2.5 }),
      /batchSize must be an integer ≥ 1/,
    );
    await assert.rejects(
      () => fit(model, data, { learningRate: -1 }),
      /learningRate must be a positive number/,
    );
    await assert.rejects(
      () => fit(model, data, { maxSamples: 0 }),
      /maxSamples must be an integer ≥ 1/,
    );
    await assert.rejects(
      () => fit(model, data, { seed: -1 }),
      /seed must be an integer in \[0, 2\^32 − 1\]: got -1/,
    );
    await assert.rejects(() => fit(model, data, { seed: 0.5 }), RangeError);
    await assert.rejects(() => fit(model, { ...data, count: 6 }), RangeError);
    await assert.rejects(
      () =>
        fit(model, {
          x: [] as unknown as Float32Array,
          labels: data.labels,
          count: 5,
        }),
      TypeError,
    );
  });
});
