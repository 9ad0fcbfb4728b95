import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  AlreadyExistsError,
  ConflictError,
  PreconditionError,
} from "../errors.ts";
import { openRegistry } from "./registry.ts";
import { SCHEMA_VERSION } from "./_schema.ts";
import {
  initialProgress,
  type JobRecord,
  type ModelRecord,
} from "./records.ts";
import { TEST_SPEC } from "./test_checkpoint.ts";

async function withDirectory(
  fn: (dir: string) => Promise<void> | void,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "registry_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function model(id: string, extra: Partial<ModelRecord> = {}): ModelRecord {
  return {
    id,
    spec: TEST_SPEC,
    training: {
      optimizer: "adam",
      epochs: 3,
      batchSize: 50,
      learningRate: 0.0002,
      keepProb: 0.8,
    },
    dataset: "mnist",
    problem: "majority",
    steps: 4,
    fold: { index: 2, folds: 7 },
    seed: 11,
    metrics: { heldoutAccuracy: 0.75, heldoutLoss: 0.5 },
    parameterCount: 123,
    weightsSha256: "ab".repeat(32),
    sizeBytes: 4567,
    formatVersion: 1,
    created: "2026-01-31T12:00:00.000Z",
    state: "READY",
    displayName: "a model",
    trainingJobId: "",
    ...extra,
  };
}

function job(id: string, extra: Partial<JobRecord> = {}): JobRecord {
  return {
    id,
    state: "QUEUED",
    config: { epochs: 3 },
    spec: TEST_SPEC,
    progress: initialProgress(3),
    lastCompletedEpoch: 0,
    modelId: "",
    error: "",
    displayName: "",
    created: "2026-01-31T12:00:00.000Z",
    updated: "2026-01-31T12:00:00.000Z",
    started: "",
    ended: "",
    ...extra,
  };
}

Deno.test("openRegistry() migrates a new file to the current schema in WAL mode and keeps rows across reopening", async () => {
  await withDirectory((dir) => {
    const path = `${dir}/r.sqlite`;
    {
      using registry = openRegistry(path);
      registry.insertModel(model("m1"));
      registry.insertJob(
        job("j1", { config: { epochs: 3, seed: 4 } as never }),
      );
    }
    const raw = new DatabaseSync(path);
    try {
      assert.deepEqual(
        { ...raw.prepare("PRAGMA user_version").get() },
        { user_version: SCHEMA_VERSION },
      );
      assert.deepEqual(
        { ...raw.prepare("PRAGMA journal_mode").get() },
        { journal_mode: "wal" },
      );
    } finally {
      raw.close();
    }
    using registry = openRegistry(path);
    assert.deepEqual(registry.getModel("m1"), model("m1"));
    assert.deepEqual(
      registry.getJob("j1"),
      job("j1", { config: { epochs: 3, seed: 4 } as never }),
    );
    assert.equal(registry.getModel("nope"), undefined);
    assert.equal(registry.getJob("nope"), undefined);
  });
});

Deno.test("openRegistry() throws PreconditionError for a schema newer than this build", async () => {
  await withDirectory((dir) => {
    const path = `${dir}/r.sqlite`;
    const raw = new DatabaseSync(path);
    raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    assert.throws(
      () => openRegistry(path),
      (e: unknown) =>
        e instanceof PreconditionError &&
        /schema version 2 is newer than this build's 1/.test(e.message),
    );
  });
});

Deno.test("Registry.insertModel() throws AlreadyExistsError for a taken id and deleteModel() reports existence", () => {
  using registry = openRegistry(":memory:");
  registry.insertModel(model("m1"));
  assert.throws(
    () => registry.insertModel(model("m1", { seed: 99 })),
    AlreadyExistsError,
  );
  assert.equal(registry.getModel("m1")?.seed, 11);
  assert.equal(registry.setModelState("m1", "DATA_LOSS"), true);
  assert.equal(registry.getModel("m1")?.state, "DATA_LOSS");
  assert.deepEqual(registry.modelIds(), ["m1"]);
  assert.equal(registry.deleteModel("m1"), true);
  assert.equal(registry.deleteModel("m1"), false);
  assert.equal(registry.setModelState("m1", "READY"), false);
});

Deno.test("Registry.listModels() pages newest first with stable tokens", () => {
  using registry = openRegistry(":memory:");
  for (let i = 0; i < 5; i++) registry.insertModel(model(`m${i}`));
  const first = registry.listModels({ pageSize: 2 });
  assert.deepEqual(first.items.map((m) => m.id), ["m4", "m3"]);
  registry.insertModel(model("m5")); // newer rows do not shift later pages
  const second = registry.listModels({
    pageSize: 2,
    pageToken: first.nextPageToken,
  });
  assert.deepEqual(second.items.map((m) => m.id), ["m2", "m1"]);
  const last = registry.listModels({
    pageSize: 2,
    pageToken: second.nextPageToken,
  });
  assert.deepEqual(last.items.map((m) => m.id), ["m0"]);
  assert.equal(last.nextPageToken, "");
  assert.equal(registry.listModels().items.length, 6);
  assert.throws(
    () => registry.listModels({ pageToken: "garbage!" }),
    RangeError,
  );
  assert.throws(() => registry.listModels({ pageSize: 1001 }), RangeError);
  const jobsToken = (() => {
    registry.insertJob(job("j0"));
    registry.insertJob(job("j1"));
    return registry.listJobs({ pageSize: 1 }).nextPageToken;
  })();
  assert.throws(
    () => registry.listModels({ pageToken: jobsToken }),
    /does not belong to this listing/,
  );
});

