/**
 * The client and the server's call plumbing end to end, with test handlers
 * installed: deadlines and cancellation reach the handler as an AbortSignal,
 * typed errors arrive with their exact status, every call shape streams, and
 * credentials are sent but never logged.
 */
import assert from "node:assert/strict";
import {
  ClassifyStreamResponse,
  createRnnExplainClient,
  decodeTensor,
  encodeTensor,
  ExplainResponse,
  GetModelResponse,
  ImportModelResponse,
  RpcError,
  Status,
} from "../../client/mod.ts";
import { NotFoundError, UnavailableError } from "../../server/main.ts";
import { deferred, startTestServer, withDeadline } from "../_helpers.ts";

/** A handler that waits until its call is aborted and reports the reason. */
function waitForAbort(seen: (reason: unknown) => void) {
  return (_request: unknown, ctx: { signal: AbortSignal }) =>
    new Promise<never>((_, reject) => {
      const onAbort = () => {
        seen(ctx.signal.reason);
        reject(ctx.signal.reason);
      };
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener("abort", onAbort);
    });
}

Deno.test("a call past its deadline fails with DEADLINE_EXCEEDED and its handler is aborted", async () => {
  const reason = deferred<unknown>();
  await using t = await startTestServer({
    handlers: { model: { getModel: waitForAbort(reason.resolve) } },
  });
  using client = t.connect();
  // Connect first, so that the deadline is spent in the handler, not in the
  // connection set-up (grpc-js drops calls that arrive already expired).
  await client.waitForReady(5000);
  await assert.rejects(
    client.getModel({ modelId: "m1" }, { timeoutMs: 300 }),
    (err: unknown) =>
      err instanceof RpcError && err.code === Status.DEADLINE_EXCEEDED,
  );
  const seen = await withDeadline(reason.promise, 5000, "the handler's abort");
  // The server's own deadline timer says TimeoutError; the client's RST at
  // its (nearly equal) deadline may arrive first and says AbortError.
  // call_context_test.ts checks each path deterministically.
  assert.ok(
    seen instanceof DOMException &&
      ["TimeoutError", "AbortError"].includes(seen.name),
    String(seen),
  );
});

Deno.test("aborting the signal cancels the call: CANCELLED for the caller, an AbortError for the handler", async () => {
  const reason = deferred<unknown>();
  const entered = deferred();
  await using t = await startTestServer({
    handlers: {
      model: {
        getModel: (request, ctx) => {
          entered.resolve();
          return waitForAbort(reason.resolve)(request, ctx);
        },
      },
    },
  });
  using client = t.connect();
  const controller = new AbortController();
  const call = client.getModel({ modelId: "m1" }, {
    signal: controller.signal,
  });
  await withDeadline(entered.promise, 5000, "the handler to start");
  controller.abort(new Error("user pressed stop"));
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof RpcError);
    assert.equal(err.code, Status.CANCELLED);
    assert.equal((err.cause as Error).message, "user pressed stop");
    return true;
  });
  const seen = await withDeadline(reason.promise, 5000, "the handler's abort");
  assert.ok(seen instanceof DOMException && seen.name === "AbortError");
});

Deno.test("an already aborted signal fails the call with CANCELLED before anything is sent", async () => {
  await using t = await startTestServer();
  using client = t.connect();
  await assert.rejects(
    client.getModel({ modelId: "m1" }, { signal: AbortSignal.abort() }),
    (err: unknown) => err instanceof RpcError && err.code === Status.CANCELLED,
  );
  assert.equal(
    t.logs.some((l) => l.rpc === "rnnexplain.v1.ModelService/GetModel"),
    false,
  );
});

Deno.test("a typed domain error arrives with its status, message and field", async () => {
  await using t = await startTestServer({
    handlers: {
      model: {
        getModel: (request) => {
          throw new NotFoundError(
            `Cannot find model "${request.modelId}": no such id`,
            { field: "model_id" },
          );
        },
      },
    },
  });
  using client = t.connect();
  await assert.rejects(client.getModel({ modelId: "m9" }), (err: unknown) => {
    assert.ok(err instanceof RpcError);
    assert.equal(err.code, Status.NOT_FOUND);
    assert.equal(err.details, 'Cannot find model "m9": no such id');
    assert.equal(err.field, "model_id");
    return true;
  });
});

