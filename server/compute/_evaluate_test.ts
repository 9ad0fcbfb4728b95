import assert from "node:assert/strict";
import {
  blockMetrics,
  blockShares,
  buildProblem,
  explain,
  predict,
  type Problem,
  resolveParams,
  stepRelevance,
  summarize,
  tensorMemory,
} from "../../models/mod.ts";
import { loadDataset } from "../datasets/mod.ts";
import { OutOfRangeError, PreconditionError } from "../errors.ts";
import { defaultNegative } from "./_evaluate.ts";
import { loadHere, saveModel, TINY_SPEC, withTempDir } from "./_testing.ts";
import { createComputePool } from "./pool.ts";
import type {
  DataSourceRef,
  EvaluateProgressEvent,
  ExplainerConfig,
} from "./protocol.ts";

const SOURCE: DataSourceRef = {
  dataset: "mnist",
  problem: "majority",
  split: { kind: "standard" },
  seed: 3,
};
const EXPLAINERS: ExplainerConfig[] = [
  { method: "lrp_alpha_beta", params: { alpha: 1.5, beta: 0.5 } },
  { method: "gradient_x_input" },
];

async function localProblem(): Promise<Problem> {
  const { train, test } = await loadDataset("mnist");
  return buildProblem({ train, test }, {
    problem: "majority",
    steps: 12,
    split: SOURCE.split,
    seed: SOURCE.seed,
  });
}

Deno.test("defaultNegative() clips LRP-αβ with β > 0 and keeps everything else", () => {
  assert.equal(
    defaultNegative("lrp_alpha_beta", { alpha: 1.5, beta: 0.5 }),
    "clip",
  );
  assert.equal(
    defaultNegative("lrp_alpha_beta", { alpha: 1, beta: 0 }),
    "keep",
  );
  assert.equal(defaultNegative("deep_taylor", {}), "keep");
  assert.equal(defaultNegative("gradient_x_input", {}), "keep");
});

Deno.test("ComputePool.run() evaluates exactly as blockMetrics and summarize in-process", async () => {
  await withTempDir(async (dir) => {
    const ref = await saveModel(dir, "tiny");
    using pool = createComputePool({ workers: 1 });
    const events: EvaluateProgressEvent[] = [];
    const { reports } = await pool.run({
      kind: "evaluate",
      model: ref,
      data: SOURCE,
      maxSamples: 30,
      batchSize: 20,
      explainers: EXPLAINERS,
      perSample: true,
    }, { onEvent: (e) => events.push(e) });
    assert.deepEqual(
      events.map((e) => [e.samplesDone, e.samplesTotal]),
      [[20, 60], [30, 60], [50, 60], [60, 60]],
    );

    const problem = await localProblem();
    const size = 12 * 196;
    const x = problem.test.x.subarray(0, 30 * size);
    const labels = problem.test.labels.subarray(0, 30);
    const marks = problem.test.marks!.subarray(0, 90);
    const before = tensorMemory().numTensors;
    const model = await loadHere(ref);
    try {
      const { predicted } = await predict(model, x, 30);
      const accuracy = predicted.filter((p, i) => p === labels[i]).length / 30;
      for (const [k, { method, params }] of EXPLAINERS.entries()) {
        const report = reports[k]!;
        const negative = k === 0 ? "clip" : "keep";
        const relevance = new Float32Array(30 * size);
        for (const [start, n] of [[0, 20], [20, 10]] as const) {
          const part = await explain(
            model,
            {
              x: x.subarray(start * size, (start + n) * size),
              count: n,
              labels: labels.subarray(start, start + n),
            },
            method,
            params === undefined ? {} : { params },
          );
          relevance.set(part.relevance, start * size);
        }
        const values = blockMetrics(relevance, marks, 30, {
          steps: 12,
          columns: 7,
          negative,
        });
        assert.equal(report.method, method);
        assert.equal(report.negative, negative);
        assert.equal(report.sampleCount, 30);
        assert.equal(report.modelAccuracy, accuracy);
        assert.deepEqual(
          report.cosineSimilarity,
          summarize(values.cosineSimilarity),
        );
        assert.deepEqual(
          report.correctBlockShare,
          summarize(values.correctBlockShare),
        );
        assert.deepEqual(
          report.relevanceMassAccuracy,
          summarize(values.relevanceMassAccuracy),
        );
        assert.deepEqual(
          report.relevanceRankAccuracy,
          summarize(values.relevanceRankAccuracy),
        );
        const per = report.perSample!;
        assert.deepEqual(per.cosineSimilarity, values.cosineSimilarity);
        assert.deepEqual(per.labels, labels.slice());
        assert.deepEqual(per.predicted, predicted);
        assert.deepEqual(
          per.indices,
          Uint32Array.from({ length: 30 }, (_, i) => i),
        );
        const steps = stepRelevance(
          relevance,
          30,
          { steps: 12, stepSize: 196 },
          negative,
        );
        assert.deepEqual(per.blockRelevance, blockShares(steps, 30, 12));
      }
      assert.deepEqual(reports[0]!.params, {
        ...resolveParams("lrp_alpha_beta", EXPLAINERS[0]!.params),
      });
    } finally {
      model.dispose();
    }
    assert.equal(tensorMemory().numTensors, before);
    // An explicit choice overrides the per-method default.
    const kept = await pool.run({
      kind: "evaluate",
      model: ref,
      data: SOURCE,
      maxSamples: 5,
      explainers: EXPLAINERS.slice(0, 1),
      negative: "keep",
    });
    assert.equal(kept.reports[0]!.negative, "keep");
    assert.equal(kept.reports[0]!.perSample, undefined);
  });
});

