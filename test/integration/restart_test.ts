/**
 * A crash mid-training: the server runs as its own process, is killed with
 * SIGKILL once a training job has recorded an epoch, and a new server on
 * the same checkpoint folder finds a consistent registry (no half-stored
 * model), the job INTERRUPTED with its last completed epoch, and finishes
 * it with ResumeTraining.
 */
import assert from "node:assert/strict";
import {
  Architecture,
  createRnnExplainClient,
  Dataset,
  JobState,
  Problem,
} from "../../client/mod.ts";
import { collect, startTestServer, withDeadline } from "../_helpers.ts";
import { boundPort, startServerProcess } from "./_server_process.ts";

Deno.test("a server killed mid-training restarts with the job INTERRUPTED at its last epoch, and ResumeTraining finishes it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rnn_explain_restart_" });
  try {
    const child = startServerProcess(dir);
    let jobId: string;
    let recorded: number;
    try {
      const [stdout, rest] = child.stdout.tee();
      const port = await withDeadline(boundPort(stdout), 60_000, "the port");
      // Keep reading the log so the pipe never fills.
      const draining = rest.pipeTo(new WritableStream());
      using client = createRnnExplainClient(`127.0.0.1:${port}`);
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
          epochs: 12,
          learningRate: 0.01,
          seed: 3,
          maxTrainSamples: 200,
        },
      });
      jobId = job!.id;
      recorded = 0;
      // Watch updates count an epoch as completed a moment before its
      // checkpoint is durable; once two are reported the first is on disk.
      for await (const update of client.watchTraining({ jobId })) {
        recorded = update.progress?.completedEpochs ?? 0;
        if (recorded >= 2) break;
      }
      child.kill("SIGKILL");
      await child.status;
      await draining.catch(() => {});
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
    }
    assert.ok(recorded >= 2);

    await using server = await startTestServer({ checkpointDir: dir });
    using client = server.connect();
    const { job } = await client.getTrainingJob({ jobId });
    assert.equal(job?.state, JobState.JOB_STATE_INTERRUPTED);
    const completed = job!.progress!.completedEpochs;
    // The kill follows the update within milliseconds; on a fast machine one
    // more epoch may still have been recorded in between.
    assert.ok(
      completed >= recorded - 1 && completed <= recorded + 1 && completed < 12,
      `completed ${completed}, reported ${recorded}`,
    );
    assert.match(job!.error, /Interrupted/);
    assert.deepEqual((await client.listModels({})).models, []);

    const resumed = await client.resumeTraining({ jobId });
    assert.equal(resumed.job?.state, JobState.JOB_STATE_QUEUED);
    const updates = await collect(client.watchTraining({ jobId }));
    const last = updates.at(-1)!;
    assert.equal(last.state, JobState.JOB_STATE_SUCCEEDED);
    const { model } = await client.getModel({ modelId: last.modelId });
    assert.equal(model?.metrics?.epochsCompleted, 12);
    assert.equal(model?.trainingJobId, jobId);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
