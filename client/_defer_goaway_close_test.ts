import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import {
  deferCloses,
  deferGoawayCloseOnConnect,
} from "./_defer_goaway_close.ts";

/** A stand-in for a `node:http2` session recording `close`/`destroy` calls (prototype methods, as in `node:http2`). */
class FakeSession extends EventEmitter {
  readonly calls: string[] = [];
  close(...args: unknown[]): void {
    this.calls.push(`close(${args.join(",")})`);
  }
  destroy(...args: unknown[]): void {
    this.calls.push(`destroy(${args.join(",")})`);
  }
}

const nextTimer = () => new Promise((r) => setTimeout(r, 0));

Deno.test("deferCloses() runs every close and destroy until the next macrotask on a timer, then restores the methods", async () => {
  const session = new FakeSession();
  deferCloses(session);
  deferCloses(session);
  // grpc-js's goaway listener closes, then node:http2's handler does.
  session.close();
  session.destroy(2);
  assert.deepEqual(session.calls, []);
  await nextTimer();
  assert.deepEqual(session.calls, ["close()", "destroy(2)"]);
  assert.equal(Object.hasOwn(session, "close"), false);
  assert.equal(Object.hasOwn(session, "destroy"), false);
  session.close();
  assert.deepEqual(session.calls, ["close()", "destroy(2)", "close()"]);
});

Deno.test("deferGoawayCloseOnConnect() wraps http2.connect once; a session whose listeners were all removed still defers its closes on a GOAWAY", async () => {
  deferGoawayCloseOnConnect();
  assert.equal(deferGoawayCloseOnConnect(), false);
  const h2 = http2.createServer();
  const serverSessions: http2.ServerHttp2Session[] = [];
  h2.on("session", (s) => serverSessions.push(s));
  h2.on("stream", (stream: http2.ServerHttp2Stream) => {
    stream.respond({ ":status": 200 });
    stream.end("ok");
  });
  await new Promise<void>((r) => h2.listen(0, "127.0.0.1", r));
  const { port } = h2.address() as AddressInfo;
  const client = http2.connect(`http://127.0.0.1:${port}`);
  try {
    await new Promise((r) => client.once("remoteSettings", r));
    // grpc-js does this once the session is connected.
    client.removeAllListeners();
    const closedInGoaway: boolean[] = [];
    client.on("goaway", () => {
      client.close();
      closedInGoaway.push(client.closed);
    });
    const closed = new Promise((r) => client.once("close", r));
    serverSessions[0]!.goaway(0, 0);
    serverSessions[0]!.close();
    await closed;
    // The listener's closes were deferred (one GOAWAY from goaway(), one
    // from close()): the session was not yet closed right after them, but
    // it did close afterwards.
    assert.ok(closedInGoaway.length >= 1);
    assert.ok(closedInGoaway.every((c) => !c), String(closedInGoaway));
    assert.equal(client.destroyed, true);
  } finally {
    client.destroy();
    for (const s of serverSessions) s.destroy();
    await new Promise((r) => h2.close(r));
  }
});
