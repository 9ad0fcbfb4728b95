/**
 * Retires each HTTP/2 connection once it has carried a fixed number of
 * streams (a shutdown notice, then a close once it has been idle for a
 * moment, or at a hard limit), so that no connection ever carries many.
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

/** The part of a `node:http2` stream this module uses. */
interface StreamLike {
  readonly session?: SessionLike;
  once(event: "close", listener: () => void): unknown;
}

/** The part of a `node:http2` server this module uses. */
interface Http2ServerLike {
  on(event: "stream", listener: (stream: StreamLike) => void): unknown;
}

/** What is known of one connection. */
interface SessionState {
  /** Streams it has carried. */
  streams: number;
  /** Streams still open. */
  active: number;
  /** The shutdown notice was sent. */
  draining: boolean;
  /** Pending close once idle. */
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Options of {@linkcode recycleSessions}. */
export interface RecycleSessionsOptions {
  /**
   * Streams a connection may carry: the stream that reaches it is served,
   * then the connection is shut down in two steps (see `drainMs`).
   * @default 40
   */
  maxStreamsPerSession?: number;
  /**
   * Streams after which a connection is closed even if it never goes idle
   * (grpc-js clients on Deno ignore the notice and keep using it); a
   * connection that carried 60 streams never aborted the server in the
   * measurements below, about a hundred did.
   * @default 60
   */
  hardMaxStreamsPerSession?: number;
  /**
   * After the shutdown notice (a GOAWAY whose last stream id is 2^31−1, so
   * streams already on the wire are still served), the connection is closed
   * once it has had no open stream for this long, so that every client has
   * read its last status before the connection goes (closing while a stream
   * was in flight lost calls to UNAVAILABLE "Connection dropped" on Deno
   * clients).
   * @default 50
   */
  drainMs?: number;
  /** Called each time a connection is shut down this way (for a log line). */
  onRecycle?: (streams: number) => void;
}

/** Default of {@linkcode RecycleSessionsOptions.maxStreamsPerSession}. */
export const DEFAULT_MAX_STREAMS_PER_SESSION = 40;
/** Default of {@linkcode RecycleSessionsOptions.drainMs}. */
export const DEFAULT_DRAIN_MS = 50;

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
  const hardMax = Math.max(max, options.hardMaxStreamsPerSession ?? 60);
  const states = new WeakMap<SessionLike, SessionState>();
  const closeNow = (session: SessionLike, state: SessionState) => {
    clearTimeout(state.timer);
    if (!session.closed && !session.destroyed) session.close();
  };
  const closeWhenIdle = (session: SessionLike, state: SessionState) => {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      if (state.active === 0) closeNow(session, state);
    }, drainMs);
  };
  for (const h2 of servers.keys() as Iterable<Http2ServerLike>) {
    // Registered after grpc-js's own listener: the stream that reaches the
    // limit is already being served when the notice is queued.
    h2.on("stream", (stream) => {
      const session = stream.session;
      if (session === undefined || session.closed) return;
      let state = states.get(session);
      if (state === undefined) {
        state = { streams: 0, active: 0, draining: false, timer: undefined };
        states.set(session, state);
        const s = state;
        session.once("close", () => clearTimeout(s.timer));
      }
      const st = state;
      st.streams++;
      st.active++;
      stream.once("close", () => {
        st.active--;
        if (st.draining && st.active === 0) closeWhenIdle(session, st);
      });
      if (st.streams === max) {
        // The notice: well-behaved clients open no new stream here.
        session.goaway(NGHTTP2_NO_ERROR, MAX_STREAM_ID);
        st.draining = true;
        options.onRecycle?.(st.streams);
      }
      // A client that ignores the notice keeps the connection busy: close
      // it anyway before it nears the count Deno aborts at.
      if (st.streams >= hardMax) closeNow(session, st);
    });
  }
  return servers.size;
}
