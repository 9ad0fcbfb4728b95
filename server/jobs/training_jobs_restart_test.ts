import assert from "node:assert/strict";
import { openModelStore } from "../storage/mod.ts";
import { createJobManager } from "./training_jobs.ts";
import { createFakeRunner, fakeEpochWeights } from "./_testing.ts";
import type { JobEvent } from "./job_watchers.ts";

const FIXTURE = new URL("./testdata/crash_job.ts", import.meta.url).pathname;

/** Reads lines of a stream until one starts with `prefix`. */
async function readLine(
  stream: ReadableStream<Uint8Array>,
  prefix: string,
): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`Subprocess ended before "${prefix}": ${text}`);
      text += value;
      const line = text.split("\n").find((l) => l.startsWith(prefix));
      if (line !== undefined) return line;
    }
  } finally {
    await reader.cancel();
  }
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

Deno.test("a job killed with SIGKILL after epoch 1 is INTERRUPTED on reopen and resumes from epoch 2 to SUCCEEDED", async () => {
  const dir = await Deno.makeTempDir({ prefix: "training_jobs_restart_" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", FIXTURE, dir],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    let jobId: string;
    try {
      jobId = (await readLine(child.stdout, "EPOCH1 ")).slice(7);
    } finally {
      child.kill("SIGKILL");
      const status = await child.status;
      assert.equal(status.signal, "SIGKILL");
    }

    using store = await openModelStore({ dir });
    assert.deepEqual(store.recovery.interruptedJobs, [jobId]);
    assert.deepEqual(store.recovery.orphanedModels, []);
    // Consistent: no model row, no model file, only epoch 1's weights.
    assert.deepEqual(store.list().items, []);
    assert.deepEqual(await names(`${dir}/models`), []);
    assert.deepEqual(await names(`${dir}/epochs`), [
      `${jobId}.epoch-1.json`,
      `${jobId}.epoch-1.safetensors`,
    ]);
    const interrupted = store.registry.getJob(jobId)!;
    assert.equal(interrupted.state, "INTERRUPTED");
    assert.equal(interrupted.lastCompletedEpoch, 1);
    assert.equal(interrupted.progress.completedEpochs, 1);

    const runner = createFakeRunner();
    await using jobs = createJobManager({ store, runTraining: runner.run });
    assert.equal((await jobs.resume(jobId)).state, "QUEUED");
    const events: JobEvent[] = [];
    for await (const event of jobs.watch(jobId)) events.push(event);
    const last = events.at(-1)!;
    assert.equal(last.state, "SUCCEEDED");
    assert.deepEqual(runner.calls, [{
      jobId,
      startEpoch: 1,
      initialWeights: fakeEpochWeights(1),
    }]);
    // The resumed run trained epochs 2 and 3 only.
    const trained = new Set(
      events.filter((e) => e.progress.completedEpochs < e.progress.epoch)
        .map((e) => e.progress.epoch),
    );
    assert.deepEqual([...trained], [2, 3]);
    assert.equal(last.progress.completedEpochs, 3);
    const model = store.get(last.modelId);
    assert.equal(model.trainingJobId, jobId);
    assert.equal(
      (await store.readFiles(model.id)).manifest.weights.sha256,
      model.weightsSha256,
    );
    assert.deepEqual(await names(`${dir}/epochs`), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
