import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { deferGoawayClose } from "./defer_goaway_close.ts";

/** A stand-in for a `node:http2` session: `close`/`destroy` on the prototype, as in `node:http2`, recording their calls. */
class FakeSession extends EventEmitter {
  readonly calls: string[] = [];
  close(...args: unknown[]): void {
    this.calls.push(`close(${args.join(",")})`);
  }
  destroy(...args: unknown[]): void {
    this.calls.push(`destroy(${args.join(",")})`);
  }
  /** What `node:http2`'s onGoawayData does: emit, then close (NO_ERROR) or destroy. */
  receiveGoaway(code: number): void {
    this.emit("goaway", code);
    if (code === 0) this.close();
    else this.destroy(code);
  }
}

/** One fake `node:http2` server in a fake grpc-js server, with the guard attached, and a session on it. */
function attachFake(): { attached: number; session: FakeSession } {
  const h2 = new EventEmitter();
  const attached = deferGoawayClose({ http2Servers: new Map([[h2, {}]]) });
  const session = new FakeSession();
  h2.emit("session", session);
  return { attached, session };
}

const nextTimer = () => new Promise((r) => setTimeout(r, 0));

Deno.test("deferGoawayClose() runs the close that a GOAWAY triggers on a timer, not inside the frame callback", async () => {
  const { attached, session } = attachFake();
  assert.equal(attached, 1);
  session.receiveGoaway(0);
  assert.deepEqual(session.calls, []);
  await nextTimer();
  assert.deepEqual(session.calls, ["close()"]);
  // Back to the prototype's methods: later calls are not deferred.
  assert.equal(Object.hasOwn(session, "close"), false);
  assert.equal(Object.hasOwn(session, "destroy"), false);
  session.close();
  assert.deepEqual(session.calls, ["close()", "close()"]);
});

Deno.test("deferGoawayClose() defers the destroy of an error GOAWAY with its arguments", async () => {
  const { session } = attachFake();
  session.receiveGoaway(2);
  assert.deepEqual(session.calls, []);
  await nextTimer();
  assert.deepEqual(session.calls, ["destroy(2)"]);
  session.destroy(3);
  assert.deepEqual(session.calls, ["destroy(2)", "destroy(3)"]);
});

Deno.test("deferGoawayClose() defers every close until the next macrotask after a GOAWAY, and none without one", async () => {
  const { session } = attachFake();
  session.close();
  assert.deepEqual(session.calls, ["close()"]);
  // A listener of the same GOAWAY closing too (grpc-js clients do), then
  // node:http2's own close: both wait for the timer.
  session.emit("goaway", 0);
  session.emit("goaway", 0);
  session.destroy(1);
  session.close();
  assert.deepEqual(session.calls, ["close()"]);
  await nextTimer();
  assert.deepEqual(session.calls, ["close()", "destroy(1)", "close()"]);
  session.destroy(2);
  assert.deepEqual(session.calls, [
    "close()",
    "destroy(1)",
    "close()",
    "destroy(2)",
  ]);
});

Deno.test("deferGoawayClose() throws TypeError when the server has no http2Servers map", () => {
  assert.throws(() => deferGoawayClose({}), TypeError);
  assert.throws(() => deferGoawayClose({ http2Servers: [] }), TypeError);
});

Deno.test("deferGoawayClose() on a real node:http2 server: the session still closes after the client's GOAWAY", async () => {
  const h2 = http2.createServer();
  h2.on("stream", (stream: http2.ServerHttp2Stream) => {
    stream.respond({ ":status": 200 });
    stream.end("ok");
  });
  const sessions: http2.ServerHttp2Session[] = [];
  h2.on("session", (s) => sessions.push(s));
  deferGoawayClose({ http2Servers: new Map([[h2, {}]]) });
  await new Promise<void>((r) => h2.listen(0, "127.0.0.1", r));
  try {
    const { port } = h2.address() as AddressInfo;
    const client = http2.connect(`http://127.0.0.1:${port}`);
    for (let i = 0; i < 3; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = client.request({ ":path": "/" });
        let s = 0;
        req.on("response", (h) => s = Number(h[":status"]));
        req.on("error", reject);
        req.on("close", () => resolve(s));
        req.resume();
        req.end();
      });
      assert.equal(status, 200);
    }
    const closed = new Promise((r) => sessions[0]!.once("close", r));
    client.close();
    await closed;
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]!.destroyed, true);
  } finally {
    for (const s of sessions) s.destroy();
    await new Promise((r) => h2.close(r));
  }
});