Deno.test("read-only calls are repeated after UNAVAILABLE up to `retries` times; calls that change state never are", async () => {
  let gets = 0;
  let starts = 0;
  let streams = 0;
  await using t = await startTestServer({
    handlers: {
      model: {
        getModel: (request) => {
          gets++;
          if (gets <= 2) {
            return Promise.reject(new UnavailableError("connection recycled"));
          }
          return Promise.resolve(
            GetModelResponse.fromPartial({ model: { id: request.modelId } }),
          );
        },
        // Fails before its first message, like a dropped connection.
        // deno-lint-ignore require-yield
        exportModel: async function* () {
          streams++;
          throw new UnavailableError("connection recycled");
        },
      },
      training: {
        startTraining: () => {
          starts++;
          return Promise.reject(new UnavailableError("connection recycled"));
        },
      },
    },
  });
  using client = t.connect();
  const response = await client.getModel({ modelId: "m1" });
  assert.equal(response.model?.id, "m1");
  assert.equal(gets, 3, "two failed attempts, then the answer");

  await assert.rejects(
    client.startTraining({}),
    (err: unknown) =>
      err instanceof RpcError && err.code === Status.UNAVAILABLE,
  );
  assert.equal(starts, 1, "StartTraining is never repeated");

  await assert.rejects(
    async () => {
      for await (const _ of client.exportModel({ modelId: "m1" })) {
        // nothing arrives
      }
    },
    (err: unknown) =>
      err instanceof RpcError && err.code === Status.UNAVAILABLE,
  );
  assert.equal(streams, 3, "a stream that sent nothing is repeated twice");

  gets = 0;
  using once = t.connect({ retries: 0 });
  await assert.rejects(
    once.getModel({ modelId: "m1" }),
    (err: unknown) =>
      err instanceof RpcError && err.code === Status.UNAVAILABLE,
  );
  assert.equal(gets, 1, "retries: 0 turns repetition off");
});

Deno.test("an unexpected error becomes INTERNAL with a generic message, and its cause goes to the log", async () => {
  await using t = await startTestServer({
    handlers: {
      model: {
        getModel: () => {
          throw new Error("secret internal detail");
        },
      },
    },
  });
  using client = t.connect();
  await assert.rejects(
    client.getModel({ modelId: "m1" }, {
      metadata: { "x-request-id": "req-internal" },
    }),
    (err: unknown) => {
      assert.ok(err instanceof RpcError);
      assert.equal(err.code, Status.INTERNAL);
      assert.equal(
        err.details,
        'Internal error; see the server logs with request id "req-internal"',
      );
      assert.equal(err.requestId, "req-internal");
      return true;
    },
  );
  const logged = t.logs.find((l) => l.msg === "Request failed");
  assert.equal(logged?.requestId, "req-internal");
  assert.equal(logged?.level, "error");
  assert.match(JSON.stringify(logged?.err), /secret internal detail/);
});

Deno.test("the bearer token reaches the handler and never the log", async () => {
  const seen = deferred<string | undefined>();
  await using t = await startTestServer({
    handlers: {
      model: {
        getModel: (request, ctx) => {
          seen.resolve(ctx.header("authorization"));
          ctx.log.info(
            { metadata: { authorization: "Bearer s3cret" } },
            "Probe",
          );
          return Promise.resolve(
            GetModelResponse.fromPartial({ model: { id: request.modelId } }),
          );
        },
      },
    },
  });
  using client = t.connect({ token: "s3cret" });
  const response = await client.getModel({ modelId: "m1" });
  assert.equal(response.model?.id, "m1");
  assert.equal(await seen.promise, "Bearer s3cret");
  assert.ok(t.logs.some((l) => l.msg === "Probe"));
  assert.doesNotMatch(JSON.stringify(t.logs), /s3cret/);
});

