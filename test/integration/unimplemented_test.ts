/**
 * With handlers given to startServer() (test doubles), every RPC left out
 * answers UNIMPLEMENTED, with a message naming it: never UNKNOWN, whatever
 * the call shape.
 */
import assert from "node:assert/strict";
import { type RnnExplainClient, RpcError, Status } from "../../client/mod.ts";
import { startTestServer } from "../_helpers.ts";

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) {
    // no message is expected
  }
}

/** One call per RPC, each with an empty request. */
const CALLS: Record<string, (c: RnnExplainClient) => Promise<unknown>> = {
  "rnnexplain.v1.ModelService/ListModels": (c) => c.listModels({}),
  "rnnexplain.v1.ModelService/GetModel": (c) => c.getModel({}),
  "rnnexplain.v1.ModelService/DeleteModel": (c) => c.deleteModel({}),
  "rnnexplain.v1.ModelService/ExportModel": (c) => drain(c.exportModel({})),
  "rnnexplain.v1.ModelService/ImportModel": (c) => c.importModel([]),
  "rnnexplain.v1.TrainingService/StartTraining": (c) => c.startTraining({}),
  "rnnexplain.v1.TrainingService/WatchTraining": (c) =>
    drain(c.watchTraining({})),
  "rnnexplain.v1.TrainingService/CancelTraining": (c) => c.cancelTraining({}),
  "rnnexplain.v1.TrainingService/ListTrainingJobs": (c) =>
    c.listTrainingJobs({}),
  "rnnexplain.v1.TrainingService/GetTrainingJob": (c) => c.getTrainingJob({}),
  "rnnexplain.v1.TrainingService/ResumeTraining": (c) => c.resumeTraining({}),
  "rnnexplain.v1.InferenceService/Classify": (c) => c.classify({}),
  "rnnexplain.v1.InferenceService/ClassifyStream": (c) =>
    drain(c.classifyStream([])),
  "rnnexplain.v1.ExplainService/ListExplainers": (c) => c.listExplainers({}),
  "rnnexplain.v1.ExplainService/Explain": (c) => drain(c.explain({})),
  "rnnexplain.v1.ExplainService/ExplainBatch": (c) => c.explainBatch({}),
  "rnnexplain.v1.EvaluationService/Evaluate": (c) => drain(c.evaluate({})),
};

Deno.test("every RPC answers UNIMPLEMENTED with a message naming it", async (t) => {
  await using server = await startTestServer({ handlers: {} });
  using client = server.connect();
  for (const [rpc, call] of Object.entries(CALLS)) {
    await t.step(rpc, async () => {
      await assert.rejects(call(client), (err: unknown) => {
        assert.ok(err instanceof RpcError, `not an RpcError: ${err}`);
        assert.equal(err.code, Status.UNIMPLEMENTED);
        assert.equal(err.details, `Cannot call ${rpc}: not implemented yet`);
        return true;
      });
    });
  }
});

Deno.test("the access log records UNIMPLEMENTED calls with method, request id, peer and duration", async () => {
  await using server = await startTestServer({ handlers: {} });
  using client = server.connect();
  await assert.rejects(
    client.getModel({ modelId: "m1" }, {
      metadata: { "x-request-id": "req-42" },
    }),
  );
  const line = server.logs.find((l) =>
    l.msg === "Request finished" &&
    l.rpc === "rnnexplain.v1.ModelService/GetModel"
  );
  assert.ok(line, "no access log line");
  assert.equal(line.code, "UNIMPLEMENTED");
  assert.equal(line.requestId, "req-42");
  assert.equal(line.level, "info");
  assert.match(String(line.peer), /127\.0\.0\.1/);
  assert.equal(typeof line.durationMs, "number");
});
