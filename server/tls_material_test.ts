import assert from "node:assert/strict";
import { ConfigError } from "./config.ts";
import { loadTlsMaterial } from "./tls_material.ts";

const TLS = new URL("../test/testdata/tls/", import.meta.url).pathname;

Deno.test("loadTlsMaterial() reads a matching certificate, key and client CA", async () => {
  const tls = await loadTlsMaterial({
    cert: `${TLS}server.crt`,
    key: `${TLS}server.key`,
    ca: `${TLS}ca.crt`,
    clientAuth: "require",
  });
  assert.equal(tls.requireClientCert, true);
  assert.ok(tls.clientCa !== undefined);
  assert.match(tls.summary.subject, /rnn-explain test server/);
  assert.match(new TextDecoder().decode(tls.certChain), /BEGIN CERTIFICATE/);
});

Deno.test("loadTlsMaterial() throws ConfigError naming the flag for each bad file", async (t) => {
  const cases: [Parameters<typeof loadTlsMaterial>[0], RegExp][] = [
    [
      { cert: `${TLS}missing.crt`, key: `${TLS}server.key` },
      /^Cannot read --tls-cert ".*missing\.crt": /,
    ],
    [
      { cert: `${TLS}server.crt`, key: `${TLS}missing.key` },
      /^Cannot read --tls-key ".*missing\.key": /,
    ],
    [
      { cert: `${TLS}server.key`, key: `${TLS}server.key` },
      /^Cannot use --tls-cert ".*server\.key": not a PEM certificate/,
    ],
    [
      { cert: `${TLS}server.crt`, key: `${TLS}server.crt` },
      /^Cannot use --tls-key ".*server\.crt": not a PEM private key/,
    ],
    [
      { cert: `${TLS}server.crt`, key: `${TLS}client.key` },
      /^Cannot use --tls-key ".*client\.key": it does not belong to the certificate in --tls-cert/,
    ],
    [
      {
        cert: `${TLS}server.crt`,
        key: `${TLS}server.key`,
        ca: `${TLS}README.md`,
      },
      /^Cannot use --tls-ca ".*README\.md": not a PEM file$/,
    ],
  ];
  for (const [options, message] of cases) {
    await t.step(message.source, async () => {
      await assert.rejects(
        loadTlsMaterial(options),
        (err: unknown) =>
          err instanceof ConfigError && message.test(err.message),
      );
    });
  }
});
