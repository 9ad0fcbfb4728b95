/**
 * Crash faults: the server process is SIGKILLed while it writes a
 * checkpoint, at each in-between state of the atomic write, reached
 * deterministically through the storage's test-only fault points
 * (`server/storage/_fault_point.ts`); a new server on the same folder must
 * find a consistent store: registry rows and files agree, the interrupted
 * job is INTERRUPTED at its last completed epoch and resumable, and no
 * half-written checkpoint is served. (A kill at a random moment of training
 * is restart_test.ts.) Also: a client process killed mid-stream frees the
 * worker that computed for it.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  Architecture,
  createRnnExplainClient,
  Dataset,
  encodeTensor,
  JobState,
  Problem,
  type RnnExplainClient,
  Status,
} from "../../client/mod.ts";
import {
  collect,
  importModel,
  startTestServer,
  withDeadline,
} from "../_helpers.ts";
import {
  boundPort,
  killProcess,
  startServerProcess,
} from "./_server_process.ts";

const EPOCHS = 3;
const FAULT_POINT_ENV = "RNN_EXPLAIN_TEST_FAULT_POINT";

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out.sort();
}

/** Reads stderr until the fault point's line; returns the checkpoint id it names. */
async function faultReached(
  stderr: ReadableStream<Uint8Array>,
  point: string,
): Promise<string> {
  let text = "";
  for await (const chunk of stderr.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    const match = new RegExp(`fault point "${point}" reached: "([^"]+)"`)
      .exec(text);
    if (match !== null) return match[1]!;
  }
  throw new Error(`The server exited before fault point "${point}":\n${text}`);
}

async function startTraining(client: RnnExplainClient): Promise<string> {
  const { job } = await client.startTraining({
    spec: {
      architecture: Architecture.ARCHITECTURE_R_LSTM,
      steps: 4,
      columns: 7,
      layerSizes: { in1: 16, recur: 8 },
    },
    config: {
      data: {
        dataset: Dataset.DATASET_MNIST,
        problem: Problem.PROBLEM_SEQUENCE,
        seed: 1,
      },
      epochs: EPOCHS,
      learningRate: 0.01,
      seed: 3,
      maxTrainSamples: 200,
    },
  });
  return job!.id;
}

/**
 * Runs a server process with `fault` armed, starts a training job, waits
 * until the write stops at the fault point and SIGKILLs the process.
 *
 * @returns the job id and the checkpoint id whose write was cut
 */
async function killAtFaultPoint(
  dir: string,
  fault: string,
): Promise<{ jobId: string; cut: string }> {
  const child = startServerProcess(dir, {
    env: { [FAULT_POINT_ENV]: fault },
    stderr: "piped",
  });
  try {
    const [stdout, rest] = child.stdout.tee();
    const port = await withDeadline(boundPort(stdout), 60_000, "the port");
    // Keep reading the log so the pipe never fills.
    const draining = rest.pipeTo(new WritableStream()).catch(() => {});
    using client = createRnnExplainClient(`127.0.0.1:${port}`);
    const jobId = await startTraining(client);
    const cut = await withDeadline(
      faultReached(child.stderr, fault.split("@")[0]!),
      60_000,
      "the fault point",
    );
    await killProcess(child);
    await draining;
    return { jobId, cut };
  } finally {
    await killProcess(child);
  }
}

/** Asserts that registry rows and model files agree, and nothing half-written is left. */
async function assertConsistent(
  client: RnnExplainClient,
  dir: string,
): Promise<void> {
  const { models } = await client.listModels({});
  const files = (await names(`${dir}/models`)).filter((n) =>
    !n.startsWith(".")
  );
  assert.deepEqual(
    files,
    models.flatMap((m) => [`${m.id}.json`, `${m.id}.safetensors`]).sort(),
  );
  for (const folder of ["models", "epochs"]) {
    const leftovers = (await names(`${dir}/${folder}`)).filter((n) =>
      n.endsWith(".tmp")
    );
    assert.deepEqual(leftovers, [], `temporary files in ${folder}/`);
  }
}

/** Resumes the job, waits for SUCCEEDED and checks the stored model. */
async function assertResumes(
  client: RnnExplainClient,
  dir: string,
  jobId: string,
): Promise<void> {
  const resumed = await client.resumeTraining({ jobId });
  assert.equal(resumed.job?.state, JobState.JOB_STATE_QUEUED);
  const updates = await withDeadline(
    collect(client.watchTraining({ jobId })),
    60_000,
    "the resumed job",
  );
  const last = updates.at(-1)!;
  assert.equal(last.state, JobState.JOB_STATE_SUCCEEDED, last.error);
  const { model } = await client.getModel({ modelId: last.modelId });
  assert.equal(model?.metrics?.epochsCompleted, EPOCHS);
  assert.equal(model?.trainingJobId, jobId);
  await assertConsistent(client, dir);
  assert.deepEqual(await names(`${dir}/epochs`), [], "epoch checkpoints");
}

