import assert from "node:assert/strict";
import { AlreadyExistsError, DataLossError, NotFoundError } from "../errors.ts";
import {
  readCheckpoint,
  validateCheckpointId,
  writeCheckpoint,
} from "./checkpoint_files.ts";

async function withDirectory(
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "checkpoint_files_test_" });
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

const WEIGHTS = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) % 256);
const MANIFEST = {
  formatVersion: 1,
  dataset: "mnist",
  metrics: { accuracy: 0.5 },
};

Deno.test("writeCheckpoint() and readCheckpoint() round-trip both files and leave no temporaries", async () => {
  await withDirectory(async (root) => {
    const dir = `${root}/nested/checkpoints`;
    await writeCheckpoint(dir, "m-1", { weights: WEIGHTS, manifest: MANIFEST });
    assert.deepEqual(await names(dir), ["m-1.json", "m-1.safetensors"]);
    const read = await readCheckpoint(dir, "m-1");
    assert.deepEqual(read.weights, WEIGHTS);
    assert.deepEqual(read.manifest, MANIFEST);
  });
});

Deno.test("writeCheckpoint() throws AlreadyExistsError and keeps the existing checkpoint", async () => {
  await withDirectory(async (dir) => {
    await writeCheckpoint(dir, "a", { weights: WEIGHTS, manifest: MANIFEST });
    await assert.rejects(
      () =>
        writeCheckpoint(dir, "a", { weights: new Uint8Array(3), manifest: {} }),
      (e: unknown) =>
        e instanceof AlreadyExistsError &&
        e.message === 'Cannot write checkpoint "a": it already exists',
    );
    assert.deepEqual((await readCheckpoint(dir, "a")).weights, WEIGHTS);
    assert.deepEqual(await names(dir), ["a.json", "a.safetensors"]);
  });
});

Deno.test("writeCheckpoint() never shows a manifest without complete weights", async () => {
  await withDirectory(async (dir) => {
    // An orphaned weights file from a crash is neither visible nor an obstacle.
    await Deno.writeFile(`${dir}/b.safetensors`, new Uint8Array(5));
    await assert.rejects(() => readCheckpoint(dir, "b"), NotFoundError);
    await writeCheckpoint(dir, "b", { weights: WEIGHTS, manifest: MANIFEST });
    assert.deepEqual((await readCheckpoint(dir, "b")).weights, WEIGHTS);
    // A manifest that cannot be serialised fails before anything is written.
    await assert.rejects(
      () =>
        writeCheckpoint(dir, "c", { weights: WEIGHTS, manifest: undefined }),
      TypeError,
    );
    assert.deepEqual(await names(dir), ["b.json", "b.safetensors"]);
  });
});

Deno.test("readCheckpoint() throws NotFoundError for an unknown id", async () => {
  await withDirectory(async (dir) => {
    await assert.rejects(
      () => readCheckpoint(dir, "missing"),
      (e: unknown) =>
        e instanceof NotFoundError &&
        /Cannot read checkpoint "missing": it does not exist/.test(
          (e as Error).message,
        ),
    );
  });
});

Deno.test("readCheckpoint() throws DataLossError for a broken manifest or missing weights", async () => {
  await withDirectory(async (dir) => {
    await Deno.writeTextFile(`${dir}/x.json`, '{"formatVersion": 1,');
    await assert.rejects(
      () => readCheckpoint(dir, "x"),
      (e: unknown) =>
        e instanceof DataLossError &&
        /not valid JSON/.test((e as Error).message),
    );
    await writeCheckpoint(dir, "y", { weights: WEIGHTS, manifest: MANIFEST });
    await Deno.remove(`${dir}/y.safetensors`);
    await assert.rejects(
      () => readCheckpoint(dir, "y"),
      /the weights file is missing/,
    );
  });
});

Deno.test("validateCheckpointId() throws RangeError for ids that could escape the directory", () => {
  for (
    const id of ["", "../x", "a/b", ".hidden", "-x", "a".repeat(129), "sp ace"]
  ) {
    assert.throws(() => validateCheckpointId(id), RangeError, id);
  }
  for (const id of ["a", "run-7.fold_2", "A".repeat(128)]) {
    validateCheckpointId(id);
  }
});
