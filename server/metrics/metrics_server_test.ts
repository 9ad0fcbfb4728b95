import assert from "node:assert/strict";
import {
  MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
} from "./metrics_registry.ts";
import { startMetricsServer } from "./metrics_server.ts";

Deno.test("startMetricsServer() serves /metrics and refuses other paths and methods", async () => {
  const registry = new MetricsRegistry();
  registry.counter("probe_total", "Probes").inc();
  await using server = startMetricsServer(registry, {
    host: "127.0.0.1",
    port: 0,
  });
  const base = `http://127.0.0.1:${server.port}`;
  const ok = await fetch(`${base}/metrics`);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("content-type"), PROMETHEUS_CONTENT_TYPE);
  assert.match(await ok.text(), /^probe_total 1$/m);
  const missing = await fetch(`${base}/`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  const post = await fetch(`${base}/metrics`, { method: "POST" });
  assert.equal(post.status, 405);
  await post.body?.cancel();
});

Deno.test("startMetricsServer() answers 500 and reports the error when a collector throws", async () => {
  const registry = new MetricsRegistry();
  registry.addCollector(() => {
    throw new Error("boom");
  });
  const errors: unknown[] = [];
  await using server = startMetricsServer(registry, {
    host: "127.0.0.1",
    port: 0,
    onError: (err) => errors.push(err),
  });
  const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
  assert.equal(res.status, 500);
  await res.body?.cancel();
  assert.equal(errors.length, 1);
});