for (
  const point of [
    "checkpoint-temporaries-written",
    "checkpoint-weights-renamed",
  ]
) {
  Deno.test(`a server killed inside an epoch checkpoint write (${point}) restarts with the job INTERRUPTED at the previous epoch, and it resumes`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "rnn_explain_faults_" });
    try {
      const { jobId, cut } = await killAtFaultPoint(
        dir,
        `${point}@.epoch-2`,
      );
      assert.equal(cut, `${jobId}.epoch-2`);
      // The kill left epoch 2 half-written beside the complete epoch 1.
      const before = await names(`${dir}/epochs`);
      assert.ok(before.includes(`${jobId}.epoch-1.json`), `${before}`);
      assert.ok(!before.includes(`${jobId}.epoch-2.json`), `${before}`);
      assert.ok(
        before.some((n) => n.includes("epoch-2")),
        `no trace of the cut write in ${before}`,
      );

      await using server = await startTestServer({ checkpointDir: dir });
      using client = server.connect();
      const { job } = await client.getTrainingJob({ jobId });
      assert.equal(job?.state, JobState.JOB_STATE_INTERRUPTED);
      assert.equal(job?.progress?.completedEpochs, 1);
      assert.match(job!.error, /Interrupted/);
      assert.deepEqual(await names(`${dir}/epochs`), [
        `${jobId}.epoch-1.json`,
        `${jobId}.epoch-1.safetensors`,
      ]);
      assert.deepEqual((await client.listModels({})).models, []);
      await assertConsistent(client, dir);
      await assertResumes(client, dir, jobId);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("a server killed after writing a trained model's files but before its registry row serves no model on restart, and the job resumes its last epoch", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rnn_explain_faults_" });
  try {
    const { jobId, cut } = await killAtFaultPoint(dir, "model-files-written");
    // Both files are complete on disk; only the commit point is missing.
    assert.deepEqual(await names(`${dir}/models`), [
      `${cut}.json`,
      `${cut}.safetensors`,
    ]);

    await using server = await startTestServer({ checkpointDir: dir });
    using client = server.connect();
    const { job } = await client.getTrainingJob({ jobId });
    assert.equal(job?.state, JobState.JOB_STATE_INTERRUPTED);
    // The last epoch commits with the model row, so the job resumes there.
    assert.equal(job?.progress?.completedEpochs, EPOCHS - 1);
    assert.deepEqual(await names(`${dir}/epochs`), [
      `${jobId}.epoch-${EPOCHS - 1}.json`,
      `${jobId}.epoch-${EPOCHS - 1}.safetensors`,
    ]);
    assert.deepEqual((await client.listModels({})).models, []);
    const missing = await client.getModel({ modelId: cut }).then(
      () => undefined,
      (err) => err,
    );
    assert.equal(missing?.code, Status.NOT_FOUND);
    // The unregistered files were set aside, not served and not deleted.
    const [orphans] = await names(`${dir}/orphans`);
    assert.deepEqual(await names(`${dir}/orphans/${orphans}`), [
      `${cut}.json`,
      `${cut}.safetensors`,
    ]);
    await assertConsistent(client, dir);
    await assertResumes(client, dir, jobId);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const CLIENT_SCRIPT = fileURLToPath(
  new URL("./testdata/explain_client.ts", import.meta.url),
);

Deno.test("a client process killed mid-stream cancels its Explain call and frees the worker at once", async () => {
  await using server = await startTestServer({
    config: { workers: 1, computeQueueLimit: 0 },
  });
  using client = server.connect();
  // Minutes of work on one worker (see the client script), so only a
  // cancel can free the worker within the deadlines below.
  await importModel(client, "slow", {
    architecture: "conv_plus_r_lstm",
    steps: 12,
    columns: 7,
  });
  await importModel(client, "m1");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read=.",
      "--allow-env",
      "--allow-sys=uid,gid",
      CLIENT_SCRIPT,
      server.address,
      "slow",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await withDeadline(
      (async () => {
        while (
          !server.logs.some((l) =>
            l.msg === "Explaining" && l.modelId === "slow"
          )
        ) await new Promise((r) => setTimeout(r, 20));
      })(),
      30_000,
      "the explanation to start",
    );
    const x = encodeTensor(new Float32Array(12 * 28 * 7), [12, 28 * 7]);
    const classify = () =>
      client.classify({
        modelId: "m1",
        inputs: [{ source: { $case: "tensor", tensor: x } }],
      });
    const busy = await classify().then(() => undefined, (err) => err);
    assert.equal(busy?.code, Status.RESOURCE_EXHAUSTED, "the worker is busy");

    await killProcess(child);
    const killed = performance.now();
    await withDeadline(
      (async () => {
        while (
          !server.logs.some((l) =>
            l.msg === "Request finished" &&
            l.rpc === "rnnexplain.v1.ExplainService/Explain" &&
            l.code === "CANCELLED"
          )
        ) await new Promise((r) => setTimeout(r, 20));
      })(),
      10_000,
      "the server to see the call cancelled",
    );
    // The worker stops between steps and takes the next task.
    const served = await withDeadline(
      (async () => {
        while (true) {
          const result = await classify().then((r) => r, (err) => err);
          if (result?.code !== Status.RESOURCE_EXHAUSTED) return result;
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
      15_000,
      "an idle worker",
    );
    assert.equal(served.classifications?.length, 1, `${served}`);
    assert.ok(performance.now() - killed < 15_000);
    assert.ok(
      !server.logs.some((l) => l.msg === "Explained" && l.modelId === "slow"),
      "the explanation ran to its end",
    );
  } finally {
    await killProcess(child);
  }
});
