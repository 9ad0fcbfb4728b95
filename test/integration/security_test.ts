/**
 * Security over the wire: TLS and mutual TLS (accepted and refused
 * handshakes), bearer tokens (UNAUTHENTICATED before any work, health left
 * open or not), secrets kept out of the logs, and start-up errors for bad
 * TLS or token files. The services are test doubles that count their calls.
 */
import assert from "node:assert/strict";
import {
  type ClientOptions,
  createRnnExplainClient,
  RpcError,
  Status,
} from "../../client/mod.ts";
import { type Config, ConfigError } from "../../server/main.ts";
import { assertStatus, startTestServer, type TestServer } from "../_helpers.ts";

const TLS_DIR = new URL("../testdata/tls/", import.meta.url).pathname;
const read = (name: string) => Deno.readFileSync(`${TLS_DIR}${name}`);

const TLS_CONFIG = {
  tlsCert: `${TLS_DIR}server.crt`,
  tlsKey: `${TLS_DIR}server.key`,
};
const MTLS_CONFIG = {
  ...TLS_CONFIG,
  tlsCa: `${TLS_DIR}ca.crt`,
  tlsClientAuth: "require" as const,
};

/** A server whose only RPC, ListModels, counts its calls. */
async function startCountingServer(
  config: Partial<Config>,
): Promise<TestServer & { calls: () => number }> {
  let calls = 0;
  const server = await startTestServer({
    config,
    handlers: {
      model: {
        listModels: () => {
          calls++;
          return Promise.resolve({ models: [], nextPageToken: "" });
        },
      },
    },
  });
  return Object.assign(server, { calls: () => calls });
}

async function listWith(
  server: TestServer,
  options: ClientOptions,
): Promise<void> {
  using client = server.connect({
    defaultTimeoutMs: 5000,
    ...options,
    // Deno's TLS refuses an IP address as the server name (SNI); the test
    // certificate also names localhost.
    channelOptions: { "grpc.ssl_target_name_override": "localhost" },
  });
  await client.listModels({});
}

/** Fails unless the call fails with UNAVAILABLE (a refused handshake). */
async function assertRefused(call: Promise<unknown>): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof RpcError, `not an RpcError: ${err}`);
    assert.equal(err.code, Status.UNAVAILABLE, err.details);
    return true;
  });
}

Deno.test("a TLS server accepts a client trusting its CA and refuses a plaintext client", async () => {
  await using server = await startCountingServer(TLS_CONFIG);
  await listWith(server, { tls: { rootCerts: read("ca.crt") } });
  assert.equal(server.calls(), 1);
  await assertRefused(listWith(server, {}));
  // A client that does not trust the server's CA refuses the server.
  await assertRefused(
    listWith(server, { tls: { rootCerts: read("other_ca.crt") } }),
  );
  assert.equal(server.calls(), 1);
  const started = server.logs.find((l) => l.msg === "Server started");
  assert.equal(started?.tls, "on");
});

Deno.test("a mutual-TLS server accepts a client certificate of its CA and refuses none or a foreign one", async () => {
  await using server = await startCountingServer(MTLS_CONFIG);
  const rootCerts = read("ca.crt");
  await listWith(server, {
    tls: {
      rootCerts,
      certChain: read("client.crt"),
      privateKey: read("client.key"),
    },
  });
  assert.equal(server.calls(), 1);
  await assertRefused(listWith(server, { tls: { rootCerts } }));
  await assertRefused(listWith(server, {
    tls: {
      rootCerts,
      certChain: read("other_client.crt"),
      privateKey: read("other_client.key"),
    },
  }));
  assert.equal(server.calls(), 1);
  const started = server.logs.find((l) => l.msg === "Server started");
  assert.equal(started?.tls, "mutual");
});

Deno.test("startServer() throws ConfigError for a key that does not match the certificate, or a missing file", async (t) => {
  const cases: [Partial<Config>, RegExp][] = [
    [
      { ...TLS_CONFIG, tlsKey: `${TLS_DIR}client.key` },
      /^Cannot use --tls-key ".*client\.key": it does not belong to the certificate/,
    ],
    [
      { ...TLS_CONFIG, tlsCert: `${TLS_DIR}nope.crt` },
      /^Cannot read --tls-cert ".*nope\.crt": /,
    ],
    [
      { authTokenFile: `${TLS_DIR}no_tokens` },
      /^Cannot read --auth-token-file ".*no_tokens": /,
    ],
  ];
  for (const [config, message] of cases) {
    await t.step(message.source, async () => {
      await assert.rejects(
        startTestServer({ config, handlers: {} }),
        (err: unknown) =>
          err instanceof ConfigError && message.test(err.message),
      );
    });
  }
});

