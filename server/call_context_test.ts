import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import {
  type IncomingCall,
  openCallContext,
  REQUEST_ID_KEY,
} from "./call_context.ts";
import { createLogger } from "./logger.ts";
import { UnavailableError } from "./errors.ts";

const log = createLogger({ level: "silent" });

/** A stand-in for a grpc-js server call. */
class FakeCall extends EventEmitter implements IncomingCall {
  cancelled = false;
  constructor(
    readonly deadline: Date | number = Infinity,
    readonly headers: Record<string, string> = {},
  ) {
    super();
  }
  readonly metadata = {
    get: (key: string) =>
      this.headers[key] === undefined ? [] : [this.headers[key]!],
  };
  getPeer() {
    return "ipv4:127.0.0.1:1234";
  }
  getDeadline() {
    return this.deadline;
  }
  cancel() {
    this.cancelled = true;
    this.emit("cancelled");
  }
}

Deno.test("openCallContext() takes the request id from metadata and exposes headers", () => {
  const call = new FakeCall(Infinity, {
    [REQUEST_ID_KEY]: "req-1",
    authorization: "Bearer t",
  });
  using ctx = openCallContext(call, { log, method: "pkg.S/M" });
  assert.equal(ctx.requestId, "req-1");
  assert.equal(ctx.header("authorization"), "Bearer t");
  assert.equal(ctx.header("missing"), undefined);
  assert.equal(ctx.peer, "ipv4:127.0.0.1:1234");
  assert.equal(ctx.deadline, undefined);
  assert.equal(ctx.signal.aborted, false);
});

Deno.test("openCallContext() aborts with an AbortError when the client cancels", () => {
  const call = new FakeCall();
  using ctx = openCallContext(call, { log, method: "pkg.S/M" });
  call.cancel();
  assert.ok(ctx.signal.reason instanceof DOMException);
  assert.equal(ctx.signal.reason.name, "AbortError");
});

Deno.test("openCallContext() aborts with a TimeoutError when the deadline passes", async () => {
  const call = new FakeCall(Date.now() + 30);
  using ctx = openCallContext(call, { log, method: "pkg.S/M" });
  assert.ok(ctx.deadline instanceof Date);
  await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
  assert.equal(ctx.signal.reason.name, "TimeoutError");
});

Deno.test("openCallContext() counts a cancellation at the deadline as the deadline", () => {
  const call = new FakeCall(Date.now() + 5);
  using ctx = openCallContext(call, { log, method: "pkg.S/M" });
  call.cancel();
  assert.equal(ctx.signal.reason.name, "TimeoutError");
});

Deno.test("openCallContext() passes the server's shutdown reason on", () => {
  const shutdown = new AbortController();
  using ctx = openCallContext(new FakeCall(), {
    log,
    method: "pkg.S/M",
    shutdown: shutdown.signal,
  });
  const reason = new UnavailableError("Cannot complete the call: stopping");
  shutdown.abort(reason);
  assert.equal(ctx.signal.reason, reason);
});

Deno.test("openCallContext() disposal removes its listeners and deadline timer", () => {
  const call = new FakeCall(Date.now() + 60_000);
  const shutdown = new AbortController();
  const ctx = openCallContext(call, {
    log,
    method: "pkg.S/M",
    shutdown: shutdown.signal,
  });
  assert.equal(call.listenerCount("cancelled"), 1);
  ctx[Symbol.dispose]();
  assert.equal(call.listenerCount("cancelled"), 0);
  shutdown.abort(new Error("late"));
  call.cancel();
  assert.equal(ctx.signal.aborted, false);
  // The op sanitizer fails this test if the 60 s timer were still pending.
});
