import assert from "node:assert/strict";
import {
  CONFIG_ENV_VARS,
  ConfigError,
  defineConfig,
  parseConfig,
  USAGE,
} from "./config.ts";
import { BACKEND_CHOICES } from "../models/mod.ts";

function config(args: string[], env: Record<string, string> = {}) {
  const parsed = parseConfig(args, env);
  assert.equal(parsed.help, false);
  return (parsed as Extract<typeof parsed, { help: false }>).config;
}

Deno.test("parseConfig() gives the defaults with no flags and no environment", () => {
  assert.deepEqual({ ...config([]) }, {
    host: "127.0.0.1",
    port: 50051,
    logLevel: "info",
    backend: "auto",
    dataDir: "./data",
    checkpointDir: "./data/checkpoints",
    shutdownGraceMs: 10000,
    workers: 0,
    computeQueueLimit: 64,
    jobQueueLimit: 16,
    maxBatch: 1024,
    maxMessageBytes: 64 * 1024 * 1024,
    maxImportBytes: 1024 * 1024 * 1024,
    tlsCert: undefined,
    tlsKey: undefined,
    tlsCa: undefined,
    tlsClientAuth: "none",
    authTokenFile: undefined,
    authExemptHealth: true,
    metricsPort: undefined,
    healthPort: undefined,
  });
});

Deno.test("parseConfig() reads the TLS, token and metrics options from flags and variables", () => {
  const c = config([
    "--tls-cert=s.crt",
    "--tls-key",
    "s.key",
    "--tls-ca=ca.crt",
    "--tls-client-auth=require",
    "--metrics-port=9464",
  ], {
    RNN_EXPLAIN_AUTH_TOKEN_FILE: "/run/secrets/tokens",
    RNN_EXPLAIN_AUTH_EXEMPT_HEALTH: "false",
  });
  assert.equal(c.tlsCert, "s.crt");
  assert.equal(c.tlsKey, "s.key");
  assert.equal(c.tlsCa, "ca.crt");
  assert.equal(c.tlsClientAuth, "require");
  assert.equal(c.authTokenFile, "/run/secrets/tokens");
  assert.equal(c.authExemptHealth, false);
  assert.equal(c.metricsPort, 9464);
  assert.equal(config(["--metrics-port=0"]).metricsPort, 0);
  assert.equal(config(["--health-port=8081"]).healthPort, 8081);
  assert.equal(
    config([], { RNN_EXPLAIN_METRICS_PORT: "off" }).metricsPort,
    undefined,
  );
});

Deno.test("parseConfig() refuses TLS options that do not go together", async (t) => {
  const cases: [string[], string][] = [
    [
      ["--tls-cert=s.crt"],
      "Cannot configure TLS: --tls-cert and --tls-key go together, found only --tls-cert",
    ],
    [
      ["--tls-key=s.key"],
      "Cannot configure TLS: --tls-cert and --tls-key go together, found only --tls-key",
    ],
    [
      ["--tls-ca=ca.crt"],
      "Cannot configure mutual TLS: --tls-ca needs --tls-cert and --tls-key",
    ],
    [
      ["--tls-cert=s.crt", "--tls-key=s.key", "--tls-client-auth=require"],
      "Cannot configure mutual TLS: --tls-client-auth=require needs --tls-ca",
    ],
  ];
  for (const [args, message] of cases) {
    await t.step(message, () => {
      assert.throws(() => parseConfig(args, {}), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.message, message);
        return true;
      });
    });
  }
});

Deno.test("parseConfig() lets flags override variables and variables override defaults", () => {
  const env = { RNN_EXPLAIN_PORT: "6000", RNN_EXPLAIN_LOG_LEVEL: "debug" };
  assert.equal(config([], env).port, 6000);
  assert.equal(config([], env).logLevel, "debug");
  assert.equal(config(["--port", "7000"], env).port, 7000);
  assert.equal(config(["--port=0"], env).port, 0);
  assert.equal(config(["--backend", "cpu"]).backend, "cpu");
  assert.equal(config(["--host", "::"]).host, "::");
});

