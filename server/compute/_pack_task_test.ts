import assert from "node:assert/strict";
import { packTask } from "./_pack_task.ts";
import type { SequenceInput } from "./protocol.ts";

const MODEL = { id: "m", dir: "/tmp", sha256: "0".repeat(64) };

Deno.test("packTask() copies raw values into one transferable buffer and keeps sample references", () => {
  const big = new Float32Array(1000).map((_, i) => i);
  const sample = {
    sample: {
      source: {
        dataset: "mnist",
        problem: "majority",
        split: { kind: "standard" },
        seed: 1,
      },
      part: "test",
      index: 4,
    },
  } as const;
  const inputs: SequenceInput[] = [
    { values: big.subarray(10, 13), label: 2 },
    sample,
    { values: big.subarray(500, 502) },
  ];
  const { task, transfer } = packTask({
    kind: "classify",
    model: MODEL,
    inputs,
  });
  assert.equal(transfer.length, 1);
  assert.equal((transfer[0] as ArrayBuffer).byteLength, 5 * 4);
  assert.ok("inputs" in task);
  const [a, b, c] = task.inputs as SequenceInput[];
  assert.deepEqual(a, { values: Float32Array.of(10, 11, 12), label: 2 });
  assert.equal(b, sample);
  assert.deepEqual(c, { values: Float32Array.of(500, 501) });
  assert.equal((a as { values: Float32Array }).values.buffer, transfer[0]);
  // The caller's arrays are untouched and still usable after a transfer.
  structuredClone(task, { transfer });
  assert.equal(big[11], 11);
  assert.equal((inputs[0] as { values: Float32Array }).values.length, 3);
});

Deno.test("packTask() leaves tasks without inputs alone", () => {
  const task = {
    kind: "train",
    spec: { architecture: "r_lstm" },
    config: {
      data: {
        dataset: "mnist",
        problem: "majority",
        split: { kind: "standard" },
        seed: 1,
      },
      epochs: 1,
      seed: 1,
    },
  } as const;
  assert.deepEqual(packTask(task), { task, transfer: [] });
});
