/**
 * ExplainService end to end: the registry listing, a streamed explanation
 * (T step messages from T − 1 down to 0, then the summary) matching
 * ExplainBatch, and each failure path with its exact status, including a
 * client cancel and a deadline that stop the worker, and a full queue.
 */
import assert from "node:assert/strict";
import {
  Architecture,
  decodeTensor,
  encodeTensor,
  type ExplainRequest,
  InputDomain,
  Method,
  type PartialMessage,
  Status,
  TargetKind,
} from "../../client/mod.ts";
import {
  assertStatus,
  collect,
  importModel,
  randomValues,
  startTestServer,
  withDeadline,
} from "../_helpers.ts";

const T = 12;
const STEP = 28 * 7;

function tensorInput(x: Float32Array, label?: number) {
  return {
    source: { $case: "tensor" as const, tensor: encodeTensor(x, [T, STEP]) },
    ...(label === undefined ? {} : { label }),
  };
}

Deno.test("ExplainService.ListExplainers lists every method with wire parameter names, defaults and validity", async () => {
  await using t = await startTestServer();
  using client = t.connect();
  const { explainers } = await client.listExplainers({});
  assert.deepEqual(explainers.map((e) => e.method), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(explainers.every((e) => e.valid));
  const ab = explainers.find((e) => e.key === "lrp_alpha_beta")!;
  assert.equal(ab.defaults?.alpha, 1);
  assert.equal(ab.defaults?.beta, 0);
  const alpha = ab.parameters.find((p) => p.name === "alpha")!;
  assert.equal(alpha.constraint, "alpha - beta = 1");
  const smooth = explainers.find((e) => e.key === "smoothgrad")!;
  assert.ok(smooth.parameters.some((p) => p.name === "noise_stddev"));
  const dt = explainers.find((e) => e.key === "deep_taylor")!;
  const domain = dt.parameters.find((p) => p.name === "input_domain")!;
  assert.deepEqual(domain.choices, [
    "INPUT_DOMAIN_BOUNDED",
    "INPUT_DOMAIN_REAL",
  ]);
  assert.equal(domain.defaultChoice, "INPUT_DOMAIN_BOUNDED");

  const shallow = await client.listExplainers({
    subject: {
      $case: "architecture",
      architecture: Architecture.ARCHITECTURE_SHALLOW,
    },
  });
  assert.equal(shallow.explainers.length, 8);
  await importModel(client, "m1");
  const forModel = await client.listExplainers({
    subject: { $case: "modelId", modelId: "m1" },
  });
  assert.equal(forModel.explainers.length, 8);
  await assertStatus(
    client.listExplainers({ subject: { $case: "modelId", modelId: "nope" } }),
    Status.NOT_FOUND,
  );
  await assertStatus(
    client.listExplainers({
      subject: { $case: "architecture", architecture: 0 },
    }),
    Status.INVALID_ARGUMENT,
  );
});

Deno.test("ExplainService.Explain streams T steps from T - 1 down to 0, then the summary, matching ExplainBatch", async () => {
  await using t = await startTestServer();
  using client = t.connect();
  await importModel(client, "m1");
  const x = randomValues(T * STEP, 21);
  const messages = await collect(client.explain({
    modelId: "m1",
    input: tensorInput(x, 2),
    explainer: { method: Method.METHOD_LRP_ALPHA_BETA },
  }));
  assert.equal(messages.length, T + 1);
  const steps = messages.slice(0, T).map((m) => {
    assert.equal(m.event?.$case, "step");
    return m.event?.$case === "step" ? m.event.step : undefined!;
  });
  assert.deepEqual(
    steps.map((s) => s.timestep),
    [...Array(T).keys()].reverse(),
  );
  let total = 0;
  for (const s of steps) {
    const { data, shape } = decodeTensor(s.relevance!);
    assert.deepEqual(shape, [28, 7]);
    const sum = data.reduce((a, v) => a + v, 0);
    assert.ok(Math.abs(sum - s.relevanceSum) < 1e-4 * (1 + Math.abs(sum)));
    total += s.relevanceSum;
  }
  const last = messages[T]!.event;
  assert.equal(last?.$case, "summary");
  if (last?.$case !== "summary") return;
  const summary = last.summary;
  assert.equal(summary.method, Method.METHOD_LRP_ALPHA_BETA);
  assert.equal(summary.params?.alpha, 1, "defaults are echoed");
  assert.equal(summary.params?.beta, 0);
  assert.equal(summary.targetKind, TargetKind.TARGET_KIND_TRUE_LABEL);
  assert.equal(summary.targetClass, 2);
  assert.equal(summary.trueLabel, 2);
  assert.equal(summary.conservative, true);
  assert.ok(Math.abs(total - summary.inputRelevance) < 1e-4);

  const batch = await client.explainBatch({
    modelId: "m1",
    inputs: [tensorInput(x, 2), tensorInput(randomValues(T * STEP, 22))],
    explainer: { method: Method.METHOD_LRP_ALPHA_BETA },
    target: { kind: TargetKind.TARGET_KIND_CLASS, classIndex: 2 },
  });
  const { data, shape } = decodeTensor(batch.relevance!);
  assert.deepEqual(shape, [2, T, 28, 7]);
  for (const s of steps) {
    const streamed = decodeTensor(s.relevance!).data;
    const offset = s.timestep * STEP;
    streamed.forEach((v, i) =>
      assert.ok(Math.abs(v - data[offset + i]!) < 1e-5)
    );
  }
  assert.equal(batch.summaries.length, 2);
  assert.equal(batch.summaries[1]!.targetClass, 2);
  assert.equal(batch.summaries[1]!.targetKind, TargetKind.TARGET_KIND_CLASS);
});

Deno.test("ExplainService answers each failure with its exact status", async (t) => {
  await using server = await startTestServer();
  using client = server.connect();
  await importModel(client, "m1");
  await importModel(client, "shallow", {
    architecture: "shallow",
    steps: 12,
    columns: 7,
    layers: { hidden: 8, recur: 8 },
  });
  const x = randomValues(T * STEP, 23);
  const base: PartialMessage<ExplainRequest> = {
    modelId: "m1",
    input: tensorInput(x),
    explainer: { method: Method.METHOD_LRP_EPSILON },
  };
  const explain = (patch: PartialMessage<ExplainRequest>) =>
    collect(client.explain({ ...base, ...patch }));
  await t.step("an unknown model is NOT_FOUND", async () => {
    await assertStatus(explain({ modelId: "nope" }), Status.NOT_FOUND);
  });
  await t.step("a malformed input is INVALID_ARGUMENT", async () => {
    await assertStatus(
      explain({
        input: {
          source: { $case: "tensor", tensor: encodeTensor(x, [T * STEP]) },
        },
      }),
      Status.INVALID_ARGUMENT,
    );
    await assertStatus(explain({ input: {} }), Status.INVALID_ARGUMENT);
  });
  await t.step(
    "invalid explainer parameters are INVALID_ARGUMENT",
    async () => {
      await assertStatus(
        explain({
          explainer: {
            method: Method.METHOD_LRP_ALPHA_BETA,
            params: { alpha: 2, beta: 0.5 },
          },
        }),
        Status.INVALID_ARGUMENT,
        /alpha - beta must be 1/,
      );
      await assertStatus(
        explain({
          explainer: {
            method: Method.METHOD_LRP_EPSILON,
            params: { epsilon: -1 },
          },
        }),
        Status.INVALID_ARGUMENT,
      );
      await assertStatus(
        explain({
          explainer: {
            method: Method.METHOD_LRP_ALPHA_BETA,
            params: { epsilon: 1 },
          },
        }),
        Status.INVALID_ARGUMENT,
        /does not use "epsilon"/,
      );
      await assertStatus(
        explain({ explainer: { method: Method.METHOD_UNSPECIFIED } }),
        Status.INVALID_ARGUMENT,
      );
      await assertStatus(
        explain({ explainer: undefined }),
        Status.INVALID_ARGUMENT,
      );
      await assertStatus(
        explain({ target: { kind: TargetKind.TARGET_KIND_UNSPECIFIED } }),
        Status.INVALID_ARGUMENT,
      );
    },
  );
  await t.step(
    "a method invalid for the architecture is FAILED_PRECONDITION",
    async () => {
      await assertStatus(
        explain({
          modelId: "shallow",
          explainer: {
            method: Method.METHOD_DEEP_TAYLOR,
            params: { inputDomain: InputDomain.INPUT_DOMAIN_REAL },
          },
        }),
        Status.FAILED_PRECONDITION,
      );
    },
  );
  await t.step(
    "the true label of an unlabelled input is FAILED_PRECONDITION",
    async () => {
      await assertStatus(
        explain({ target: { kind: TargetKind.TARGET_KIND_TRUE_LABEL } }),
        Status.FAILED_PRECONDITION,
        /true label/,
      );
    },
  );
  await t.step("a class past the end is OUT_OF_RANGE", async () => {
    await assertStatus(
      explain({
        target: { kind: TargetKind.TARGET_KIND_CLASS, classIndex: 10 },
      }),
      Status.OUT_OF_RANGE,
    );
  });
});

Deno.test("ExplainService: a client cancel or a deadline stops the worker, and a full queue is RESOURCE_EXHAUSTED", async (t) => {
  await using server = await startTestServer({
    config: { workers: 1, computeQueueLimit: 0 },
  });
  using client = server.connect();
  // ~30 s of work on one worker: integrated gradients with 1024 path points
  // through the full-size ConvR-LSTM with literal connections.
  await importModel(client, "slow", {
    architecture: "conv_plus_r_lstm",
    steps: 12,
    columns: 7,
  });
  await importModel(client, "m1");
  const x = randomValues(T * STEP, 24);
  const slow: PartialMessage<ExplainRequest> = {
    modelId: "slow",
    input: tensorInput(x),
    explainer: {
      method: Method.METHOD_INTEGRATED_GRADIENTS,
      params: { steps: 1024 },
    },
  };
  const classify = () =>
    client.classify({ modelId: "m1", inputs: [tensorInput(x)] });
  const started = () =>
    withDeadline(
      (async () => {
        while (
          !server.logs.some((l) =>
            l.msg === "Explaining" && l.modelId === "slow" && !seen.has(l)
          )
        ) {
          await new Promise((r) => setTimeout(r, 20));
        }
        for (const l of server.logs) seen.add(l);
      })(),
      10_000,
      "the explanation to start",
    );
  const seen = new Set<unknown>();
  /** Retries until the worker is free again; resolves with the wait in ms. */
  const idleAfter = async () => {
    const from = performance.now();
    while (true) {
      try {
        await classify();
        return performance.now() - from;
      } catch (err) {
        if ((err as { code?: number }).code !== Status.RESOURCE_EXHAUSTED) {
          throw err;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  await t.step(
    "a full queue is RESOURCE_EXHAUSTED; a client cancel is CANCELLED and stops the worker",
    async () => {
      const controller = new AbortController();
      const call = collect(client.explain(slow, { signal: controller.signal }));
      await started();
      await assertStatus(
        classify(),
        Status.RESOURCE_EXHAUSTED,
        /queue is full/,
      );
      controller.abort();
      await assertStatus(call, Status.CANCELLED);
      const waited = await withDeadline(idleAfter(), 15_000, "an idle worker");
      assert.ok(waited < 15_000);
    },
  );
  await t.step(
    "a deadline is DEADLINE_EXCEEDED and stops the worker",
    async () => {
      const call = collect(client.explain(slow, { timeoutMs: 3000 }));
      await assertStatus(call, Status.DEADLINE_EXCEEDED);
      await withDeadline(idleAfter(), 15_000, "an idle worker");
    },
  );
});
