import assert from "node:assert/strict";
import { createLogger } from "./logger.ts";

function sink() {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    destination: {
      write(line: string) {
        lines.push(JSON.parse(line));
      },
    },
  };
}

Deno.test("createLogger() writes JSON lines with a level label, time and message", () => {
  const { lines, destination } = sink();
  const log = createLogger({ level: "info", destination });
  log.child({ rpc: "pkg.S/M" }).info({ modelId: "m1" }, "Model loaded");
  log.debug("not written at info");
  assert.equal(lines.length, 1);
  const line = lines[0]!;
  assert.equal(line.level, "info");
  assert.equal(line.msg, "Model loaded");
  assert.equal(line.rpc, "pkg.S/M");
  assert.equal(line.modelId, "m1");
  assert.equal(line.name, "rnn-explain");
  assert.equal(typeof line.time, "string");
});

Deno.test("createLogger() redacts credentials at any of the configured depths", () => {
  const { lines, destination } = sink();
  const log = createLogger({ level: "info", destination });
  log.info({
    authorization: "Bearer a",
    metadata: { authorization: "Bearer b" },
    req: { metadata: { authorization: "Bearer c" } },
    client: { token: "d", password: "e" },
    auth: { tokens: ["f"] },
    tls: { options: { privateKey: "g" } },
  }, "Probe");
  const text = JSON.stringify(lines);
  for (
    const secret of [
      "Bearer a",
      "Bearer b",
      "Bearer c",
      '"d"',
      '"e"',
      '"f"',
      '"g"',
    ]
  ) {
    assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  }
  assert.match(text, /\[redacted\]/);
});

Deno.test("createLogger() serializes errors under err with their stack", () => {
  const { lines, destination } = sink();
  const log = createLogger({ level: "error", destination });
  log.error({ err: new Error("boom") }, "Request failed");
  const err = lines[0]!.err as Record<string, unknown>;
  assert.equal(err.message, "boom");
  assert.match(String(err.stack), /boom/);
});
