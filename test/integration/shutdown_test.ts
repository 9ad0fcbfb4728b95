/**
 * Graceful shutdown: health turns NOT_SERVING, new calls are refused,
 * in-flight calls finish within the grace period, and calls still running
 * when it ends are cancelled (their handlers see the abort).
 */
import assert from "node:assert/strict";
import {
  type ClientReadableStream,
  credentials,
  makeClientConstructor,
} from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { GetModelResponse, RpcError, Status } from "../../client/mod.ts";
import { deferred, startTestServer, withDeadline } from "../_helpers.ts";

type HealthUpdate = { status: string };

/** Watches the server's overall health, as a load balancer does. */
function watchHealth(address: string) {
  const Health = makeClientConstructor(healthService, "Health");
  const client = new Health(address, credentials.createInsecure());
  // deno-lint-ignore no-explicit-any
  const stream = (client as any).Watch({ service: "" }) as ClientReadableStream<
    HealthUpdate
  >;
  stream.on("error", () => {}); // cancelled on purpose at the end
  const next = () =>
    new Promise<string>((resolve) =>
      stream.once("data", (update: HealthUpdate) => resolve(update.status))
    );
  return {
    next,
    [Symbol.dispose]() {
      stream.cancel();
      client.close();
    },
  };
}

Deno.test("shutdown() turns health NOT_SERVING, refuses new calls and lets an in-flight call finish", async () => {
  const entered = deferred();
  const release = deferred();
  await using t = await startTestServer({
    shutdownGraceMs: 10_000,
    handlers: {
      model: {
        getModel: async (request) => {
          entered.resolve();
          await release.promise;
          return GetModelResponse.fromPartial({
            model: { id: request.modelId },
          });
        },
      },
    },
  });
  using client = t.connect();
  const health = watchHealth(t.address);
  try {
    assert.equal(await health.next(), "SERVING");
    const updated = health.next();

    const inFlight = client.getModel({ modelId: "m1" });
    await withDeadline(entered.promise, 5000, "the handler to start");
    const stopped = t.server.shutdown();

    assert.equal(
      await withDeadline(updated, 5000, "NOT_SERVING"),
      "NOT_SERVING",
    );
    using late = t.connect();
    await assert.rejects(
      late.listModels({}),
      (err: unknown) =>
        err instanceof RpcError && err.code === Status.UNAVAILABLE,
    );

    release.resolve();
    const response = await withDeadline(inFlight, 5000, "the in-flight call");
    assert.equal(response.model?.id, "m1");
    health[Symbol.dispose]();
    const result = await withDeadline(stopped, 5000, "the drain");
    assert.equal(result.forced, false);
    assert.ok(
      t.logs.some((l) => l.msg === "Server stopped" && l.forced === false),
    );
  } finally {
    release.resolve();
    health[Symbol.dispose]();
  }
});

Deno.test("shutdown() cuts off calls still running when the grace period ends: handlers see the abort, clients get UNAVAILABLE", async () => {
  const entered = deferred();
  const aborted = deferred<unknown>();
  await using t = await startTestServer({
    shutdownGraceMs: 200,
    handlers: {
      model: {
        getModel: (_request, ctx) => {
          entered.resolve();
          return new Promise((_, reject) => {
            ctx.signal.addEventListener("abort", () => {
              aborted.resolve(ctx.signal.reason);
              reject(ctx.signal.reason);
            });
          });
        },
      },
    },
  });
  using client = t.connect();
  const inFlight = client.getModel({ modelId: "m1" });
  const outcome = inFlight.then(() => undefined, (err: unknown) => err);
  await withDeadline(entered.promise, 5000, "the handler to start");

  const result = await withDeadline(t.server.shutdown(), 5000, "the shutdown");
  assert.equal(result.forced, true);
  assert.ok(result.durationMs >= 150, `took ${result.durationMs} ms`);
  const reason = await withDeadline(aborted.promise, 5000, "the abort");
  assert.ok(reason instanceof Error && reason.name === "UnavailableError");
  const err = await outcome;
  assert.ok(err instanceof RpcError, `expected a failed call, got ${err}`);
  assert.equal(err.code, Status.UNAVAILABLE);
  assert.equal(
    err.details,
    "Cannot complete the call: the server is shutting down",
  );
});
