import assert from "node:assert/strict";
import {
  ConflictError,
  DataLossError,
  NotFoundError,
  PreconditionError,
  ResourceExhaustedError,
  UnavailableError,
} from "../errors.ts";
import { type ModelStore, openModelStore } from "../storage/mod.ts";
import { TEST_SPEC } from "../storage/test_checkpoint.ts";
import type { JobEvent } from "./job_watchers.ts";
import {
  createJobManager,
  INTERRUPTED_BY_SHUTDOWN,
  type JobManager,
  type JobManagerOptions,
} from "./training_jobs.ts";
import {
  createFakeRunner,
  fakeEpochWeights,
  type FakeRunnerOptions,
} from "./_testing.ts";

type Config = { epochs: number; seed?: number };

interface Setup {
  dir: string;
  store: ModelStore;
  jobs: JobManager<Config>;
  runner: ReturnType<typeof createFakeRunner>;
}

async function withJobs(
  runnerOptions: FakeRunnerOptions,
  managerOptions: Partial<JobManagerOptions<Config>>,
  fn: (setup: Setup) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "training_jobs_test_" });
  const store = await openModelStore({ dir });
  const runner = createFakeRunner(runnerOptions);
  const jobs = createJobManager<Config>({
    store,
    runTraining: runner.run,
    ...managerOptions,
  });
  try {
    await fn({ dir, store, jobs, runner });
  } finally {
    await jobs.close();
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function collect(events: AsyncIterable<JobEvent>): Promise<JobEvent[]> {
  const out: JobEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

/** Waits for the first event that satisfies `predicate`. */
async function waitFor(
  jobs: JobManager<Config>,
  id: string,
  predicate: (e: JobEvent) => boolean,
): Promise<JobEvent> {
  const controller = new AbortController();
  try {
    for await (const event of jobs.watch(id, controller.signal)) {
      if (predicate(event)) return event;
    }
  } finally {
    controller.abort();
  }
  throw new Error(`Job "${id}" ended before the awaited event`);
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

Deno.test("JobManager.start() runs a job to SUCCEEDED, fans progress out to two watchers and stores the model", async () => {
  await withJobs({ stepsPerEpoch: 4 }, {}, async ({ dir, store, jobs }) => {
    const job = jobs.start({ epochs: 3, seed: 7 }, TEST_SPEC, {
      displayName: "digits",
    });
    assert.equal(job.state, "QUEUED");
    assert.equal(job.displayName, "digits");
    const [a, b] = await Promise.all([
      collect(jobs.watch(job.id)),
      collect(jobs.watch(job.id)),
    ]);
    for (const events of [a, b]) {
      assert.equal(events[0]!.state, "RUNNING");
      assert.ok(events.length >= 3, `only ${events.length} events`);
      const last = events.at(-1)!;
      assert.equal(last.state, "SUCCEEDED");
      assert.notEqual(last.modelId, "");
      assert.equal(last.progress.completedEpochs, 3);
      assert.equal(last.progress.heldoutAccuracy, 0.09 * 3);
      const completed = events.map((e) => e.progress.completedEpochs);
      assert.deepEqual(completed, [...completed].sort((x, y) => x - y));
      assert.ok(events.slice(0, -1).every((e) => e.state === "RUNNING"));
    }
    const done = jobs.get(job.id);
    assert.equal(done.state, "SUCCEEDED");
    assert.equal(done.lastCompletedEpoch, 3);
    assert.equal(done.modelId, a.at(-1)!.modelId);
    assert.notEqual(done.started, "");
    assert.notEqual(done.ended, "");
    const model = store.get(done.modelId);
    assert.equal(model.trainingJobId, job.id);
    assert.equal(model.displayName, "digits");
    assert.equal(model.seed, 7);
    assert.equal((await store.readFiles(model.id)).manifest.seed, 7);
    assert.deepEqual(await names(`${dir}/epochs`), []);
    assert.equal(jobs.watcherCount(job.id), 0);
    // Watching a finished job replays its final state and ends.
    assert.deepEqual(
      (await collect(jobs.watch(job.id))).map((e) => e.state),
      ["SUCCEEDED"],
    );
    assert.deepEqual(jobs.list().items.map((j) => j.id), [job.id]);
  });
});

Deno.test("JobManager.cancel() stops a running job, then refuses finished and unknown jobs", async () => {
  await withJobs({ hangAfterEpoch: 1 }, {}, async ({ dir, jobs }) => {
    const job = jobs.start({ epochs: 3 }, TEST_SPEC);
    await waitFor(jobs, job.id, (e) => e.progress.completedEpochs === 1);
    assert.deepEqual(await names(`${dir}/epochs`), [
      `${job.id}.epoch-1.json`,
      `${job.id}.epoch-1.safetensors`,
    ]);
    const watching = collect(jobs.watch(job.id));
    const cancelled = await jobs.cancel(job.id);
    assert.equal(cancelled.state, "CANCELLED");
    assert.equal(cancelled.lastCompletedEpoch, 1);
    assert.equal((await watching).at(-1)?.state, "CANCELLED");
    assert.deepEqual(await names(`${dir}/epochs`), []);
    await assert.rejects(
      () => jobs.cancel(job.id),
      (e: unknown) =>
        e instanceof PreconditionError &&
        e.message ===
          `Cannot cancel job "${job.id}": it already finished as CANCELLED`,
    );
    await assert.rejects(() => jobs.cancel("nope"), NotFoundError);
    assert.throws(() => jobs.get("nope"), NotFoundError);
    assert.throws(() => jobs.watch("nope"), NotFoundError);
  });
});

Deno.test("JobManager.start() throws ResourceExhaustedError when the queue is full, and a queued job cancels at once", async () => {
  await withJobs(
    { hangAfterEpoch: 0 },
    { concurrency: 1, queueLimit: 1 },
    async ({ jobs, runner }) => {
      const running = jobs.start({ epochs: 1 }, TEST_SPEC);
      const queued = jobs.start({ epochs: 1 }, TEST_SPEC);
      assert.equal(jobs.get(running.id).state, "RUNNING");
      assert.equal(jobs.get(queued.id).state, "QUEUED");
      assert.throws(
        () => jobs.start({ epochs: 1 }, TEST_SPEC),
        (e: unknown) =>
          e instanceof ResourceExhaustedError &&
          e.message === "Cannot start job: the job queue is full (1 waiting)",
      );
      assert.equal((await jobs.cancel(queued.id)).state, "CANCELLED");
      assert.deepEqual(runner.calls.map((c) => c.jobId), [running.id]);
      // The slot is still taken, the queue has room again.
      const next = jobs.start({ epochs: 1 }, TEST_SPEC);
      assert.equal(jobs.get(next.id).state, "QUEUED");
      await jobs.cancel(running.id);
      await waitFor(jobs, next.id, (e) => e.state === "RUNNING");
      assert.deepEqual(runner.calls.map((c) => c.jobId), [running.id, next.id]);
      assert.equal(jobs.list({ states: ["CANCELLED"] }).items.length, 2);
    },
  );
});

Deno.test("JobManager.start() and createJobManager() throw RangeError or TypeError for invalid input", async () => {
  await withJobs({}, { queueLimit: 0 }, ({ jobs, store, runner }) => {
    assert.throws(() => jobs.start({ epochs: 0 }, TEST_SPEC), RangeError);
    assert.throws(
      () => jobs.start({ epochs: 1 }, { ...TEST_SPEC, steps: -1 }),
      RangeError,
    );
    assert.throws(
      () => jobs.start({ epochs: 1 }, { ...TEST_SPEC, bias: 3 as never }),
      TypeError,
    );
    assert.equal(jobs.list().items.length, 0);
    for (
      const bad of [{ concurrency: 0 }, { queueLimit: -1 }, {
        progressIntervalMs: Number.NaN,
      }]
    ) {
      assert.throws(
        () => createJobManager({ store, runTraining: runner.run, ...bad }),
        RangeError,
        JSON.stringify(bad),
      );
    }
    return Promise.resolve();
  });
});

Deno.test("JobManager.watch() detaches the watcher when its signal aborts", async () => {
  await withJobs({ hangAfterEpoch: 0 }, {}, async ({ jobs }) => {
    const job = jobs.start({ epochs: 2 }, TEST_SPEC);
    const controller = new AbortController();
    const events = jobs.watch(job.id, controller.signal);
    const first = await events.next();
    assert.equal(first.value?.state, "RUNNING");
    const other = jobs.watch(job.id);
    await other.next();
    assert.equal(jobs.watcherCount(job.id), 2);
    controller.abort();
    assert.equal(jobs.watcherCount(job.id), 1);
    assert.deepEqual(await events.next(), { done: true, value: undefined });
    await other.return?.();
    assert.equal(jobs.watcherCount(job.id), 0);
    const aborted = AbortSignal.abort();
    assert.deepEqual(await collect(jobs.watch(job.id, aborted)), []);
    assert.equal(jobs.watcherCount(job.id), 0);
  });
});

Deno.test("JobManager.cancel() throws ConflictError when the job finishes before it can stop", async () => {
  await withJobs(
    { hangAfterEpoch: 1, finishDespiteAbort: true },
    {},
    async ({ jobs, store }) => {
      const job = jobs.start({ epochs: 2 }, TEST_SPEC);
      await waitFor(jobs, job.id, (e) => e.progress.completedEpochs === 1);
      await assert.rejects(
        () => jobs.cancel(job.id),
        (e: unknown) =>
          e instanceof ConflictError &&
          e.message ===
            `Cannot cancel job "${job.id}": it ended SUCCEEDED first`,
      );
      const done = jobs.get(job.id);
      assert.equal(done.state, "SUCCEEDED");
      assert.equal(store.get(done.modelId).trainingJobId, job.id);
    },
  );
});

Deno.test("JobManager marks a job FAILED when the runner or a checkpoint fails, without leaking internal messages", async (t) => {
  const cases: [string, FakeRunnerOptions, string][] = [
    [
      "typed error",
      { failAfterEpoch: 1 },
      "Cannot train: the fake runner failed",
    ],
    [
      "internal error",
      { failAfterEpoch: 1, error: new Error("secret path /x/y") },
      "Training failed with an internal error; see the server logs for job",
    ],
    [
      "bad epoch weights",
      { badWeights: "not bytes" },
      "epoch weights must be a Uint8Array",
    ],
  ];
  for (const [name, runnerOptions, message] of cases) {
    await t.step(name, async () => {
      await withJobs(runnerOptions, {}, async ({ dir, jobs }) => {
        const job = jobs.start({ epochs: 3 }, TEST_SPEC);
        const last = (await collect(jobs.watch(job.id))).at(-1)!;
        assert.equal(last.state, "FAILED");
        assert.ok(last.error.includes(message), last.error);
        assert.ok(!last.error.includes("secret"));
        assert.equal(jobs.get(job.id).state, "FAILED");
        assert.deepEqual(await names(`${dir}/epochs`), []);
      });
    });
  }
});

Deno.test("JobManager writes step progress at most every progressIntervalMs but every epoch end", async () => {
  for (const [interval, persistedStep] of [[3_600_000, 1], [0, 3]]) {
    await withJobs(
      { hangAtStep: 3, stepsPerEpoch: 5 },
      { progressIntervalMs: interval },
      async ({ jobs, store }) => {
        const job = jobs.start({ epochs: 2 }, TEST_SPEC);
        await waitFor(jobs, job.id, (e) => e.progress.step === 3);
        assert.equal(jobs.get(job.id).progress.step, 3);
        assert.equal(
          store.registry.getJob(job.id)?.progress.step,
          persistedStep,
          `interval ${interval}`,
        );
      },
    );
  }
  await withJobs(
    { hangAfterEpoch: 1, stepsPerEpoch: 5 },
    { progressIntervalMs: 3_600_000 },
    async ({ jobs, store }) => {
      const job = jobs.start({ epochs: 2 }, TEST_SPEC);
      await waitFor(jobs, job.id, (e) => e.progress.completedEpochs === 1);
      const stored = store.registry.getJob(job.id)!;
      assert.equal(stored.lastCompletedEpoch, 1);
      assert.equal(stored.progress.completedEpochs, 1);
      assert.equal(stored.progress.step, 5);
      assert.equal(stored.progress.heldoutLoss, 0.6);
    },
  );
});

Deno.test("JobManager.close() interrupts jobs, and resume() continues from the last epoch's weights", async () => {
  const dir = await Deno.makeTempDir({ prefix: "training_jobs_test_" });
  try {
    let id: string;
    let waitingId: string;
    {
      using store = await openModelStore({ dir });
      const runner = createFakeRunner({ hangAfterEpoch: 1 });
      const jobs = createJobManager<Config>({ store, runTraining: runner.run });
      id = jobs.start({ epochs: 3 }, TEST_SPEC).id;
      waitingId = jobs.start({ epochs: 3 }, TEST_SPEC).id;
      await waitFor(jobs, id, (e) => e.progress.completedEpochs === 1);
      await jobs.close();
      for (const jobId of [id, waitingId]) {
        const job = jobs.get(jobId);
        assert.equal(job.state, "INTERRUPTED");
        assert.equal(job.error, INTERRUPTED_BY_SHUTDOWN);
      }
      assert.equal(jobs.get(id).lastCompletedEpoch, 1);
      assert.throws(
        () => jobs.start({ epochs: 1 }, TEST_SPEC),
        UnavailableError,
      );
    }
    using store = await openModelStore({ dir });
    assert.deepEqual(store.recovery.interruptedJobs, []);
    const runner = createFakeRunner();
    await using jobs = createJobManager<Config>({
      store,
      runTraining: runner.run,
      concurrency: 2,
    });
    assert.equal((await jobs.resume(id)).state, "QUEUED");
    await assert.rejects(() => jobs.resume(id), PreconditionError);
    const events = await collect(jobs.watch(id));
    assert.equal(events.at(-1)?.state, "SUCCEEDED");
    assert.deepEqual(runner.calls[0], {
      jobId: id,
      startEpoch: 1,
      initialWeights: fakeEpochWeights(1),
    });
    assert.equal(jobs.get(id).lastCompletedEpoch, 3);
    // A job interrupted before its first epoch starts over.
    await jobs.resume(waitingId);
    await collect(jobs.watch(waitingId));
    assert.equal(runner.calls[1]?.startEpoch, 0);
    assert.equal(runner.calls[1]?.initialWeights, undefined);
    await assert.rejects(
      () => jobs.resume(id),
      (e: unknown) =>
        e instanceof PreconditionError &&
        e.message ===
          `Cannot resume job "${id}": it is SUCCEEDED, and only INTERRUPTED jobs resume`,
    );
    await assert.rejects(() => jobs.resume("nope"), NotFoundError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("JobManager.resume() throws DataLossError when the saved epoch weights are corrupt", async () => {
  await withJobs({ hangAfterEpoch: 1 }, {}, async ({ dir, jobs, store }) => {
    const job = jobs.start({ epochs: 2 }, TEST_SPEC);
    await waitFor(jobs, job.id, (e) => e.progress.completedEpochs === 1);
    await jobs.close();
    await Deno.writeFile(
      `${dir}/epochs/${job.id}.epoch-1.safetensors`,
      new Uint8Array(8),
    );
    await using again = createJobManager<Config>({
      store,
      runTraining: createFakeRunner().run,
    });
    await assert.rejects(() => again.resume(job.id), DataLossError);
    assert.equal(again.get(job.id).state, "INTERRUPTED");
    // Cancelling gives up on it and frees its files.
    assert.equal((await again.cancel(job.id)).state, "CANCELLED");
    assert.deepEqual(await names(`${dir}/epochs`), []);
  });
});

Deno.test("JobManager records the last epoch with the model row, not as an epoch checkpoint", async () => {
  await withJobs({}, {}, async ({ store, jobs }) => {
    const checkpointed: number[] = [];
    const saveEpoch = store.saveEpoch.bind(store);
    store.saveEpoch = (jobId, epoch, weights, progress) => {
      checkpointed.push(epoch);
      return saveEpoch(jobId, epoch, weights, progress);
    };
    const job = jobs.start({ epochs: 3 }, TEST_SPEC);
    const events = await collect(jobs.watch(job.id));
    // A crash between epoch 3 and the model row resumes at epoch 2.
    assert.deepEqual(checkpointed, [1, 2]);
    const running = events.filter((e) => e.state === "RUNNING");
    assert.ok(running.every((e) => e.progress.completedEpochs <= 2));
    const done = jobs.get(job.id);
    assert.equal(done.state, "SUCCEEDED");
    assert.equal(done.lastCompletedEpoch, 3);
    assert.equal(done.progress.completedEpochs, 3);
    assert.equal(store.registry.getJob(job.id)!.lastCompletedEpoch, 3);
  });
});
