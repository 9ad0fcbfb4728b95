/**
 * `deno task start` as a user runs it: its scoped permissions suffice to
 * load the backend `auto` picks (OpenBLAS through FFI where Debian's
 * libopenblas0 is installed, else wasm) and the protos, the standard health
 * check answers SERVING to an independent client, and SIGTERM drains and exits cleanly.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { credentials, makeClientConstructor } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { OPENBLAS_PATHS } from "../../models/kernels/blas/mod.ts";
import { withDeadline } from "../_helpers.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The backend `deno task start` (backend `auto`, `--allow-ffi`) should pick here. */
function expectedBackend(): string {
  for (const path of OPENBLAS_PATHS.filter((p) => p.startsWith("/"))) {
    try {
      Deno.statSync(path);
      return "blas";
    } catch {
      // not installed at this path
    }
  }
  return "wasm";
}

function startTask(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "start", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

/** Reads JSON log lines until one matches; keeps the rest for later checks. */
async function waitForLine(
  lines: AsyncIterator<string>,
  seen: Record<string, unknown>[],
  msg: string,
): Promise<Record<string, unknown>> {
  for (let next = await lines.next(); !next.done; next = await lines.next()) {
    const line = JSON.parse(next.value) as Record<string, unknown>;
    seen.push(line);
    if (line.msg === msg) return line;
  }
  throw new Error(
    `The server exited before logging "${msg}": ${JSON.stringify(seen)}`,
  );
}

async function* splitLines(stream: ReadableStream<Uint8Array>) {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
    }
  }
  if (buffer !== "") yield buffer;
}

function checkHealth(address: string): Promise<string> {
  const Health = makeClientConstructor(healthService, "Health");
  const client = new Health(address, credentials.createInsecure());
  return new Promise<string>((resolve, reject) => {
    // deno-lint-ignore no-explicit-any
    (client as any).Check(
      { service: "" },
      (err: Error | null, response?: { status: string }) => {
        client.close();
        if (err !== null) reject(err);
        else resolve(response!.status);
      },
    );
  });
}

Deno.test({
  name:
    "deno task start serves health SERVING on its scoped permissions and drains on SIGTERM",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const child = startTask(["--port", "0", "--shutdown-grace-ms", "2000"]);
    const stderr = new Response(child.stderr).text();
    const lines = splitLines(child.stdout)[Symbol.asyncIterator]();
    const seen: Record<string, unknown>[] = [];
    // `deno task` runs the server as its own child: a failed check kills
    // both, or the server would keep stdout open and the test would hang.
    let serverPid: number | undefined;
    try {
      const started = await withDeadline(
        waitForLine(lines, seen, "Server started"),
        60_000,
        "the server to start",
      );
      serverPid = typeof started.pid === "number" ? started.pid : undefined;
      assert.equal(seen[0]?.backend, expectedBackend());
      const status = await withDeadline(
        checkHealth(`127.0.0.1:${started.port}`),
        10_000,
        "the health check",
      );
      assert.equal(status, "SERVING");

      child.kill("SIGTERM");
      const stopped = await withDeadline(
        waitForLine(lines, seen, "Server stopped"),
        10_000,
        "the drain",
      );
      assert.equal(stopped.forced, false);
      const { code } = await child.status;
      assert.equal(code, 0, await stderr);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      if (serverPid !== undefined) {
        try {
          Deno.kill(serverPid, "SIGKILL");
        } catch {
          // already exited
        }
      }
      await child.status;
      for (let n = await lines.next(); !n.done; n = await lines.next()) {
        // drain stdout so the stream closes
      }
      await stderr;
    }
  },
});

Deno.test("deno task start refuses a checkpoint folder its permissions do not cover", async () => {
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "start", "--checkpoint-dir", "/elsewhere/ckpt"],
    cwd: ROOT,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(run.code, 1);
  const fatal = JSON.parse(new TextDecoder().decode(run.stdout).trim());
  assert.equal(fatal.level, "fatal");
  assert.equal(
    fatal.err.message,
    'Cannot use --checkpoint-dir "/elsewhere/ckpt": write permission is not granted (run Deno with --allow-write=/elsewhere/ckpt)',
  );
});

Deno.test("deno task start --help prints the usage; a bad flag exits 2 with a clear error", async () => {
  const help = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "start", "--help"],
    cwd: ROOT,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(help.code, 0);
  assert.match(new TextDecoder().decode(help.stdout), /--checkpoint-dir DIR/);

  const bad = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "start", "--port", "http"],
    cwd: ROOT,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(bad.code, 2);
  assert.equal(
    new TextDecoder().decode(bad.stderr),
    'error: Cannot read --port: expected an integer from 0 to 65535, found "http"\nRun with --help for usage.\n',
  );
});