const TOKEN = "tok-3f9c1e7b2a";

async function withTokenFile<T>(
  tokens: string[],
  run: (path: string) => Promise<T>,
): Promise<T> {
  const path = await Deno.makeTempFile({ prefix: "rnn_explain_tokens_" });
  try {
    await Deno.writeTextFile(path, `# test tokens\n${tokens.join("\n")}\n`);
    return await run(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("token auth answers UNAUTHENTICATED before the handler runs, and accepts every listed token", async () => {
  await withTokenFile([TOKEN, "second-token"], async (authTokenFile) => {
    await using server = await startCountingServer({ authTokenFile });
    await assertStatus(
      listWith(server, {}),
      Status.UNAUTHENTICATED,
      /^Cannot authenticate the call: no bearer token in the authorization metadata$/,
    );
    await assertStatus(
      listWith(server, { token: `${TOKEN}x` }),
      Status.UNAUTHENTICATED,
      /^Cannot authenticate the call: the bearer token is not accepted$/,
    );
    await assertStatus(
      listWith(server, { token: TOKEN.slice(0, -1) }),
      Status.UNAUTHENTICATED,
    );
    assert.equal(server.calls(), 0);
    await listWith(server, { token: TOKEN });
    await listWith(server, { token: "second-token" });
    assert.equal(server.calls(), 2);
    // Health stays open for probes that cannot send a token.
    using client = server.connect();
    assert.equal(await client.checkHealth(), "SERVING");
  });
});

Deno.test("token auth over TLS accepts a token and refuses a missing one", async () => {
  await withTokenFile([TOKEN], async (authTokenFile) => {
    await using server = await startCountingServer({
      ...TLS_CONFIG,
      authTokenFile,
    });
    const tls = { rootCerts: read("ca.crt") };
    await listWith(server, { tls, token: TOKEN });
    await assertStatus(listWith(server, { tls }), Status.UNAUTHENTICATED);
    assert.equal(server.calls(), 1);
  });
});

Deno.test("token auth also guards health checks when authExemptHealth is false", async () => {
  await withTokenFile([TOKEN], async (authTokenFile) => {
    await using server = await startCountingServer({
      authTokenFile,
      authExemptHealth: false,
    });
    {
      using client = server.connect();
      await assertStatus(client.checkHealth(), Status.UNAUTHENTICATED);
    }
    using client = server.connect({ token: TOKEN });
    assert.equal(await client.checkHealth(), "SERVING");
  });
});

Deno.test("refused and accepted calls are logged with their status and request id, never with the token", async () => {
  await withTokenFile([TOKEN], async (authTokenFile) => {
    await using server = await startCountingServer({ authTokenFile });
    await assertStatus(
      listWith(server, { token: "wrong-token-value" }),
      Status.UNAUTHENTICATED,
    );
    {
      using client = server.connect({ token: TOKEN });
      await client.listModels({}, { metadata: { "x-request-id": "sec-1" } });
    }
    const finished = server.logs.filter((l) => l.msg === "Request finished");
    const refused = finished.find((l) => l.code === "UNAUTHENTICATED");
    assert.equal(refused?.rpc, "rnnexplain.v1.ModelService/ListModels");
    assert.equal(refused?.level, "warn");
    assert.equal(typeof refused?.requestId, "string");
    const accepted = finished.find((l) => l.requestId === "sec-1");
    assert.equal(accepted?.code, "OK");
    const text = JSON.stringify(server.logs);
    for (const secret of [TOKEN, "wrong-token-value", "Bearer"]) {
      assert.ok(!text.includes(secret), `"${secret}" reached the log`);
    }
  });
});

Deno.test("the plaintext health port answers health checks only, while the API needs TLS and a token", async () => {
  await withTokenFile([TOKEN], async (authTokenFile) => {
    await using server = await startCountingServer({
      ...TLS_CONFIG,
      authTokenFile,
      authExemptHealth: false,
      healthPort: 0,
    });
    const healthPort = server.server.healthPort;
    assert.ok(healthPort !== undefined && healthPort > 0);
    using probe = createRnnExplainClient(`127.0.0.1:${healthPort}`, {
      defaultTimeoutMs: 5000,
    });
    assert.equal(await probe.checkHealth(), "SERVING");
    await assertStatus(probe.listModels({}), Status.UNIMPLEMENTED);
    assert.equal(server.calls(), 0);
    // Shutdown closes the probe port with the server.
    await server.server.shutdown({ graceMs: 0 });
    await assert.rejects(probe.checkHealth());
  });
});
