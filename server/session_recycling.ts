/**
 * Closes each HTTP/2 connection gracefully once it has carried a fixed
 * number of streams, so that no connection ever carries many.
 *
 * Why: on Deno 2.9.6, the nghttp2 session behind `node:http2` aborts the
 * whole process (SIGABRT on `find_stream_on_goaway_func: Assertion
 * 'stream->closed_next == NULL'`, `free(): invalid pointer`, or SIGSEGV)
 * when it receives a GOAWAY on a connection that has carried about a hundred
 * streams or more (denoland/deno#36788). Every grpc-js client sends that
 * GOAWAY when it closes its channel, so any client could take the server
 * down. Measured with a client process making N health checks (every 25th
 * a Watch cancelled after its first message) and then closing its channels
 * (server aborts / runs, before this module): one channel, N = 60: 0/3,
 * N = 95..120: 5/15, N = 200: 3/3, N = 400: 6/6; 16 channels sharing 400
 * calls: 7/7; a client that exits without closing (TCP close, no GOAWAY):
 * 0/4. With this module: 0/6 (one channel, drain 1000 ms) and 0/15 (16
 * channels: 0/10 with a 1000 ms drain, 0/5 with the default 0, which alone
 * lost no call).
 *
 * Cost: a grpc-js client on Deno may end a call it has not finished reading
 * with UNAVAILABLE "Connection dropped" when the old connection closes (its
 * Deno session closes once the HTTP/2 streams end, before grpc-js delivered
 * the status): 0-4 per 400 explanations, 29 per 2,000, in the soak (16
 * callers sharing one connection), whether the server or the client closes the connection.
 *
 * grpc-js has no per-connection stream limit, so this reaches its private
 * `http2Servers` map (the `node:http2` servers that `bindAsync` created;
 * @grpc/grpc-js 1.14.7 pinned in deno.json) and fails loudly if that map is
 * missing, so an upgrade cannot silently drop the workaround.
 *
 * TODO(#7): remove once Deno fixes denoland/deno#36788.
 *
 * @module
 */

/** The part of a `node:http2` session this module uses. */
interface SessionLike {
  readonly closed: boolean;
  readonly destroyed: boolean;
  goaway(code: number, lastStreamID: number): void;
  close(): void;
  once(event: "close", listener: () => void): unknown;
}

/** The part of a `node:http2` server this module uses. */
interface Http2ServerLike {
  on(
    event: "stream",
    listener: (stream: { session?: SessionLike }) => void,
  ): unknown;
}

/** Options of {@linkcode recycleSessions}. */
export interface RecycleSessionsOptions {
  /**
   * Streams a connection may carry: the stream that reaches it is served,
   * then the connection is shut down in two steps (see `drainMs`).
   * @default 50
   */
  maxStreamsPerSession?: number;
  /**
   * Time between the shutdown notice (a GOAWAY whose last stream id is
   * 2^31−1, so the streams already on the wire are still served) and the
   * closing GOAWAY, after which the connection ends once its streams are
   * done. Keep it 0 (the next macrotask) for grpc-js clients on Deno: with
   * 1000 ms they went on writing to the old connection and 2 runs in 10 of
   * 400 health checks on 16 channels lost 14-31 calls to INTERNAL "write
   * EPIPE"; with 0, none in 5.
   * @default 0
   */
  drainMs?: number;
  /** Called each time a connection is shut down this way (for a log line). */
  onRecycle?: (streams: number) => void;
}

/** Default of {@linkcode RecycleSessionsOptions.maxStreamsPerSession}. */
export const DEFAULT_MAX_STREAMS_PER_SESSION = 50;
/** Default of {@linkcode RecycleSessionsOptions.drainMs}. */
export const DEFAULT_DRAIN_MS = 0;

const NGHTTP2_NO_ERROR = 0;
const MAX_STREAM_ID = 2 ** 31 - 1;

/**
 * Makes a bound grpc-js server shut each HTTP/2 connection down gracefully
 * once it has carried `maxStreamsPerSession` streams: a shutdown notice
 * first, then, `drainMs` later, the closing GOAWAY (RFC 9113 §6.8). Clients
 * reconnect for their next calls. Call it after `bindAsync` succeeded; it
 * applies to every address bound so far.
 *
 * @param server a grpc-js `Server` after a successful `bindAsync`
 * @param options the limit, the drain time and a hook per connection
 * @returns the number of `node:http2` servers it was attached to
 * @throws {RangeError} if `maxStreamsPerSession` is not a positive integer
 *   or `drainMs` not a non-negative integer
 * @throws {TypeError} if `server` has no `http2Servers` map (grpc-js changed)
 *
 * @example
 * ```ts
 * recycleSessions(server, { onRecycle: (streams) => log.debug({ streams }, "Connection recycled") });
 * ```
 */
export function recycleSessions(
  server: object,
  options: RecycleSessionsOptions = {},
): number {
  const max = options.maxStreamsPerSession ?? DEFAULT_MAX_STREAMS_PER_SESSION;
  const drainMs = options.drainMs ?? DEFAULT_DRAIN_MS;
  if (!Number.isInteger(max) || max < 1) {
    throw new RangeError(
      `Cannot recycle sessions: expected "maxStreamsPerSession" to be a positive integer, found ${max}`,
    );
  }
  if (!Number.isInteger(drainMs) || drainMs < 0) {
    throw new RangeError(
      `Cannot recycle sessions: expected "drainMs" to be a non-negative integer, found ${drainMs}`,
    );
  }
  const servers = (server as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map)) {
    throw new TypeError(
      "Cannot recycle sessions: the grpc-js server has no http2Servers map (grpc-js changed; see server/session_recycling.ts)",
    );
  }
  const counts = new WeakMap<SessionLike, number>();
  for (const h2 of servers.keys() as Iterable<Http2ServerLike>) {
    // Registered after grpc-js's own listener: the stream that reaches the
    // limit is already being served when the notice is queued.
    h2.on("stream", ({ session }) => {
      if (session === undefined || session.closed) return;
      const n = (counts.get(session) ?? 0) + 1;
      counts.set(session, n);
      if (n !== max) return;
      session.goaway(NGHTTP2_NO_ERROR, MAX_STREAM_ID);
      const timer = setTimeout(() => {
        if (!session.closed && !session.destroyed) session.close();
      }, drainMs);
      session.once("close", () => clearTimeout(timer));
      options.onRecycle?.(n);
    });
  }
  return servers.size;
}
