/**
 * The bad-input corpus (testdata/bad_inputs.ts) against a live server:
 * every case gets its exact status and field trailer, garbage bytes on the
 * wire get a clean status from every method, and afterwards the server still
 * serves (health SERVING, a valid Explain succeeds, nothing was stored,
 * deleted or started by the corpus).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Client, credentials, type Metadata } from "@grpc/grpc-js";
import {
  encodeTensor,
  Method,
  type RnnExplainClient,
  RpcError,
  Status,
} from "../../client/mod.ts";
import { EvaluationServiceService } from "../../proto/gen/rnnexplain/v1/evaluation_service.ts";
import { ExplainServiceService } from "../../proto/gen/rnnexplain/v1/explain_service.ts";
import { InferenceServiceService } from "../../proto/gen/rnnexplain/v1/inference_service.ts";
import { ModelServiceService } from "../../proto/gen/rnnexplain/v1/model_service.ts";
import { TrainingServiceService } from "../../proto/gen/rnnexplain/v1/training_service.ts";
import { collect, importModel, startTestServer } from "../_helpers.ts";
import {
  BAD_INPUTS,
  type BadInputCase,
  CORPUS_LIMITS,
  CORPUS_MODELS,
  MALFORMED_PAYLOADS,
  randomPayloads,
} from "./testdata/bad_inputs.ts";

/** Sends a case's request with the typed client. */
function send(client: RnnExplainClient, c: BadInputCase): Promise<unknown> {
  switch (c.rpc) {
    case "explain":
      return collect(client.explain(c.request));
    case "explainBatch":
      return client.explainBatch(c.request);
    case "classify":
      return client.classify(c.request);
    case "listExplainers":
      return client.listExplainers(c.request);
    case "listModels":
      return client.listModels(c.request);
    case "getModel":
      return client.getModel(c.request);
    case "deleteModel":
      return client.deleteModel(c.request);
    case "exportModel":
      return collect(client.exportModel(c.request));
    case "startTraining":
      return client.startTraining(c.request);
    case "getTrainingJob":
      return client.getTrainingJob(c.request);
    case "cancelTraining":
      return client.cancelTraining(c.request);
    case "resumeTraining":
      return client.resumeTraining(c.request);
    case "watchTraining":
      return collect(client.watchTraining(c.request));
    case "listTrainingJobs":
      return client.listTrainingJobs(c.request);
    case "evaluate":
      return collect(client.evaluate(c.request));
  }
}

/** Every method of the five API services, with its streaming shape. */
const METHODS = [
  EvaluationServiceService,
  ExplainServiceService,
  InferenceServiceService,
  ModelServiceService,
  TrainingServiceService,
].flatMap((service) => Object.values(service));

interface WireStatus {
  code: number;
  details: string;
}

/** Sends raw bytes as the (only) request message of a method; resolves with the final status. */
function sendBytes(
  client: Client,
  method: typeof METHODS[number],
  payload: Uint8Array,
): Promise<WireStatus> {
  const serialize = (b: Buffer) => b;
  const deserialize = (b: Buffer) => b;
  const body = Buffer.from(payload);
  const deadline = Date.now() + 10_000;
  return new Promise((resolve) => {
    const done = (err: { code?: number; details?: string } | null) =>
      resolve({ code: err?.code ?? Status.OK, details: err?.details ?? "" });
    if (!method.requestStream && !method.responseStream) {
      client.makeUnaryRequest(
        method.path,
        serialize,
        deserialize,
        body,
        { deadline },
        (err) => done(err),
      );
      return;
    }
    if (method.requestStream && !method.responseStream) {
      const call = client.makeClientStreamRequest(
        method.path,
        serialize,
        deserialize,
        { deadline },
        (err) => done(err),
      );
      call.write(body);
      call.end();
      return;
    }
    const call = method.requestStream
      ? client.makeBidiStreamRequest(method.path, serialize, deserialize, {
        deadline,
      })
      : client.makeServerStreamRequest(
        method.path,
        serialize,
        deserialize,
        body,
        { deadline },
      );
    call.on("data", () => {});
    call.on("error", () => {});
    call.on(
      "status",
      (status: { code: number; details: string; metadata: Metadata }) =>
        resolve({ code: status.code, details: status.details }),
    );
    if (method.requestStream) {
      const duplex = call as ReturnType<Client["makeBidiStreamRequest"]>;
      duplex.write(body);
      duplex.end();
    }
  });
}

