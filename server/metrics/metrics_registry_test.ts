import assert from "node:assert/strict";
import { MetricsRegistry } from "./metrics_registry.ts";

Deno.test("MetricsRegistry.render() writes counters, gauges and histograms in the text format", () => {
  const registry = new MetricsRegistry();
  const calls = registry.counter("calls_total", "Calls\nmade", ["method"]);
  const depth = registry.gauge("queue_depth", "Queued tasks");
  const latency = registry.histogram("latency_seconds", "Latency", ["m"], [
    0.1,
    1,
  ]);
  calls.inc({ method: 'a"b\\c' });
  calls.inc({ method: 'a"b\\c' }, 2);
  calls.inc({ method: "x" });
  depth.set({}, 4);
  latency.observe({ m: "x" }, 0.05);
  latency.observe({ m: "x" }, 0.5);
  latency.observe({ m: "x" }, 3);
  assert.equal(
    registry.render(),
    [
      "# HELP calls_total Calls\\nmade",
      "# TYPE calls_total counter",
      'calls_total{method="a\\"b\\\\c"} 3',
      'calls_total{method="x"} 1',
      "# HELP queue_depth Queued tasks",
      "# TYPE queue_depth gauge",
      "queue_depth 4",
      "# HELP latency_seconds Latency",
      "# TYPE latency_seconds histogram",
      'latency_seconds_bucket{m="x",le="0.1"} 1',
      'latency_seconds_bucket{m="x",le="1"} 2',
      'latency_seconds_bucket{m="x",le="+Inf"} 3',
      'latency_seconds_sum{m="x"} 3.55',
      'latency_seconds_count{m="x"} 3',
      "",
    ].join("\n"),
  );
});

Deno.test("MetricsRegistry runs its collectors before every render", () => {
  const registry = new MetricsRegistry();
  const gauge = registry.gauge("now_value", "A value read at scrape time");
  let value = 1;
  registry.addCollector(() => gauge.set({}, value));
  assert.match(registry.render(), /^now_value 1$/m);
  value = 7;
  assert.match(registry.render(), /^now_value 7$/m);
});

Deno.test("Counter.sync() mirrors a total without ever going down", () => {
  const registry = new MetricsRegistry();
  const c = registry.counter("mirrored_total", "Mirrored");
  c.sync({}, 5);
  c.sync({}, 3);
  assert.match(registry.render(), /^mirrored_total 5$/m);
});

Deno.test("MetricsRegistry throws RangeError for taken or invalid names, wrong labels, negative increments", () => {
  const registry = new MetricsRegistry();
  const c = registry.counter("a_total", "A", ["x"]);
  assert.throws(() => registry.gauge("a_total", "again"), RangeError);
  assert.throws(() => registry.gauge("bad-name", "B"), RangeError);
  assert.throws(() => registry.gauge("b", "B", ["le"]), RangeError);
  assert.throws(() => registry.histogram("h", "H", [], [1, 1]), RangeError);
  assert.throws(() => c.inc({}), RangeError);
  assert.throws(() => c.inc({ x: "1", y: "2" }), RangeError);
  assert.throws(() => c.inc({ x: "1" }, -1), RangeError);
});
