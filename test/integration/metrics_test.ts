/**
 * Observability over the wire: after a few calls, `/metrics` on the metrics
 * port shows the request counters and latency histogram moved with the
 * right service, method and status labels, and the compute-pool and
 * training-job gauges of the real services; every log line of a call
 * carries its request id.
 */
import assert from "node:assert/strict";
import { Status } from "../../client/mod.ts";
import { assertStatus, startTestServer } from "../_helpers.ts";

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(
    res.headers.get("content-type") ?? "",
    /^text\/plain; version=0\.0\.4/,
  );
  return await res.text();
}

Deno.test("/metrics counts calls by service, method and status, with latency, pool and job gauges", async () => {
  await using server = await startTestServer({ config: { metricsPort: 0 } });
  const port = server.server.metricsPort;
  assert.ok(port !== undefined && port > 0);
  using client = server.connect();
  const before = await scrape(port);
  const list =
    'grpc_service="rnnexplain.v1.ModelService",grpc_method="ListModels",grpc_code="OK"';
  const missing =
    'grpc_service="rnnexplain.v1.ModelService",grpc_method="GetModel",grpc_code="NOT_FOUND"';
  assert.equal(sample(before, `grpc_server_handled_total{${list}}`), undefined);

  await client.listModels({});
  await client.listModels({});
  await assertStatus(
    client.getModel({ modelId: "nope" }, {
      metadata: { "x-request-id": "m-1" },
    }),
    Status.NOT_FOUND,
  );
  assert.equal(await client.checkHealth(), "SERVING");

  const after = await scrape(port);
  assert.equal(sample(after, `grpc_server_handled_total{${list}}`), 2);
  assert.equal(sample(after, `grpc_server_handled_total{${missing}}`), 1);
  assert.equal(
    sample(
      after,
      'grpc_server_handled_total{grpc_service="grpc.health.v1.Health",grpc_method="Check",grpc_code="OK"}',
    ),
    1,
  );
  assert.equal(sample(after, `grpc_server_handling_seconds_count{${list}}`), 2);
  assert.equal(
    sample(after, `grpc_server_handling_seconds_bucket{${list},le="+Inf"}`),
    2,
  );
  assert.ok(sample(after, `grpc_server_handling_seconds_sum{${list}}`)! > 0);
  // The real pool and job manager behind the services.
  assert.equal(sample(after, "rnn_explain_compute_workers"), 1);
  assert.equal(sample(after, "rnn_explain_compute_queue_depth"), 0);
  assert.ok(sample(after, "rnn_explain_compute_utilization_ratio")! >= 0);
  assert.equal(
    sample(after, 'rnn_explain_training_jobs{state="RUNNING"}'),
    0,
  );

  // Every line logged for the NOT_FOUND call carries its request id.
  const ofCall = server.logs.filter((l) => l.requestId === "m-1");
  assert.ok(ofCall.some((l) => l.msg === "Request finished"));
  for (const line of server.logs) {
    if (line.rpc !== undefined) {
      assert.equal(typeof line.requestId, "string", JSON.stringify(line));
    }
  }
});

Deno.test("the metrics endpoint is off unless metricsPort is set", async () => {
  await using server = await startTestServer({ handlers: {} });
  assert.equal(server.server.metricsPort, undefined);
});
