import assert from "node:assert/strict";
import { defineConfig, SERVICE_NAMES, startServer } from "../../server/main.ts";
import { RpcError, Status } from "../../client/mod.ts";
import { startTestServer } from "../_helpers.ts";

Deno.test("Health.Check() reports SERVING for the server and every API service", async () => {
  await using t = await startTestServer();
  using client = t.connect();
  assert.equal(await client.checkHealth(""), "SERVING");
  for (const name of SERVICE_NAMES) {
    assert.equal(await client.checkHealth(name), "SERVING", name);
  }
  assert.equal(SERVICE_NAMES.length, 5);
});

Deno.test("Health.Check() returns NOT_FOUND for a service the server does not have", async () => {
  await using t = await startTestServer();
  using client = t.connect();
  await assert.rejects(
    client.checkHealth("rnnexplain.v1.NoSuchService"),
    (err: unknown) => err instanceof RpcError && err.code === Status.NOT_FOUND,
  );
});

Deno.test("startServer() logs the chosen backend and the bound port", async () => {
  await using t = await startTestServer();
  const backend = t.logs.find((l) => l.msg === "TensorFlow.js backend ready");
  assert.equal(backend?.backend, "wasm");
  assert.deepEqual(backend?.fallbackKernels, ["Conv2DBackpropFilter"]);
  const started = t.logs.find((l) => l.msg === "Server started");
  assert.equal(started?.port, t.server.port);
  assert.ok(t.server.port > 0);
});

Deno.test("startServer() rejects with a clear error when the port is taken", async () => {
  await using t = await startTestServer();
  await assert.rejects(
    startServer(
      defineConfig({
        host: "127.0.0.1",
        port: t.server.port,
        backend: "wasm",
        logLevel: "silent",
      }),
    ),
    (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(
        err.message,
        new RegExp(`^Cannot listen on 127\\.0\\.0\\.1:${t.server.port}: `),
      );
      return true;
    },
  );
});
