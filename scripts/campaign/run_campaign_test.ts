/**
 * The campaign runner against two real servers on loopback: one is killed
 * (forced shutdown, its calls cut off) while it runs a unit; the campaign
 * completes on the survivor, and a restarted runner skips every finished
 * unit without a single new StartTraining or Evaluate call.
 */
import assert from "node:assert/strict";
import { createRnnExplainClient } from "../../client/mod.ts";
import {
  createLogger,
  defineConfig,
  type ServerHandle,
  startServer,
} from "../../server/main.ts";
import { campaignUnits, parseCampaign } from "./campaign_spec.ts";
import { runCampaign } from "./run_campaign.ts";
import { readResults } from "./results_log.ts";
import { type CampaignServer, runUnit } from "./run_unit.ts";

type LogRecord = Record<string, unknown>;

interface LoopbackServer extends AsyncDisposable {
  server: ServerHandle;
  address: string;
  logs: LogRecord[];
}

/** A real server on 127.0.0.1:0 (wasm, one worker, a temporary folder), its log lines captured. */
async function startLoopbackServer(): Promise<LoopbackServer> {
  const logs: LogRecord[] = [];
  const logger = createLogger({
    level: "info",
    destination: { write: (line: string) => logs.push(JSON.parse(line)) },
  });
  const checkpointDir = await Deno.makeTempDir({ prefix: "campaign_srv_" });
  const server = await startServer(
    defineConfig({
      workers: 1,
      host: "127.0.0.1",
      port: 0,
      backend: "wasm",
      logLevel: "info",
      checkpointDir,
      shutdownGraceMs: 2000,
    }),
    { logger },
  );
  return {
    server,
    address: `127.0.0.1:${server.port}`,
    logs,
    async [Symbol.asyncDispose]() {
      try {
        await server.shutdown();
      } finally {
        await Deno.remove(checkpointDir, { recursive: true });
      }
    },
  };
}

const CAMPAIGN = parseCampaign({
  name: "test",
  datasets: ["mnist"],
  architectures: ["shallow", "r_lstm@stationary"],
  explainers: [{ name: "SA", method: "sensitivity" }],
  folds: 7,
  foldIndices: [0, 1],
  epochs: 1,
  maxTrainSamples: 100,
  learningRate: 0.002,
  evalSamples: 4,
  perturbation: { steps: 2, patchSize: 14, maxSamples: 2 },
});

function calls(logs: LogRecord[], rpc: string): number {
  return logs.filter((l) =>
    l.msg === "Request finished" && String(l.rpc).endsWith(`/${rpc}`)
  ).length;
}

/** A server as a separate process (to be SIGKILLed), on a free loopback port. */
async function spawnServer(): Promise<
  AsyncDisposable & { address: string; child: Deno.ChildProcess }
> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const checkpointDir = await Deno.makeTempDir({ prefix: "campaign_srv_" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "server/main.ts",
      "--host=127.0.0.1",
      `--port=${port}`,
      `--checkpoint-dir=${checkpointDir}`,
      "--workers=1",
      "--backend=wasm",
      "--log-level=warn",
    ],
    cwd: new URL("../..", import.meta.url).pathname,
    stdout: "null",
    stderr: "null",
  }).spawn();
  const address = `127.0.0.1:${port}`;
  const probeClient = createRnnExplainClient(address);
  try {
    await probeClient.waitForReady(60_000);
  } finally {
    probeClient.close();
  }
  return {
    address,
    child,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await child.status;
      await Deno.remove(checkpointDir, { recursive: true });
    },
  };
}

