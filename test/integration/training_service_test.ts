/**
 * TrainingService end to end: a tiny R-LSTM trained on a few hundred
 * embedded MNIST digits over RPC, watched to the end and served; listing,
 * cancellation, a full job queue, and each failure path with its exact
 * status.
 */
import assert from "node:assert/strict";
import {
  Architecture,
  Dataset,
  encodeTensor,
  JobState,
  type PartialMessage,
  Problem,
  type StartTrainingRequest,
  Status,
} from "../../client/mod.ts";
import {
  assertStatus,
  collect,
  randomValues,
  startTestServer,
} from "../_helpers.ts";

/** 2 epochs of 4 steps of 50: 200 digits, a 4-step R-LSTM with 16/8 units. */
const TINY_TRAINING: PartialMessage<StartTrainingRequest> = {
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
    epochs: 2,
    batchSize: 50,
    learningRate: 0.01,
    seed: 3,
    maxTrainSamples: 200,
  },
  displayName: "tiny",
};

Deno.test("TrainingService trains a model that is then listed and served", async () => {
  await using t = await startTestServer();
  using client = t.connect();
  const { job } = await client.startTraining(TINY_TRAINING);
  assert.ok(job);
  assert.equal(job.state, JobState.JOB_STATE_QUEUED);
  assert.equal(job.config?.batchSize, 50);
  assert.equal(job.spec?.rows, 28, "defaults are filled in");
  const updates = await collect(client.watchTraining({ jobId: job.id }));
  const last = updates.at(-1)!;
  assert.equal(last.state, JobState.JOB_STATE_SUCCEEDED);
  assert.notEqual(last.modelId, "");
  assert.equal(last.progress?.completedEpochs, 2);
  assert.ok(
    updates.some((u) => u.state === JobState.JOB_STATE_RUNNING),
    "progress while running",
  );

  const { model } = await client.getModel({ modelId: last.modelId });
  assert.equal(model?.trainingJobId, job.id);
  assert.equal(model?.displayName, "tiny");
  assert.equal(model?.metrics?.epochsCompleted, 2);
  assert.equal(model?.training?.data?.seed, 1, "the job's data source");
  const { classifications } = await client.classify({
    modelId: last.modelId,
    inputs: [{
      source: {
        $case: "tensor",
        tensor: encodeTensor(randomValues(28 * 28), [28, 28]),
      },
    }],
  });
  assert.equal(classifications.length, 1);

  const listed = await client.listTrainingJobs({
    states: [JobState.JOB_STATE_SUCCEEDED],
  });
  assert.deepEqual(listed.jobs.map((j) => j.id), [job.id]);
  const got = await client.getTrainingJob({ jobId: job.id });
  assert.equal(got.job?.modelId, last.modelId);
  await assertStatus(
    client.cancelTraining({ jobId: job.id }),
    Status.FAILED_PRECONDITION,
  );
  await assertStatus(
    client.resumeTraining({ jobId: job.id }),
    Status.FAILED_PRECONDITION,
  );
});

Deno.test("TrainingService cancels a running job and refuses one more job than the queue holds", async () => {
  await using t = await startTestServer({ config: { jobQueueLimit: 0 } });
  using client = t.connect();
  const long = {
    ...TINY_TRAINING,
    config: { ...TINY_TRAINING.config, epochs: 1000 },
  };
  const { job } = await client.startTraining(long);
  await assertStatus(
    client.startTraining(long),
    Status.RESOURCE_EXHAUSTED,
  );
  const watch = collect(client.watchTraining({ jobId: job!.id }));
  const { job: cancelled } = await client.cancelTraining({ jobId: job!.id });
  assert.equal(cancelled?.state, JobState.JOB_STATE_CANCELLED);
  const updates = await watch;
  assert.equal(updates.at(-1)?.state, JobState.JOB_STATE_CANCELLED);
});

Deno.test("TrainingService answers each failure with its exact status", async (t) => {
  await using server = await startTestServer();
  using client = server.connect();
  await t.step("unknown jobs are NOT_FOUND", async () => {
    await assertStatus(
      () => collect(client.watchTraining({ jobId: "nope" })),
      Status.NOT_FOUND,
    );
    await assertStatus(
      client.cancelTraining({ jobId: "nope" }),
      Status.NOT_FOUND,
    );
    await assertStatus(
      client.getTrainingJob({ jobId: "nope" }),
      Status.NOT_FOUND,
    );
    await assertStatus(
      client.resumeTraining({ jobId: "nope" }),
      Status.NOT_FOUND,
    );
  });
  await t.step("a bad spec or configuration is INVALID_ARGUMENT", async () => {
    await assertStatus(
      client.startTraining({
        ...TINY_TRAINING,
        spec: { ...TINY_TRAINING.spec, architecture: 0 },
      }),
      Status.INVALID_ARGUMENT,
      /spec\.architecture/,
    );
    await assertStatus(
      client.startTraining({
        ...TINY_TRAINING,
        spec: { ...TINY_TRAINING.spec, steps: 5 },
      }),
      Status.INVALID_ARGUMENT,
      /28 × 28 images/,
    );
    await assertStatus(
      client.startTraining({
        ...TINY_TRAINING,
        config: { ...TINY_TRAINING.config, epochs: 0 },
      }),
      Status.INVALID_ARGUMENT,
      /epochs/,
    );
    await assertStatus(
      client.startTraining({
        ...TINY_TRAINING,
        spec: {
          ...TINY_TRAINING.spec,
          layerSizes: { conv1Filters: 4 },
        },
      }),
      Status.INVALID_ARGUMENT,
    );
    await assertStatus(
      client.startTraining({ spec: TINY_TRAINING.spec }),
      Status.INVALID_ARGUMENT,
      /config/,
    );
    await assertStatus(
      client.listTrainingJobs({ states: [JobState.JOB_STATE_UNSPECIFIED] }),
      Status.INVALID_ARGUMENT,
    );
  });
});
