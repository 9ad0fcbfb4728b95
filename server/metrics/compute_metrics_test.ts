import assert from "node:assert/strict";
import { addComputeMetrics } from "./compute_metrics.ts";
import { MetricsRegistry } from "./metrics_registry.ts";

function value(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  assert.ok(line !== undefined, `no series ${series} in\n${text}`);
  return Number(line.slice(series.length + 1));
}

Deno.test("addComputeMetrics() reports queue depth, task outcomes and busy-time utilisation", () => {
  const registry = new MetricsRegistry();
  let clock = 0;
  const stats = {
    workers: 2,
    busy: 0,
    queued: 3,
    done: 5,
    failed: 1,
    cancelled: 2,
    crashed: 0,
  };
  using sampler = addComputeMetrics(registry, { stats: () => stats }, {
    now: () => clock,
    windowMs: 10_000,
    sampleMs: 60_000,
  });
  // 4 s with one of two workers busy, then 4 s with both busy.
  stats.busy = 1;
  clock = 4000;
  sampler.sample();
  stats.busy = 2;
  clock = 8000;
  const text = registry.render();
  assert.equal(value(text, "rnn_explain_compute_workers"), 2);
  assert.equal(value(text, "rnn_explain_compute_workers_busy"), 2);
  assert.equal(value(text, "rnn_explain_compute_queue_depth"), 3);
  assert.equal(
    value(text, 'rnn_explain_compute_tasks_total{outcome="done"}'),
    5,
  );
  assert.equal(
    value(text, 'rnn_explain_compute_tasks_total{outcome="cancelled"}'),
    2,
  );
  assert.equal(value(text, "rnn_explain_compute_busy_seconds_total"), 12);
  // 12 busy worker-seconds of 16 available.
  assert.equal(value(text, "rnn_explain_compute_utilization_ratio"), 0.75);
  // Idle for a whole window: the utilisation falls to 0.
  stats.busy = 0;
  for (let t = 9000; t <= 20_000; t += 1000) {
    clock = t;
    sampler.sample();
  }
  assert.equal(
    value(registry.render(), "rnn_explain_compute_utilization_ratio"),
    0,
  );
});
