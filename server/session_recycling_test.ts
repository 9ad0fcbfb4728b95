import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { recycleSessions } from "./session_recycling.ts";

/** Runs one GET on `client` and resolves with its status once the stream closes. */
function get(client: http2.ClientHttp2Session): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = client.request({ ":path": "/" });
    let status = 0;
    req.on("response", (h) => status = Number(h[":status"]));
    req.on("error", reject);
    req.on("close", () => resolve(status));
    req.resume();
    req.end();
  });
}

/** An HTTP/2 server answering 200 after `delayMs`, with recycling attached, and a client. */
async function openPair(delayMs: number, maxStreamsPerSession: number) {
  const h2 = http2.createServer();
  h2.on("stream", (stream: http2.ServerHttp2Stream) => {
    setTimeout(() => {
      stream.respond({ ":status": 200 });
      stream.end("ok");
    }, delayMs);
  });
  const sessions: http2.ServerHttp2Session[] = [];
  h2.on("session", (s) => sessions.push(s));
  const recycled: number[] = [];
  const attached = recycleSessions({ http2Servers: new Map([[h2, {}]]) }, {
    maxStreamsPerSession,
    drainMs: 100,
    onRecycle: (n) => recycled.push(n),
  });
  await new Promise<void>((r) => h2.listen(0, "127.0.0.1", r));
  const { port } = h2.address() as AddressInfo;
  const client = http2.connect(`http://127.0.0.1:${port}`);
  const goaways: number[] = [];
  client.on("goaway", (_code, lastStreamId) => goaways.push(lastStreamId));
  return {
    attached,
    sessions,
    recycled,
    client,
    goaways,
    async [Symbol.asyncDispose]() {
      client.destroy();
      for (const s of sessions) s.destroy();
      await new Promise((r) => h2.close(r));
    },
  };
}

Deno.test("recycleSessions() sends a shutdown notice after the limit of streams, then closes the connection once drained", async () => {
  await using pair = await openPair(0, 3);
  assert.equal(pair.attached, 1);
  assert.deepEqual([await get(pair.client), await get(pair.client)], [
    200,
    200,
  ]);
  assert.deepEqual(pair.recycled, []);
  assert.deepEqual(pair.goaways, []);
  assert.equal(await get(pair.client), 200);
  assert.deepEqual(pair.recycled, [3]);
  while (!pair.sessions[0]!.closed) {
    await new Promise((r) => setTimeout(r, 10));
  }
  // The notice first (no stream refused), then the closing GOAWAY.
  assert.equal(pair.goaways[0], 2 ** 31 - 1);
  assert.equal(pair.sessions.length, 1);
});

Deno.test("recycleSessions() lets the streams in flight at the limit finish", async () => {
  await using pair = await openPair(50, 2);
  const calls = [get(pair.client), get(pair.client)];
  assert.deepEqual(await Promise.all(calls), [200, 200]);
  assert.deepEqual(pair.recycled, [2]);
});

Deno.test("recycleSessions() throws RangeError for a bad limit or drain time", () => {
  const servers = { http2Servers: new Map() };
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => recycleSessions(servers, { maxStreamsPerSession: bad }),
      RangeError,
    );
  }
  for (const bad of [-1, 0.5]) {
    assert.throws(() => recycleSessions(servers, { drainMs: bad }), RangeError);
  }
});

Deno.test("recycleSessions() throws TypeError when the server has no http2Servers map", () => {
  assert.throws(() => recycleSessions({}), TypeError);
  assert.throws(() => recycleSessions({ http2Servers: [] }), TypeError);
});
