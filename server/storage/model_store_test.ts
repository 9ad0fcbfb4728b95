import assert from "node:assert/strict";
import { sha256Hex } from "../../models/mod.ts";
import {
  AlreadyExistsError,
  ConflictError,
  DataLossError,
  NotFoundError,
  PreconditionError,
} from "../errors.ts";
import { writeCheckpoint } from "./checkpoint_files.ts";
import { openModelStore } from "./model_store.ts";
import { initialProgress, type JobRecord } from "./records.ts";
import { createTestCheckpoint, TEST_SPEC } from "./test_checkpoint.ts";
import { INTERRUPTED_BY_RESTART } from "./_recover.ts";

async function withDirectory(
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "model_store_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

async function fileSize(path: string): Promise<number> {
  return (await Deno.stat(path)).size;
}

function runningJob(id: string, lastCompletedEpoch = 0): JobRecord {
  const now = new Date().toISOString();
  return {
    id,
    state: "RUNNING",
    config: { epochs: 3 },
    spec: TEST_SPEC,
    progress: initialProgress(3, lastCompletedEpoch),
    lastCompletedEpoch,
    modelId: "",
    error: "",
    displayName: "",
    created: now,
    updated: now,
    started: now,
    ended: "",
  };
}

Deno.test("ModelStore.save() stores files then row, and get/list/readFiles/delete round-trip", async () => {
  await withDirectory(async (dir) => {
    using store = await openModelStore({ dir });
    const a = await createTestCheckpoint({ seed: 1 });
    const b = await createTestCheckpoint({ seed: 2, metrics: { acc: 0.9 } });
    const saved = await store.save("m-a", a, { displayName: "first" });
    await store.save("m-b", b);
    assert.deepEqual(await names(`${dir}/models`), [
      "m-a.json",
      "m-a.safetensors",
      "m-b.json",
      "m-b.safetensors",
    ]);
    assert.equal(
      saved.sizeBytes,
      await fileSize(`${dir}/models/m-a.json`) +
        await fileSize(`${dir}/models/m-a.safetensors`),
    );
    assert.deepEqual(store.get("m-a"), saved);
    assert.equal(saved.weightsSha256, await sha256Hex(a.weights));
    assert.equal(saved.displayName, "first");
    assert.equal(saved.state, "READY");
    assert.deepEqual(saved.spec, TEST_SPEC);
    assert.deepEqual(store.get("m-b").metrics, { acc: 0.9 });
    assert.deepEqual(store.list().items.map((m) => m.id), ["m-b", "m-a"]);
    const read = await store.readFiles("m-a");
    assert.deepEqual(read.weights, a.weights);
    assert.deepEqual(read.manifest, a.manifest);
    await store.delete("m-a");
    assert.deepEqual(await names(`${dir}/models`), [
      "m-b.json",
      "m-b.safetensors",
    ]);
    for (
      const call of [
        () => Promise.resolve().then(() => store.get("m-a")),
        () => store.delete("m-a"),
        () => store.readFiles("m-a"),
      ]
    ) {
      await assert.rejects(call, NotFoundError);
    }
    await assert.rejects(
      () => store.delete("m-a"),
      { message: 'Cannot delete model "m-a": no such id' },
    );
    assert.throws(() => store.get("../m-b"), RangeError);
  });
});

Deno.test("ModelStore.save() refuses taken ids, corrupt and foreign checkpoints without writing files", async () => {
  await withDirectory(async (dir) => {
    using store = await openModelStore({ dir });
    const good = await createTestCheckpoint();
    await store.save("m", good);
    await assert.rejects(
      () => store.save("m", good),
      {
        name: "AlreadyExistsError",
        message: 'Cannot save model "m": it already exists',
      },
    );
    const flipped = good.weights.slice();
    flipped[flipped.length - 1]! ^= 1;
    await assert.rejects(
      () => store.save("bad", { weights: flipped, manifest: good.manifest }),
      (e: unknown) => e instanceof DataLossError && /SHA-256/.test(e.message),
    );
    await assert.rejects(
      () =>
        store.save("newer", {
          weights: good.weights,
          manifest: { ...good.manifest, formatVersion: 99 },
        }),
      PreconditionError,
    );
    await assert.rejects(() => store.save("a/b", good), RangeError);
    assert.deepEqual(await names(`${dir}/models`), ["m.json", "m.safetensors"]);
    assert.deepEqual(store.list().items.map((m) => m.id), ["m"]);
  });
});

Deno.test("ModelStore.readFiles() throws DataLossError for corrupt or missing weights and marks the model", async () => {
  await withDirectory(async (dir) => {
    using store = await openModelStore({ dir });
    await store.save("m", await createTestCheckpoint());
    const path = `${dir}/models/m.safetensors`;
    const bytes = await Deno.readFile(path);
    bytes[bytes.length - 3]! ^= 0xff; // same size, different hash
    await Deno.writeFile(path, bytes);
    await assert.rejects(
      () => store.readFiles("m"),
      (e: unknown) =>
        e instanceof DataLossError &&
        /^Cannot read model "m": .*SHA-256/.test(e.message),
    );
    assert.equal(store.get("m").state, "DATA_LOSS");
    await assert.rejects(() => store.exportBytes("m"), DataLossError);

    await store.save("n", await createTestCheckpoint({ seed: 3 }));
    await Deno.remove(`${dir}/models/n.safetensors`);
    await assert.rejects(() => store.readFiles("n"), /weights file is missing/);
    // A damaged model can still be deleted.
    await store.delete("m");
    assert.deepEqual(store.list().items.map((m) => m.id), ["n"]);
  });
});

Deno.test("ModelStore.exportBytes() and importBytes() move a model between stores with identical files and hash", async () => {
  await withDirectory(async (dir) => {
    using source = await openModelStore({ dir: `${dir}/a` });
    using target = await openModelStore({ dir: `${dir}/b` });
    const original = await source.save("m1", await createTestCheckpoint(), {
      displayName: "digits",
    });
    const bytes = await source.exportBytes("m1");
    const archive = await source.exportArchive("m1");
    const imported = await target.importBytes(bytes, {
      expectedSha256: archive.header.sha256,
    });
    assert.equal(imported.created, true);
    assert.deepEqual(imported.model, original);
    for (const name of ["m1.json", "m1.safetensors"]) {
      assert.deepEqual(
        await Deno.readFile(`${dir}/b/models/${name}`),
        await Deno.readFile(`${dir}/a/models/${name}`),
        name,
      );
    }
    assert.deepEqual(await target.exportBytes("m1"), bytes);
    // Idempotent for the same bytes; a different model under the id is refused.
    assert.equal((await target.importBytes(bytes)).created, false);
    await source.save("m2", await createTestCheckpoint({ seed: 5 }));
    const other = await source.exportArchive("m2");
    await assert.rejects(
      () => target.importArchive(other, { id: "m1" }),
      AlreadyExistsError,
    );
    const copy = await target.importArchive(other, { id: "m2-copy" });
    assert.equal(copy.model.id, "m2-copy");
    assert.equal(
      copy.model.weightsSha256,
      (await source.get("m2")).weightsSha256,
    );
  });
});

Deno.test("ModelStore.importBytes() throws DataLossError for tampered, truncated or unexpected archives", async () => {
  await withDirectory(async (dir) => {
    using source = await openModelStore({ dir: `${dir}/a` });
    using target = await openModelStore({ dir: `${dir}/b` });
    await source.save("m1", await createTestCheckpoint());
    const bytes = await source.exportBytes("m1");
    const tampered = bytes.slice();
    tampered[tampered.length - 10]! ^= 1;
    const cases: [string, Uint8Array, string | undefined, RegExp][] = [
      ["tampered payload", tampered, undefined, /payload's SHA-256/],
      [
        "truncated",
        bytes.subarray(0, bytes.length - 1),
        undefined,
        /payload has/,
      ],
      ["not an archive", new Uint8Array(40), undefined, /RNNXARC1/],
      ["wrong expected hash", bytes, "0".repeat(64), /the caller expects/],
    ];
    for (const [what, input, expectedSha256, message] of cases) {
      await assert.rejects(
        () => target.importBytes(input, { expectedSha256 }),
        (e: unknown) => e instanceof DataLossError && message.test(e.message),
        what,
      );
    }
    assert.deepEqual(await names(`${dir}/b/models`), []);
  });
});

Deno.test("openModelStore() interrupts unfinished jobs, quarantines orphans, removes temporaries and flags damaged rows", async () => {
  await withDirectory(async (dir) => {
    {
      using store = await openModelStore({ dir });
      await store.save("kept", await createTestCheckpoint({ seed: 1 }));
      await store.save("damaged", await createTestCheckpoint({ seed: 2 }));
      store.registry.insertJob(runningJob("job-1"));
      await store.saveEpoch(
        "job-1",
        1,
        new Uint8Array([1, 2, 3]),
        initialProgress(3, 1),
      );
    }
    // What a crash can leave behind: files of a save whose row never came,
    // a temporary file, a newer epoch that was never recorded, lost weights.
    const orphan = await createTestCheckpoint({ seed: 9 });
    await writeCheckpoint(`${dir}/models`, "orphan", orphan);
    await Deno.writeFile(`${dir}/models/.kept.json.123.tmp`, new Uint8Array(3));
    await writeCheckpoint(`${dir}/epochs`, "job-1.epoch-2", {
      weights: new Uint8Array(4),
      manifest: {},
    });
    const damagedWeights = await Deno.readFile(
      `${dir}/models/damaged.safetensors`,
    );
    await Deno.remove(`${dir}/models/damaged.safetensors`);

    {
      using store = await openModelStore({ dir });
      const report = store.recovery;
      assert.deepEqual(report.interruptedJobs, ["job-1"]);
      assert.deepEqual(report.orphanedModels, ["orphan"]);
      assert.deepEqual(report.damagedModels, ["damaged"]);
      assert.deepEqual(report.removedEpochCheckpoints, ["job-1.epoch-2"]);
      assert.equal(report.removedTemporaries, 1);
      assert.deepEqual(await names(report.orphansDir), [
        "orphan.json",
        "orphan.safetensors",
      ]);
      assert.deepEqual(await names(`${dir}/models`), [
        "damaged.json",
        "kept.json",
        "kept.safetensors",
      ]);
      const job = store.registry.getJob("job-1")!;
      assert.equal(job.state, "INTERRUPTED");
      assert.equal(job.lastCompletedEpoch, 1);
      assert.equal(job.error, INTERRUPTED_BY_RESTART);
      assert.deepEqual(
        await store.readEpoch("job-1", 1),
        new Uint8Array([1, 2, 3]),
      );
      assert.equal(store.get("damaged").state, "DATA_LOSS");
      await assert.rejects(() => store.readFiles("damaged"), DataLossError);
      assert.deepEqual(
        store.list().items.map((m) => [m.id, m.state]),
        [["damaged", "DATA_LOSS"], ["kept", "READY"]],
      );
    }
    // Restoring the lost file (e.g. from a backup) makes the model READY again.
    await Deno.writeFile(`${dir}/models/damaged.safetensors`, damagedWeights);
    using store = await openModelStore({ dir });
    assert.deepEqual(store.recovery.restoredModels, ["damaged"]);
    assert.equal(store.get("damaged").state, "READY");
    assert.equal(store.recovery.interruptedJobs.length, 0);
    assert.deepEqual(
      (await store.readFiles("damaged")).weights,
      damagedWeights,
    );
  });
});

Deno.test("ModelStore.saveEpoch() keeps only the latest epoch of a RUNNING job and readEpoch() verifies it", async () => {
  await withDirectory(async (dir) => {
    using store = await openModelStore({ dir });
    store.registry.insertJob(runningJob("j"));
    await store.saveEpoch("j", 1, new Uint8Array([1]), initialProgress(3, 1));
    await store.saveEpoch(
      "j",
      2,
      new Uint8Array([2, 2]),
      initialProgress(3, 2),
    );
    assert.deepEqual(await names(`${dir}/epochs`), [
      "j.epoch-2.json",
      "j.epoch-2.safetensors",
    ]);
    assert.equal(store.registry.getJob("j")?.lastCompletedEpoch, 2);
    await assert.rejects(
      () => store.saveEpoch("j", 2, new Uint8Array([9]), initialProgress(3, 2)),
      ConflictError,
    );
    assert.deepEqual(await store.readEpoch("j", 2), new Uint8Array([2, 2]));
    await Deno.writeFile(
      `${dir}/epochs/j.epoch-2.safetensors`,
      new Uint8Array([3, 3]),
    );
    await assert.rejects(
      () => store.readEpoch("j", 2),
      /fail their hash check/,
    );
    await assert.rejects(() => store.readEpoch("j", 1), /are missing/);
    await store.removeEpochs("j");
    assert.deepEqual(await names(`${dir}/epochs`), []);
  });
});
