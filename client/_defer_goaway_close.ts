/**
 * The client half of server/defer_goaway_close.ts: every `node:http2`
 * client session of this process closes on a macrotask, not inside
 * nghttp2's frame callback, when it receives a GOAWAY.
 *
 * Why: on Deno 2.9.6, `node:http2` runs the GOAWAY handler inside
 * nghttp2's frame callback, and a close there (grpc-js's own `goaway`
 * listener closes the session, then `node:http2` does) destroys the session
 * while nghttp2 still walks its streams: the process aborts (SIGABRT on
 * `find_stream_on_goaway_func: Assertion 'stream->closed_next == NULL'`,
 * `free(): invalid pointer`, or SIGSEGV) once the connection has carried
 * about a hundred streams (denoland/deno#36788). A server sends that GOAWAY
 * when it shuts down. Measured with a client process making 400 health
 * checks on one channel while the server shut down (client aborts / runs):
 * 10/20 without, 0/20 with (docs/deployment.md).
 *
 * grpc-js opens its sessions with `http2.connect` and offers no hook, so
 * this wraps `connect` on the process's `node:http2` module (the object
 * grpc-js `require`s), once; each session's `emit` then opens the window of
 * deferred closes before the `goaway` listeners run (a listener would not
 * do: grpc-js removes all listeners once the session is connected), and
 * changes nothing else. The same window logic lives in
 * server/defer_goaway_close.ts (client/ may not import server/).
 *
 * TODO(#7): remove once Deno defers the destroy itself (denoland/deno#36788).
 *
 * @module
 */
import http2 from "node:http2";

/** The part of a `node:http2` session this module uses. */
interface SessionLike {
  close: (...args: unknown[]) => unknown;
  destroy: (...args: unknown[]) => unknown;
  emit: (event: string | symbol, ...args: unknown[]) => boolean;
}

const WRAPPED = Symbol.for("rnn-explain.deferGoawayClose");

/**
 * Wraps `http2.connect` (once per process) so that each new client session
 * defers the closes that a received GOAWAY triggers to the next macrotask.
 *
 * @returns whether this call installed the wrapper (false: already there)
 */
export function deferGoawayCloseOnConnect(): boolean {
  const mod = http2 as unknown as Record<PropertyKey, unknown> & {
    connect: (...args: unknown[]) => SessionLike;
  };
  if (mod[WRAPPED] === true) return false;
  const connect = mod.connect;
  mod.connect = function (this: unknown, ...args: unknown[]) {
    const session = connect.apply(this, args);
    // Not a listener: grpc-js removes all listeners once connected.
    const emit = session.emit;
    session.emit = function (this: SessionLike, event, ...rest) {
      if (event === "goaway") deferCloses(session);
      return emit.call(this, event, ...rest);
    };
    return session;
  };
  mod[WRAPPED] = true;
  return true;
}

/** Sessions inside a GOAWAY's window of deferred closes. */
const deferring = new WeakSet<SessionLike>();

/**
 * Replaces the session's `close` and `destroy` until the next macrotask:
 * every call in that window runs on a timer instead, with the original
 * method.
 */
export function deferCloses(session: SessionLike): void {
  if (deferring.has(session)) return;
  deferring.add(session);
  const originals = (["close", "destroy"] as const).map((name) => ({
    name,
    own: Object.hasOwn(session, name),
    method: session[name],
  }));
  for (const { name, method } of originals) {
    session[name] = (...args: unknown[]) => {
      setTimeout(() => method.apply(session, args), 0);
    };
  }
  // Scheduled before any deferred call, so those find the originals back.
  setTimeout(() => {
    deferring.delete(session);
    for (const { name, own, method } of originals) {
      if (own) session[name] = method;
      else delete (session as Partial<SessionLike>)[name];
    }
  }, 0);
}
