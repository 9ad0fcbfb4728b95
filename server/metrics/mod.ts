/**
 * Prometheus metrics of the server: a small registry, the per-RPC request
 * metrics the access-log interceptor records, compute-pool and training-job
 * gauges read at every scrape, and the HTTP endpoint serving `/metrics`.
 *
 * @example
 * ```ts
 * const registry = new MetricsRegistry();
 * const requests = createRequestMetrics(registry);
 * requests.observe("rnnexplain.v1.ModelService/ListModels", "OK", 0.002);
 * await using server = startMetricsServer(registry, { host: "127.0.0.1", port: 0 });
 * ```
 *
 * @module
 */
export {
  Counter,
  DEFAULT_BUCKETS,
  Gauge,
  Histogram,
  type Labels,
  MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
} from "./metrics_registry.ts";
export {
  createRequestMetrics,
  type RequestMetrics,
} from "./request_metrics.ts";
export {
  addComputeMetrics,
  type ComputeMetricsOptions,
  type ComputeStatsSource,
} from "./compute_metrics.ts";
export {
  addJobMetrics,
  type JobSnapshot,
  type JobSource,
} from "./job_metrics.ts";
export {
  type MetricsServer,
  startMetricsServer,
  type StartMetricsServerOptions,
} from "./metrics_server.ts";
