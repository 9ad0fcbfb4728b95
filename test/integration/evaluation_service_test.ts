/**
 * EvaluationService end to end on a seeded tiny majority-sample R-LSTM and
 * the embedded MNIST digits: progress then one report per explainer, and
 * each failure path with its exact status.
 */
import assert from "node:assert/strict";
import {
  Dataset,
  decodeTensor,
  type EvaluateRequest,
  Method,
  NegativeRelevance,
  type PartialMessage,
  PerturbationFill,
  Problem,
  SplitPart,
  Status,
} from "../../client/mod.ts";
import {
  assertStatus,
  collect,
  importModel,
  startTestServer,
} from "../_helpers.ts";

const MAJORITY = {
  dataset: Dataset.DATASET_MNIST,
  problem: Problem.PROBLEM_MAJORITY,
  seed: 5,
};

Deno.test("EvaluationService.Evaluate streams progress, then one report per explainer with per-sample values", async () => {
  await using t = await startTestServer();
  using client = t.connect();
  await importModel(client, "m1");
  const messages = await collect(client.evaluate({
    modelId: "m1",
    data: MAJORITY,
    part: SplitPart.SPLIT_PART_TEST,
    maxSamples: 8,
    explainers: [
      { method: Method.METHOD_LRP_ALPHA_BETA, params: { alpha: 2 } },
      { method: Method.METHOD_SENSITIVITY },
    ],
    includePerSample: true,
  }));
  const progress = messages.filter((m) => m.event?.$case === "progress");
  const reports = messages.flatMap((m) =>
    m.event?.$case === "report" ? [m.event.report] : []
  );
  assert.ok(progress.length >= 1);
  assert.equal(messages.at(-1)?.event?.$case, "report");
  const lastProgress = progress.at(-1)!.event;
  assert.ok(lastProgress?.$case === "progress");
  assert.equal(lastProgress.progress.samplesTotal, 16);
  assert.equal(reports.length, 2);
  const [ab, sens] = reports;
  assert.equal(ab!.explainer?.method, Method.METHOD_LRP_ALPHA_BETA);
  assert.equal(ab!.explainer?.params?.beta, 1, "defaults are filled in");
  assert.equal(
    ab!.negativeRelevance,
    NegativeRelevance.NEGATIVE_RELEVANCE_CLIP,
    "the thesis clips negative relevance for LRP-αβ with β > 0",
  );
  assert.equal(
    sens!.negativeRelevance,
    NegativeRelevance.NEGATIVE_RELEVANCE_KEEP,
  );
  for (const r of reports) {
    assert.equal(r.sampleCount, 8);
    const s = r.perSample!;
    assert.equal(s.indices.length, 8);
    assert.deepEqual(decodeTensor(s.blockRelevances!).shape, [8, 3]);
    const mean = s.cosineSimilarities.reduce((a, v) => a + v, 0) / 8;
    assert.ok(Math.abs(mean - r.cosineSimilarity!.mean) < 1e-9);
    assert.ok(r.cosineSimilarity!.ci95Low <= r.cosineSimilarity!.mean);
    assert.ok(r.relevanceRankAccuracy!.mean >= 0);
    assert.ok(r.relevanceRankAccuracy!.mean <= 1);
  }
});

