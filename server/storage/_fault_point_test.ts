import assert from "node:assert/strict";
import { NotFoundError } from "../errors.ts";
import { readCheckpoint, writeCheckpoint } from "./checkpoint_files.ts";
import {
  armFaultPoint,
  FaultInjectedError,
  faultPoint,
  parseFaultPoint,
} from "./_fault_point.ts";

const FILES = {
  weights: Uint8Array.from({ length: 64 }, (_, i) => i),
  manifest: { formatVersion: 1 },
};

async function withArmedDirectory(
  spec: Parameters<typeof armFaultPoint>[0],
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fault_point_test_" });
  armFaultPoint(spec);
  try {
    await fn(dir);
  } finally {
    armFaultPoint(undefined);
    await Deno.remove(dir, { recursive: true });
  }
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

Deno.test("parseFaultPoint() reads a point with an optional id filter and refuses unknown points", () => {
  assert.deepEqual(parseFaultPoint("checkpoint-weights-renamed"), {
    point: "checkpoint-weights-renamed",
    idContains: "",
    action: "pause",
  });
  assert.deepEqual(parseFaultPoint("checkpoint-temporaries-written@.epoch-2"), {
    point: "checkpoint-temporaries-written",
    idContains: ".epoch-2",
    action: "pause",
  });
  assert.throws(
    () => parseFaultPoint("before-rename"),
    /unknown point: got "before-rename"/,
  );
});

Deno.test("faultPoint() returns at once when nothing or another point is armed", async () => {
  armFaultPoint(undefined);
  await faultPoint("model-files-written", "m1");
  armFaultPoint({ point: "checkpoint-weights-renamed", action: "throw" });
  try {
    await faultPoint("model-files-written", "m1");
  } finally {
    armFaultPoint(undefined);
  }
});

Deno.test("writeCheckpoint() stopped after its temporaries are written publishes neither file", async () => {
  await withArmedDirectory(
    { point: "checkpoint-temporaries-written", action: "throw" },
    async (dir) => {
      await assert.rejects(
        writeCheckpoint(dir, "m1", FILES),
        FaultInjectedError,
      );
      // The thrown write cleans its temporaries; a killed one leaves them for recovery.
      assert.deepEqual(await names(dir), []);
      await assert.rejects(readCheckpoint(dir, "m1"), NotFoundError);
    },
  );
});

Deno.test("writeCheckpoint() stopped after the weights are renamed has no manifest, so the checkpoint stays invisible", async () => {
  await withArmedDirectory(
    { point: "checkpoint-weights-renamed", action: "throw" },
    async (dir) => {
      await assert.rejects(
        writeCheckpoint(dir, "m1", FILES),
        FaultInjectedError,
      );
      assert.deepEqual(await names(dir), ["m1.safetensors"]);
      await assert.rejects(readCheckpoint(dir, "m1"), NotFoundError);
    },
  );
});

Deno.test("writeCheckpoint() only stops for ids containing the armed text", async () => {
  await withArmedDirectory(
    {
      point: "checkpoint-temporaries-written",
      idContains: ".epoch-2",
      action: "throw",
    },
    async (dir) => {
      await writeCheckpoint(dir, "job.epoch-1", FILES);
      await assert.rejects(
        writeCheckpoint(dir, "job.epoch-2", FILES),
        FaultInjectedError,
      );
      assert.deepEqual(await names(dir), [
        "job.epoch-1.json",
        "job.epoch-1.safetensors",
      ]);
    },
  );
});