Deno.test("runCampaign() finishes on the survivor when a server process is SIGKILLed mid-campaign, and a restart recomputes nothing", async () => {
  await using a = await startLoopbackServer();
  await using b = await spawnServer();
  const dir = await Deno.makeTempDir({ prefix: "campaign_test_" });
  const results = `${dir}/results.jsonl`;
  const servers: CampaignServer[] = [a, b].map((t) => ({
    address: t.address,
    backend: "wasm",
    client: createRnnExplainClient(t.address),
  }));
  try {
    let killed = false;
    const lines: string[] = [];
    const first = await runCampaign(CAMPAIGN, servers, results, {
      retryDelayMs: 100,
      log: (line) => {
        lines.push(line);
        // Kill B the moment it starts training its first unit.
        if (!killed && line.includes(`: training`)) {
          const unit = line.split(":")[0];
          const onB = lines.some((l) =>
            l.startsWith(`${unit}: start on ${b.address}`)
          );
          if (onB) {
            killed = true;
            b.child.kill("SIGKILL");
          }
        }
      },
    });
    assert.ok(killed, "B was killed mid-campaign");
    assert.deepEqual(first.failed, []);
    assert.equal(first.finished.length, 4);
    const recorded = await readResults(results);
    assert.deepEqual(
      recorded.map((r) => r.key).sort(),
      [
        "mnist|r_lstm|stationary|fold 0/7|seed 1",
        "mnist|r_lstm|stationary|fold 1/7|seed 1",
        "mnist|shallow|naive|fold 0/7|seed 1",
        "mnist|shallow|naive|fold 1/7|seed 1",
      ],
    );
    const retried = recorded.filter((r) => r.attempts > 1);
    assert.equal(retried.length, 1, "the unit in flight on B was retried");
    assert.equal(retried[0]!.server, a.address);
    for (const r of recorded) {
      assert.equal(r.server, a.address, "every unit finished on the survivor");
      assert.equal(r.explainers.length, 1);
      const e = r.explainers[0]!;
      assert.ok(e.cosineSimilarity.mean >= -1 && e.cosineSimilarity.mean <= 1);
      assert.ok(e.cosineSimilarity.ci95Low <= e.cosineSimilarity.mean);
      assert.equal(e.perturbation?.curve.length, 3);
      assert.equal(e.perturbation?.sampleCount, 2);
    }

    const trained = calls(a.logs, "StartTraining");
    const evaluated = calls(a.logs, "Evaluate");
    assert.equal(evaluated, 4);
    const second = await runCampaign(CAMPAIGN, servers, results, {
      retryDelayMs: 100,
    });
    assert.equal(second.finished.length, 0);
    assert.equal(second.skipped.length, 4);
    assert.equal(calls(a.logs, "StartTraining"), trained);
    assert.equal(calls(a.logs, "Evaluate"), evaluated);
    assert.equal((await readResults(results)).length, 4);
  } finally {
    for (const s of servers) s.client.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runCampaign() reuses a model the server already holds, and runUnit() imports it from a peer that holds it", async () => {
  await using a = await startLoopbackServer();
  await using b = await startLoopbackServer();
  const dir = await Deno.makeTempDir({ prefix: "campaign_test_" });
  const servers: CampaignServer[] = [{
    address: a.address,
    backend: "wasm",
    client: createRnnExplainClient(a.address),
  }];
  const one = parseCampaign({
    ...CAMPAIGN,
    architectures: ["r_lstm"],
    foldIndices: [0],
  });
  try {
    const first = await runCampaign(one, servers, `${dir}/a.jsonl`);
    assert.equal(first.finished[0]?.modelSource, "trained");
    // A new results file: the unit runs again, but its model is found by name.
    const second = await runCampaign(one, servers, `${dir}/b.jsonl`);
    assert.equal(second.finished[0]?.modelSource, "reused");
    assert.equal(second.finished[0]?.modelId, first.finished[0]?.modelId);
    assert.equal(calls(a.logs, "StartTraining"), 1);
    // B has no model: it imports A's over ExportModel/ImportModel.
    const onB: CampaignServer = {
      address: b.address,
      backend: "wasm",
      client: createRnnExplainClient(b.address),
    };
    try {
      const imported = await runUnit(onB, campaignUnits(one)[0]!, one, {
        peers: servers,
      });
      assert.equal(imported.modelSource, "imported");
      assert.equal(imported.server, b.address);
      assert.equal(calls(b.logs, "StartTraining"), 0);
      assert.equal(calls(b.logs, "ImportModel"), 1);
      assert.equal(
        imported.explainers[0]!.cosineSimilarity.mean,
        first.finished[0]!.explainers[0]!.cosineSimilarity.mean,
        "the same weights score the same",
      );
    } finally {
      onB.client.close();
    }
  } finally {
    servers[0]!.client.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runCampaign() gives up, listing the units as failed, when every server stays down", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const address = `127.0.0.1:${(probe.addr as Deno.NetAddr).port}`;
  probe.close(); // Nothing listens there any more.
  const dir = await Deno.makeTempDir({ prefix: "campaign_test_" });
  const client = createRnnExplainClient(address, { defaultTimeoutMs: 2000 });
  try {
    const outcome = await runCampaign(
      parseCampaign({ ...CAMPAIGN, architectures: ["shallow"] }),
      [{ address, backend: "wasm", client }],
      `${dir}/r.jsonl`,
      { retryDelayMs: 50, giveUpAfterMs: 300 },
    );
    assert.equal(outcome.finished.length, 0);
    assert.deepEqual(
      outcome.failed.map((f) => f.key).sort(),
      [
        "mnist|shallow|naive|fold 0/7|seed 1",
        "mnist|shallow|naive|fold 1/7|seed 1",
      ],
    );
  } finally {
    client.close();
    await Deno.remove(dir, { recursive: true });
  }
});
