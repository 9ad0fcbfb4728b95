/**
 * The HTTP endpoint Prometheus scrapes: `GET /metrics` renders the registry
 * in the text format; every other path is 404 and every other method 405.
 * It runs beside the gRPC server on its own port (`--metrics-port`).
 *
 * @module
 */
import {
  type MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
} from "./metrics_registry.ts";

/** A running metrics endpoint. */
export interface MetricsServer extends AsyncDisposable {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Stops listening and waits for open requests to finish. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@linkcode startMetricsServer}. */
export interface StartMetricsServerOptions {
  /** Interface to listen on. */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /**
   * Called when a render fails; the scrape gets a 500.
   * @default ignore
   */
  onError?: (err: unknown) => void;
}

/**
 * Starts serving `/metrics`.
 *
 * @param registry the metrics to render at every scrape
 * @param options host and port
 * @returns the running server; `close()` it on shutdown
 * @throws {Error} when the address cannot be bound
 *
 * @example
 * ```ts
 * await using metrics = startMetricsServer(new MetricsRegistry(), { host: "127.0.0.1", port: 9464 });
 * ```
 */
export function startMetricsServer(
  registry: MetricsRegistry,
  options: StartMetricsServerOptions,
): MetricsServer {
  const server = Deno.serve({
    hostname: options.host,
    port: options.port,
    onListen: () => {},
  }, (request) => {
    const { pathname } = new URL(request.url);
    if (pathname !== "/metrics") {
      return new Response("Not found: only /metrics is served\n", {
        status: 404,
      });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed\n", {
        status: 405,
        headers: { allow: "GET, HEAD" },
      });
    }
    let body: string;
    try {
      body = registry.render();
    } catch (err) {
      options.onError?.(err);
      return new Response("Cannot render the metrics\n", { status: 500 });
    }
    return new Response(request.method === "HEAD" ? null : body, {
      headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
    });
  });
  let closing: Promise<void> | undefined;
  const close = () => closing ??= server.shutdown();
  return {
    port: server.addr.port,
    close,
    [Symbol.asyncDispose]: close,
  };
}