Deno.test("Registry.listJobs() filters by state and refuses unknown states", () => {
  using registry = openRegistry(":memory:");
  registry.insertJob(job("a"));
  registry.insertJob(job("b", { state: "FAILED" }));
  registry.insertJob(job("c", { state: "INTERRUPTED" }));
  assert.deepEqual(
    registry.listJobs({ states: ["QUEUED", "INTERRUPTED"] }).items.map((j) =>
      j.id
    ),
    ["c", "a"],
  );
  assert.deepEqual(registry.listJobs().items.map((j) => j.id), ["c", "b", "a"]);
  assert.throws(
    () => registry.listJobs({ states: ["DONE" as never] }),
    RangeError,
  );
  assert.throws(() => registry.insertJob(job("a")), AlreadyExistsError);
});

Deno.test("Registry.transitionJob() changes state only from the allowed states", () => {
  using registry = openRegistry(":memory:");
  registry.insertJob(job("j"));
  const running = registry.transitionJob("j", ["QUEUED"], {
    state: "RUNNING",
    started: "2026-02-01T00:00:00.000Z",
  });
  assert.equal(running?.state, "RUNNING");
  assert.equal(running?.started, "2026-02-01T00:00:00.000Z");
  assert.notEqual(running?.updated, "2026-01-31T12:00:00.000Z");
  assert.equal(
    registry.transitionJob("j", ["QUEUED"], { state: "CANCELLED" }),
    undefined,
  );
  assert.equal(registry.getJob("j")?.state, "RUNNING");
  assert.equal(
    registry.transitionJob("missing", ["QUEUED"], { state: "RUNNING" }),
    undefined,
  );
});

Deno.test("Registry.recordJobEpoch() records increasing epochs of a RUNNING job only", () => {
  using registry = openRegistry(":memory:");
  registry.insertJob(job("j", { state: "RUNNING" }));
  const p1 = { ...initialProgress(3, 1), loss: 0.7 };
  assert.equal(registry.recordJobEpoch("j", 1, p1), true);
  assert.equal(registry.recordJobEpoch("j", 1, p1), false);
  assert.equal(registry.saveJobProgress("j", { ...p1, step: 4 }), true);
  const read = registry.getJob("j")!;
  assert.equal(read.lastCompletedEpoch, 1);
  assert.deepEqual(read.progress, { ...p1, step: 4 });
  registry.transitionJob("j", ["RUNNING"], { state: "FAILED" });
  assert.equal(registry.recordJobEpoch("j", 2, p1), false);
  assert.equal(registry.saveJobProgress("j", p1), false);
});

Deno.test("Registry.interruptUnfinishedJobs() marks QUEUED and RUNNING jobs INTERRUPTED in one go", () => {
  using registry = openRegistry(":memory:");
  registry.insertJob(job("q"));
  registry.insertJob(job("r", { state: "RUNNING", lastCompletedEpoch: 2 }));
  registry.insertJob(job("s", { state: "SUCCEEDED" }));
  assert.deepEqual(registry.interruptUnfinishedJobs("stopped").sort(), [
    "q",
    "r",
  ]);
  const r = registry.getJob("r")!;
  assert.equal(r.state, "INTERRUPTED");
  assert.equal(r.error, "stopped");
  assert.equal(r.lastCompletedEpoch, 2);
  assert.notEqual(r.ended, "");
  assert.equal(registry.getJob("s")?.state, "SUCCEEDED");
  assert.deepEqual(
    registry.resumableJobs().sort((a, b) => a.id.localeCompare(b.id)),
    [{ id: "q", lastCompletedEpoch: 0 }, { id: "r", lastCompletedEpoch: 2 }],
  );
});

Deno.test("Registry.insertModel() completes a RUNNING job in the same transaction, or writes nothing", () => {
  using registry = openRegistry(":memory:");
  registry.insertJob(job("j", { state: "RUNNING" }));
  const progress = { ...initialProgress(3, 3), loss: 0.1 };
  registry.insertModel(model("m", { trainingJobId: "j" }), {
    completeJob: { id: "j", progress },
  });
  const done = registry.getJob("j")!;
  assert.equal(done.state, "SUCCEEDED");
  assert.equal(done.modelId, "m");
  assert.deepEqual(done.progress, progress);
  // The job is no longer RUNNING: the model row is rolled back.
  assert.throws(
    () =>
      registry.insertModel(model("m2"), { completeJob: { id: "j", progress } }),
    ConflictError,
  );
  assert.equal(registry.getModel("m2"), undefined);
});
