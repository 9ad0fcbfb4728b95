/**
 * Moves the close that a received GOAWAY triggers out of nghttp2's frame
 * callback, so that a client closing its channel cannot abort the server.
 *
 * Why: on Deno 2.9.6, `node:http2` runs the JavaScript `onGoawayData`
 * handler from inside nghttp2's `on_frame_recv` callback, that is while
 * `nghttp2_session_mem_recv` is still processing the GOAWAY frame. The
 * handler emits `goaway` and then calls `session.close()`, which, on a
 * connection with no open stream, destroys the session there and then. When
 * the callback returns, nghttp2 goes on with the frame
 * (`session_close_stream_on_goaway` walks the stream map), apparently in
 * memory the destroy freed: once the connection has carried about a hundred
 * streams the process dies with SIGABRT (`find_stream_on_goaway_func:
 * Assertion 'stream->closed_next == NULL'`, `free(): invalid pointer`) or
 * SIGSEGV. Every grpc-js client sends that GOAWAY when it closes its channel.
 *
 * The fix: a `goaway` listener on each server session (it runs first,
 * inside the same callback) makes every `close()` or `destroy()` on that
 * session until the next macrotask run on a timer, after nghttp2 has
 * finished with the frame. Measured with one client process making 400
 * health checks on one channel and then closing it (server/main.ts aborts /
 * runs): 9/10 without, 0/20 with; 16 channels: 0/10 with
 * (docs/deployment.md has the table). Advertising a finite
 * SETTINGS_MAX_CONCURRENT_STREAMS (8, 32, 100, 1000) or other settings did
 * not help: Deno's `node:http2` already turns nghttp2's closed-stream
 * retention off.
 *
 * grpc-js gives no access to its sessions, so this reaches its private
 * `http2Servers` map (the `node:http2` servers that `bindAsync` created;
 * @grpc/grpc-js 1.14.7 pinned in deno.json) and fails loudly if that map is
 * missing, so an upgrade cannot silently drop the fix.
 *
 * TODO(#7): remove once Deno defers the destroy itself (denoland/deno#36788).
 *
 * @module
 */

/** The part of a `node:http2` server session this module uses. */
interface SessionLike {
  close: (...args: unknown[]) => unknown;
  destroy: (...args: unknown[]) => unknown;
  on(event: "goaway", listener: () => void): unknown;
}

/** The part of a `node:http2` server this module uses. */
interface Http2ServerLike {
  on(event: "session", listener: (session: SessionLike) => void): unknown;
}

/**
 * Makes every HTTP/2 session of a bound grpc-js server close on a
 * macrotask, not inside nghttp2, when it receives a GOAWAY. Call it after
 * `bindAsync` succeeded; it applies to every address bound so far.
 *
 * @param server a grpc-js `Server` after a successful `bindAsync`
 * @returns the number of `node:http2` servers it was attached to
 * @throws {TypeError} if `server` has no `http2Servers` map (grpc-js changed)
 *
 * @example
 * ```ts
 * server.bindAsync("127.0.0.1:0", credentials, (err) => {
 *   if (err === null) deferGoawayClose(server);
 * });
 * ```
 */
export function deferGoawayClose(server: object): number {
  const servers = (server as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map)) {
    throw new TypeError(
      "Cannot defer the GOAWAY close: the grpc-js server has no http2Servers map (grpc-js changed; see server/defer_goaway_close.ts)",
    );
  }
  for (const h2 of servers.keys() as Iterable<Http2ServerLike>) {
    h2.on("session", (session) => {
      session.on("goaway", () => deferCloses(session));
    });
  }
  return servers.size;
}

/** Sessions inside a GOAWAY's window of deferred closes. */
const deferring = new WeakSet<SessionLike>();

/**
 * Replaces the session's `close` and `destroy` until the next macrotask:
 * every call in that window (`node:http2`'s own close after the `goaway`
 * event, and any a `goaway` listener makes) runs on a timer instead, with
 * the original method.
 */
function deferCloses(session: SessionLike): void {
  // A second GOAWAY in the same window: the wrappers are still there.
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