Deno.test("createRnnExplainClient() refuses a bearer token over plaintext to a remote host", () => {
  // Thrown before any channel exists: nothing is sent anywhere.
  assert.throws(
    () => createRnnExplainClient("example.org:50051", { token: "x" }),
    (err: unknown) =>
      err instanceof TypeError && /enable tls/.test(err.message),
  );
});

Deno.test("a server stream delivers every message in order and stops the handler when the caller breaks out", async () => {
  const finished = deferred<boolean>();
  await using t = await startTestServer({
    handlers: {
      explain: {
        explain: async function* (_request, ctx) {
          try {
            for (let step = 3; step >= 0; step--) {
              yield ExplainResponse.fromPartial({
                event: {
                  $case: "step",
                  step: {
                    timestep: step,
                    relevance: encodeTensor([step, -step], [1, 2]),
                    relevanceSum: 0,
                  },
                },
              });
            }
            // Waits like a long computation until the client goes away.
            await new Promise((resolve) =>
              ctx.signal.addEventListener("abort", resolve)
            );
          } finally {
            finished.resolve(ctx.signal.aborted);
          }
        },
      },
    },
  });
  using client = t.connect();
  const timesteps: number[] = [];
  for await (const message of client.explain({ modelId: "m1" })) {
    assert.equal(message.event?.$case, "step");
    if (message.event?.$case !== "step") break;
    timesteps.push(message.event.step.timestep);
    const { data, shape } = decodeTensor(message.event.step.relevance!);
    assert.deepEqual(shape, [1, 2]);
    assert.deepEqual([...data], [
      message.event.step.timestep,
      -message.event.step.timestep,
    ]);
    if (timesteps.length === 4) break;
  }
  assert.deepEqual(timesteps, [3, 2, 1, 0]);
  assert.equal(
    await withDeadline(finished.promise, 5000, "the handler to stop"),
    true,
  );
});

Deno.test("a client stream hands every request to the handler in order", async () => {
  await using t = await startTestServer({
    handlers: {
      model: {
        importModel: async (requests) => {
          let bytes = 0;
          let header = "";
          for await (const request of requests) {
            if (request.part?.$case === "header") {
              header = request.part.header.model?.id ?? "";
            } else if (request.part?.$case === "chunk") {
              bytes += request.part.chunk.length;
            }
          }
          return ImportModelResponse.fromPartial({
            model: { id: header, sizeBytes: bytes },
            created: true,
          });
        },
      },
    },
  });
  using client = t.connect();
  async function* archive() {
    yield {
      part: { $case: "header" as const, header: { model: { id: "m7" } } },
    };
    for (let i = 0; i < 5; i++) {
      yield { part: { $case: "chunk" as const, chunk: Buffer.alloc(1000, i) } };
    }
  }
  const response = await client.importModel(archive());
  assert.equal(response.model?.id, "m7");
  assert.equal(response.model?.sizeBytes, 5000);
});

Deno.test("a bidirectional stream answers each request as it arrives", async () => {
  await using t = await startTestServer({
    handlers: {
      inference: {
        classifyStream: async function* (requests) {
          let timestep = 0;
          for await (const request of requests) {
            if (request.event?.$case !== "step") continue;
            const { data } = decodeTensor(request.event.step);
            yield ClassifyStreamResponse.fromPartial({
              timestep: timestep++,
              steps: 3,
              classification: { logits: [...data] },
            });
          }
        },
      },
    },
  });
  using client = t.connect();
  const replies: number[] = [];
  const answered = [deferred(), deferred(), deferred()];
  async function* steps() {
    yield { event: { $case: "start" as const, start: { modelId: "m1" } } };
    for (let t = 0; t < 3; t++) {
      yield { event: { $case: "step" as const, step: encodeTensor([t], [1]) } };
      // The next step is sent only after the server answered this one.
      await withDeadline(answered[t]!.promise, 5000, `reply ${t}`);
    }
  }
  for await (const reply of client.classifyStream(steps())) {
    replies.push(reply.classification!.logits[0]!);
    answered[reply.timestep]!.resolve();
  }
  assert.deepEqual(replies, [0, 1, 2]);
});