Deno.test("parseConfig() returns a frozen configuration", () => {
  const c = config([]);
  assert.ok(Object.isFrozen(c));
  assert.throws(() => {
    (c as { port: number }).port = 1;
  }, TypeError);
});

Deno.test("parseConfig() refuses invalid values, naming where they came from", async (t) => {
  const cases: [string[], Record<string, string>, string][] = [
    [
      ["--port", "abc"],
      {},
      'Cannot read --port: expected an integer from 0 to 65535, found "abc"',
    ],
    [
      ["--port", "65536"],
      {},
      'Cannot read --port: expected an integer from 0 to 65535, found "65536"',
    ],
    [
      ["--port=-1"],
      {},
      'Cannot read --port: expected an integer from 0 to 65535, found "-1"',
    ],
    [
      [],
      { RNN_EXPLAIN_PORT: "1.5" },
      'Cannot read RNN_EXPLAIN_PORT: expected an integer from 0 to 65535, found "1.5"',
    ],
    [
      ["--log-level", "loud"],
      {},
      'Cannot read --log-level: expected one of fatal, error, warn, info, debug, trace, silent, found "loud"',
    ],
    [
      ["--backend", "webgl"],
      {},
      `Cannot read --backend: expected one of ${
        BACKEND_CHOICES.join(", ")
      }, found "webgl"`,
    ],
    [
      ["--host", "a b"],
      {},
      'Cannot read --host: expected a host name or IP address, found "a b"',
    ],
    [
      ["--data-dir", " "],
      {},
      "Cannot read --data-dir: expected a non-empty value",
    ],
    [
      [],
      { RNN_EXPLAIN_SHUTDOWN_GRACE_MS: "soon" },
      'Cannot read RNN_EXPLAIN_SHUTDOWN_GRACE_MS: expected an integer from 0 to 3600000, found "soon"',
    ],
    [
      ["--metrics-port", "on"],
      {},
      'Cannot read --metrics-port: expected "off" or an integer from 0 to 65535, found "on"',
    ],
    [
      [],
      { RNN_EXPLAIN_AUTH_EXEMPT_HEALTH: "yes" },
      'Cannot read RNN_EXPLAIN_AUTH_EXEMPT_HEALTH: expected true or false, found "yes"',
    ],
    [
      ["--tls-client-auth", "optional"],
      {},
      'Cannot read --tls-client-auth: expected one of none, require, found "optional"',
    ],
  ];
  for (const [args, env, message] of cases) {
    await t.step(message, () => {
      assert.throws(() => parseConfig(args, env), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.message, message);
        return true;
      });
    });
  }
});

Deno.test("parseConfig() refuses unknown flags and positional arguments", () => {
  for (const args of [["--prot", "1"], ["serve"], ["--port"]]) {
    assert.throws(
      () => parseConfig(args, {}),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.startsWith("Cannot parse the command line: "),
      args.join(" "),
    );
  }
});

Deno.test("parseConfig() answers --help and -h with the usage, which lists every option", () => {
  for (const flag of ["--help", "-h"]) {
    const parsed = parseConfig([flag, "--port", "nonsense"], {});
    assert.equal(parsed.help, true);
  }
  for (const name of CONFIG_ENV_VARS) assert.match(USAGE, new RegExp(name));
  assert.match(USAGE, /--shutdown-grace-ms MS/);
});

Deno.test("defineConfig() validates typed overrides like flags", () => {
  assert.equal(defineConfig({ port: 0 }).port, 0);
  assert.equal(defineConfig().port, 50051);
  assert.throws(() => defineConfig({ port: 70000 }), ConfigError);
  const c = defineConfig({ metricsPort: 0, authExemptHealth: false });
  assert.equal(c.metricsPort, 0);
  assert.equal(c.authExemptHealth, false);
});
