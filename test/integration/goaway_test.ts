/**
 * The fast reproduction of Deno 2.9.6's nghttp2 abort (denoland/deno#36788):
 * a client makes 400 calls on one connection and closes its channel; the
 * GOAWAY it sends used to kill the server process (SIGABRT `free(): invalid
 * pointer`, `find_stream_on_goaway_func: Assertion 'stream->closed_next ==
 * NULL'`, or SIGSEGV) in 9/10 runs. server/defer_goaway_close.ts must keep
 * it alive, serving, and exiting 0 on SIGTERM.
 */
import assert from "node:assert/strict";
import { createRnnExplainClient } from "../../client/mod.ts";
import { withDeadline } from "../_helpers.ts";
import { boundPort, startServerProcess } from "./_server_process.ts";

/** Resolves with the exit status if the process ends within `ms`, else with undefined. */
async function exitWithin(
  child: Deno.ChildProcess,
  ms: number,
): Promise<Deno.CommandStatus | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), ms);
  });
  try {
    return await Promise.race([child.status, late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("server/main.ts outlives a client closing its channel after 400 calls on one connection, and still serves", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rnn_explain_goaway_" });
  const child = startServerProcess(dir, { stderr: "piped" });
  const stderr = new Response(child.stderr).text();
  try {
    const [stdout, rest] = child.stdout.tee();
    const port = await withDeadline(boundPort(stdout), 60_000, "the port");
    const draining = rest.pipeTo(new WritableStream());
    const address = `127.0.0.1:${port}`;
    {
      // No retries: a lost call must fail the test, not be repeated.
      using client = createRnnExplainClient(address, { retries: 0 });
      for (let i = 0; i < 400; i++) {
        assert.equal(await client.checkHealth(""), "SERVING");
      }
    }
    const early = await exitWithin(child, 1000);
    if (early !== undefined) {
      assert.fail(
        `the server died (${early.signal ?? early.code}): ${await stderr}`,
      );
    }
    {
      using client = createRnnExplainClient(address, { retries: 0 });
      assert.equal(await client.checkHealth(""), "SERVING");
    }
    child.kill("SIGTERM");
    const status = await withDeadline(child.status, 30_000, "the exit");
    assert.deepEqual({ code: status.code, signal: status.signal }, {
      code: 0,
      signal: null,
    });
    await draining;
    assert.doesNotMatch(await stderr, /Assertion|free\(\)|Segmentation/);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    await stderr.catch(() => "");
    await Deno.remove(dir, { recursive: true });
  }
});
