/**
 * Per-RPC request metrics under the names of go-grpc-prometheus, so that
 * existing dashboards work: `grpc_server_handled_total` and
 * `grpc_server_handling_seconds`, labelled by service, method and status
 * code name. The access-log interceptor records one observation per call.
 *
 * @module
 */
import type { MetricsRegistry } from "./metrics_registry.ts";

/** Records finished calls. */
export interface RequestMetrics {
  /**
   * Records one finished call.
   *
   * @param method the full method, `package.Service/Method`
   * @param code the status code's name, e.g. `OK`, `UNAUTHENTICATED`
   * @param seconds how long the call took
   */
  observe(method: string, code: string, seconds: number): void;
}

/**
 * Registers the request metrics.
 *
 * @param registry where they are rendered
 * @returns the recorder the interceptor calls
 */
export function createRequestMetrics(
  registry: MetricsRegistry,
): RequestMetrics {
  const labels = ["grpc_service", "grpc_method", "grpc_code"];
  const handled = registry.counter(
    "grpc_server_handled_total",
    "RPCs completed on the server, by service, method and status code",
    labels,
  );
  const seconds = registry.histogram(
    "grpc_server_handling_seconds",
    "Time from the call's arrival to its status, in seconds",
    labels,
  );
  return {
    observe(method, code, durationSeconds) {
      const slash = method.lastIndexOf("/");
      const l = {
        "grpc_service": slash < 0 ? "" : method.slice(0, slash),
        "grpc_method": method.slice(slash + 1),
        "grpc_code": code,
      };
      handled.inc(l);
      seconds.observe(l, durationSeconds);
    },
  };
}
