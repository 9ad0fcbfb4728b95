/**
 * The command line end to end: `client/cli/main.ts` run as a subprocess
 * (the way `deno task cli` runs it, with scoped permissions) against a real
 * server on 127.0.0.1:0.
 */
import assert from "node:assert/strict";
import { JobState, Status } from "../../client/mod.ts";
import { importModel, startTestServer, withDeadline } from "../_helpers.ts";

const CLI = new URL("../../client/cli/main.ts", import.meta.url).pathname;

/** Runs the CLI to completion. */
async function cli(
  address: string,
  dir: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await command(address, dir, args).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

function command(address: string, dir: string, args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--allow-net=${address}`,
      `--allow-read=.,${dir}`,
      `--allow-write=${dir}`,
      "--allow-env",
      "--allow-sys=uid,gid",
      CLI,
      "--address",
      address,
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
}

Deno.test("cli models list, show, export, delete and import work against a server", async () => {
  await using server = await startTestServer();
  using client = server.connect();
  const dir = await Deno.makeTempDir({ prefix: "rnn_explain_cli_" });
  try {
    await importModel(client, "cli-m1");
    const list = await cli(server.address, dir, ["models", "list", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    const ids = JSON.parse(list.stdout).models.map((m: { id: string }) => m.id);
    assert.deepEqual(ids, ["cli-m1"]);

    const table = await cli(server.address, dir, ["models", "list"]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ID +NAME +ARCH +T +DATA +HELD-OUT +CREATED\n/);
    assert.match(table.stdout, /\ncli-m1 +- +r_lstm +12 +mnist\/majority /);

    const file = `${dir}/m1.rnnx`;
    const exported = await cli(server.address, dir, [
      "models",
      "export",
      "cli-m1",
      file,
    ]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /^Exported model "cli-m1" to .*m1\.rnnx/);
    const removed = await cli(server.address, dir, [
      "models",
      "delete",
      "cli-m1",
    ]);
    assert.equal(removed.stdout, 'Deleted model "cli-m1"\n');

    const missing = await cli(server.address, dir, [
      "models",
      "show",
      "cli-m1",
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: NOT_FOUND: .*cli-m1/);

    const imported = await cli(server.address, dir, ["models", "import", file]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.stdout, 'Imported model "cli-m1"\n');
    const { model } = await client.getModel({ modelId: "cli-m1" });
    assert.equal(model?.id, "cli-m1");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli explain streams the steps and writes heatmap PNGs and JSON", async () => {
  await using server = await startTestServer();
  using client = server.connect();
  const dir = await Deno.makeTempDir({ prefix: "rnn_explain_cli_" });
  try {
    await importModel(client, "cli-m2");
    const r = await cli(server.address, dir, [
      "explain",
      "cli-m2",
      "--sample-index",
      "3",
      "--method",
      "lrp_alpha_beta",
      "--alpha",
      "1.5",
      "--beta",
      "0.5",
      "--out",
      `${dir}/out`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const steps = [...r.stdout.matchAll(/^step +(\d+): sum /gm)].map((m) =>
      Number(m[1])
    );
    assert.deepEqual(steps, [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    assert.match(r.stdout, /^lrp_alpha_beta: target class \d/m);
    const names: string[] = [];
    for await (const e of Deno.readDir(`${dir}/out`)) names.push(e.name);
    assert.deepEqual(names.sort(), [
      "explanation.json",
      "sequence.png",
      ...Array.from(
        { length: 12 },
        (_, t) => `step_${String(t).padStart(2, "0")}.png`,
      ),
    ]);
    const png = await Deno.readFile(`${dir}/out/sequence.png`);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    // 28 × 84 values at 8 pixels each.
    const view = new DataView(png.buffer, png.byteOffset);
    assert.deepEqual([view.getUint32(16), view.getUint32(20)], [672, 224]);
    const json = JSON.parse(
      await Deno.readTextFile(`${dir}/out/explanation.json`),
    );
    assert.deepEqual(json.shape, [12, 28, 7]);
    assert.equal(json.relevance.length, 12);
    assert.equal(json.method, "lrp_alpha_beta");
    assert.equal(json.params.alpha, 1.5);
    assert.equal(json.params.beta, 0.5);
    // Each step's sum in the file matches the relevance it holds.
    for (const [t, sum] of (json.stepSums as number[]).entries()) {
      const total = (json.relevance[t] as number[][]).flat().reduce(
        (a, b) => a + b,
        0,
      );
      assert.ok(Math.abs(total - sum) <= 1e-4 * (1 + Math.abs(sum)));
    }

    const bad = await cli(server.address, dir, [
      "explain",
      "cli-m2",
      "--sample-index",
      "3",
      "--method",
      "sensitivity",
      "--alpha",
      "1.5",
      "--out",
      `${dir}/bad`,
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: INVALID_ARGUMENT: /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli train cancels its job on SIGINT and exits with 130", async () => {
  await using server = await startTestServer();
  using client = server.connect();
  const dir = await Deno.makeTempDir({ prefix: "rnn_explain_cli_" });
  try {
    const child = command(server.address, dir, [
      "train",
      "--epochs",
      "50",
      "--in1",
      "16",
      "--recur",
      "8",
      "--max-samples",
      "2000",
    ]).spawn();
    const stdout = new Response(child.stdout).text();
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    let stderr = "";
    const jobId = await withDeadline(
      (async () => {
        while (true) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`The CLI ended early: ${stderr}`);
          stderr += value;
          const match = stderr.match(/Started training job (\S+)\n/);
          if (match && /epoch 1\/50/.test(stderr)) return match[1]!;
        }
      })(),
      30_000,
      "the job to start",
    );
    child.kill("SIGINT");
    const rest = (async () => {
      while (true) {
        const { value, done } = await reader.read();
        if (done) return;
        stderr += value;
      }
    })();
    const status = await withDeadline(child.status, 30_000, "the CLI to exit");
    await rest;
    assert.equal(await stdout, "");
    assert.equal(status.code, 130, stderr);
    assert.match(stderr, new RegExp(`Interrupted: cancelling job ${jobId}`));
    assert.match(stderr, new RegExp(`Job ${jobId} ended cancelled`));
    const { job } = await client.getTrainingJob({ jobId });
    assert.equal(job?.state, JobState.JOB_STATE_CANCELLED);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli reports an unreachable server with UNAVAILABLE and exit code 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rnn_explain_cli_" });
  try {
    // Port 1 on loopback: nothing listens there.
    const r = await cli("127.0.0.1:1", dir, [
      "--deadline",
      "5",
      "jobs",
      "list",
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`^error: ${Status[Status.UNAVAILABLE]}: `),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