Deno.test("ComputePool.run() refuses evaluations that cannot be scored, with typed errors", async () => {
  await withTempDir(async (dir) => {
    const ref = await saveModel(dir, "tiny");
    const sequence = await saveModel(dir, "sequence", {
      ...TINY_SPEC,
      steps: 4,
      columns: 7,
    });
    using pool = createComputePool({ workers: 1 });
    const task = {
      kind: "evaluate",
      model: ref,
      data: SOURCE,
      maxSamples: 2,
      explainers: EXPLAINERS,
    } as const;
    await assert.rejects(
      pool.run({ ...task, explainers: [] }),
      (e: unknown) =>
        e instanceof RangeError &&
        e.message === "Cannot evaluate: at least one explainer is required",
    );
    await assert.rejects(
      pool.run({ ...task, data: { ...SOURCE, problem: "sequence" } }),
      RangeError,
    );
    await assert.rejects(
      pool.run({
        ...task,
        explainers: [{
          method: "lrp_alpha_beta",
          params: { alpha: 3, beta: 1 },
        }],
      }),
      RangeError,
    );
    await assert.rejects(
      pool.run({ ...task, model: sequence }),
      (e: unknown) =>
        e instanceof PreconditionError &&
        /its input is 28×28 in 4 steps, expected 28×84/.test(e.message),
    );
  });
});

Deno.test("ComputePool.run() resolves dataset samples inside the worker", async () => {
  await withTempDir(async (dir) => {
    const ref = await saveModel(dir, "tiny");
    using pool = createComputePool({ workers: 1 });
    const problem = await localProblem();
    const size = 12 * 196;
    const raw = problem.train.x.slice(5 * size, 6 * size);
    const result = await pool.run({
      kind: "classify",
      model: ref,
      inputs: [
        { sample: { source: SOURCE, part: "test", index: 3 } },
        { values: raw },
        { sample: { source: SOURCE, part: "train", index: 5, steps: 12 } },
      ],
    });
    assert.deepEqual(result.labels, [
      problem.test.labels[3],
      null,
      problem.train.labels[5],
    ]);
    const model = await loadHere(ref);
    try {
      const x = new Float32Array(3 * size);
      x.set(problem.test.x.subarray(3 * size, 4 * size), 0);
      x.set(raw, size);
      x.set(raw, 2 * size);
      assert.deepEqual(result.logits, (await predict(model, x, 3)).logits);
    } finally {
      model.dispose();
    }
    await assert.rejects(
      pool.run({
        kind: "classify",
        model: ref,
        inputs: [{ sample: { source: SOURCE, part: "test", index: 2000 } }],
      }),
      (e: unknown) =>
        e instanceof OutOfRangeError &&
        e.message ===
          "Cannot use inputs[0]: index 2000 is past the last sample 1999 of the test part",
    );
    await assert.rejects(
      pool.run({
        kind: "classify",
        model: ref,
        inputs: [{
          sample: { source: SOURCE, part: "test", index: 0, steps: 6 },
        }],
      }),
      RangeError,
    );
  });
});