/** What grpc-js answers for a request it cannot deserialize. */
const DESERIALIZE_FAILED = {
  code: Status.INTERNAL,
  details: "Error deserializing request",
};

/** Statuses a random payload may get: refusals, or OK if it decoded to a valid request. */
const CLEAN_CODES = new Set([
  Status.OK,
  Status.INVALID_ARGUMENT,
  Status.NOT_FOUND,
  Status.FAILED_PRECONDITION,
  Status.OUT_OF_RANGE,
  Status.RESOURCE_EXHAUSTED,
]);

Deno.test("the server answers every bad input with its exact status and field, survives random bytes on the wire, and keeps serving", async (t) => {
  await using server = await startTestServer({ config: CORPUS_LIMITS });
  using client = server.connect();
  for (const [id, { spec, problem }] of Object.entries(CORPUS_MODELS)) {
    await importModel(client, id, spec, { problem });
  }

  for (const [group, cases] of Object.entries(BAD_INPUTS)) {
    await t.step(group, async (t) => {
      for (const c of cases) {
        await t.step(`${c.rpc}: ${c.name}`, async () => {
          const caught = await send(client, c).then(() => undefined, (e) => e);
          assert.ok(caught instanceof RpcError, `no error: ${caught}`);
          assert.deepEqual(
            { code: Status[caught.code], field: caught.field },
            { code: Status[c.code], field: c.field },
            caught.details,
          );
          assert.ok(caught.details.length > 0);
        });
      }
    });
  }

  const raw = new Client(server.address, credentials.createInsecure());
  try {
    await t.step(
      "malformed protobuf payloads are INTERNAL from the deserializer, for every method",
      async () => {
        for (const method of METHODS) {
          for (const [name, payload] of Object.entries(MALFORMED_PAYLOADS)) {
            assert.deepEqual(
              await sendBytes(raw, method, payload),
              DESERIALIZE_FAILED,
              `${method.path}: ${name}`,
            );
          }
        }
      },
    );
    await t.step(
      "random payloads get a clean status from every method",
      async () => {
        for (const [n, method] of METHODS.entries()) {
          for (const payload of randomPayloads(8, 1000 + n)) {
            const status = await sendBytes(raw, method, payload);
            assert.ok(
              CLEAN_CODES.has(status.code) ||
                (status.code === DESERIALIZE_FAILED.code &&
                  status.details === DESERIALIZE_FAILED.details),
              `${method.path}: ${Status[status.code]}: ${status.details}`,
            );
          }
        }
      },
    );
  } finally {
    raw.close();
  }

  await t.step(
    "afterwards the server still serves, and nothing changed",
    async () => {
      assert.equal(await client.checkHealth(""), "SERVING");
      const { models } = await client.listModels({});
      assert.deepEqual(
        models.map((m) => m.id).sort(),
        Object.keys(CORPUS_MODELS).sort(),
      );
      assert.deepEqual((await client.listTrainingJobs({})).jobs, []);
      const x = new Float32Array(12 * 28 * 7).fill(0.5);
      const messages = await collect(client.explain({
        modelId: "r12",
        input: {
          source: { $case: "tensor", tensor: encodeTensor(x, [12, 28 * 7]) },
        },
        explainer: { method: Method.METHOD_LRP_EPSILON },
      }));
      assert.equal(messages.length, 13);
      assert.equal(messages.at(-1)?.event?.$case, "summary");
      assert.ok(
        !server.logs.some((l) => l.code === "INTERNAL" || l.code === "UNKNOWN"),
        "a call ended INTERNAL or UNKNOWN inside the server",
      );
    },
  );
});