Deno.test("EvaluationService answers each failure with its exact status", async (t) => {
  await using server = await startTestServer();
  using client = server.connect();
  await importModel(client, "m1");
  await importModel(client, "narrow", {
    architecture: "r_lstm",
    steps: 4,
    columns: 7,
    layers: { in1: 8, recur: 8 },
  }, { problem: "sequence" });
  const base: PartialMessage<EvaluateRequest> = {
    modelId: "m1",
    data: MAJORITY,
    maxSamples: 2,
    explainers: [{ method: Method.METHOD_LRP_EPSILON }],
  };
  const evaluate = (patch: PartialMessage<EvaluateRequest>) =>
    collect(client.evaluate({ ...base, ...patch }));
  await t.step("an unknown model is NOT_FOUND", async () => {
    await assertStatus(evaluate({ modelId: "nope" }), Status.NOT_FOUND);
  });
  await t.step(
    "a sequence problem, no explainers or bad parameters are INVALID_ARGUMENT",
    async () => {
      await assertStatus(
        evaluate({ data: { ...MAJORITY, problem: Problem.PROBLEM_SEQUENCE } }),
        Status.INVALID_ARGUMENT,
        /majority problem/,
      );
      await assertStatus(evaluate({ explainers: [] }), Status.INVALID_ARGUMENT);
      await assertStatus(
        evaluate({
          explainers: [{
            method: Method.METHOD_LRP_ALPHA_BETA,
            params: { alpha: 0.5 },
          }],
        }),
        Status.INVALID_ARGUMENT,
      );
      await assertStatus(
        evaluate({
          data: { ...MAJORITY, dataset: Dataset.DATASET_UNSPECIFIED },
        }),
        Status.INVALID_ARGUMENT,
        /data\.dataset/,
      );
    },
  );
  await t.step(
    "a model whose input is not 28 × 84 is FAILED_PRECONDITION",
    async () => {
      await assertStatus(
        evaluate({ modelId: "narrow" }),
        Status.FAILED_PRECONDITION,
      );
    },
  );
  await t.step(
    "a sample index past the end of its part is OUT_OF_RANGE",
    async () => {
      await assertStatus(
        client.classify({
          modelId: "m1",
          inputs: [{
            source: {
              $case: "sample",
              sample: { source: MAJORITY, index: 1_000_000 },
            },
          }],
        }),
        Status.OUT_OF_RANGE,
      );
    },
  );
});

Deno.test("EvaluationService.Evaluate adds region perturbation (AOPC) with a shared random baseline when asked", async () => {
  await using t = await startTestServer();
  using client = t.connect();
  await importModel(client, "m1");
  const request: PartialMessage<EvaluateRequest> = {
    modelId: "m1",
    data: MAJORITY,
    maxSamples: 6,
    explainers: [
      { method: Method.METHOD_SENSITIVITY },
      { method: Method.METHOD_LRP_EPSILON },
    ],
    regionPerturbation: { steps: 5, seed: 3, maxSamples: 4 },
  };
  const reports = (await collect(client.evaluate(request))).flatMap((m) =>
    m.event?.$case === "report" ? [m.event.report] : []
  );
  assert.equal(reports.length, 2);
  for (const r of reports) {
    const p = r.regionPerturbation!;
    assert.equal(p.sampleCount, 4);
    assert.equal(p.curve.length, 6, "the unperturbed score, then 5 steps");
    assert.equal(p.randomCurve.length, 6);
    assert.equal(
      p.options?.patchSize,
      4,
      "the default patch size is filled in",
    );
    assert.equal(
      p.options?.fill,
      PerturbationFill.PERTURBATION_FILL_UNIFORM,
      "uniform noise is the default fill",
    );
    assert.equal(
      p.curve[0],
      p.randomCurve[0],
      "both start from the same input",
    );
    // AOPC is the mean drop from the first point of each sample's curve, so
    // its mean over samples equals the mean curve's own AOPC.
    const drop = p.curve.reduce((a, v) => a + (p.curve[0]! - v), 0) / 6;
    assert.ok(Math.abs(drop - p.aopc!.mean) < 1e-4);
  }
  assert.deepEqual(
    reports[0]!.regionPerturbation!.randomCurve,
    reports[1]!.regionPerturbation!.randomCurve,
  );
  const again = (await collect(client.evaluate(request))).flatMap((m) =>
    m.event?.$case === "report" ? [m.event.report] : []
  );
  assert.deepEqual(
    again[0]!.regionPerturbation!.curve,
    reports[0]!.regionPerturbation!.curve,
    "seeded",
  );
  const none = (await collect(client.evaluate({
    ...request,
    regionPerturbation: undefined,
  }))).flatMap((m) => m.event?.$case === "report" ? [m.event.report] : []);
  assert.equal(none[0]!.regionPerturbation, undefined);
  await assertStatus(
    collect(client.evaluate({
      ...request,
      regionPerturbation: { steps: 1000 },
    })),
    Status.INVALID_ARGUMENT,
    /region_perturbation\.steps/,
  );
});
