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

Deno.test("packTask() with moveWhole moves whole buffers and still copies views", () => {
  const whole = Float32Array.of(1, 2, 3);
  const big = new Float32Array(100).map((_, i) => i);
  const inputs: SequenceInput[] = [
    { values: whole, label: 1 },
    { values: big.subarray(4, 6) },
  ];
  const { task, transfer } = packTask(
    { kind: "classify", model: MODEL, inputs },
    { moveWhole: true },
  );
  assert.equal(transfer.length, 2);
  assert.ok(transfer.includes(whole.buffer), "the whole buffer moves as is");
  assert.ok("inputs" in task);
  const [a, b] = task.inputs as readonly { values: Float32Array }[];
  assert.equal(a!.values, whole, "no copy of a whole buffer");
  assert.deepEqual(b!.values, Float32Array.of(4, 5));
  assert.notEqual(b!.values.buffer, big.buffer, "a view is copied");
  const posted = structuredClone(task, { transfer }) as unknown as {
    inputs: { values: Float32Array }[];
  };
  assert.deepEqual(posted.inputs[0]!.values, Float32Array.of(1, 2, 3));
  assert.equal(whole.byteLength, 0, "the moved buffer is detached here");
  assert.equal(big[4], 4, "the view's buffer stays usable");
});

Deno.test("packTask() with moveWhole and only whole inputs allocates nothing", () => {
  const a = Float32Array.of(1, 2);
  const task = {
    kind: "classify",
    model: MODEL,
    inputs: [{ values: a }, { values: a }],
  } as const;
  const packed = packTask(task, { moveWhole: true });
  assert.equal(packed.task, task);
  assert.deepEqual(packed.transfer, [a.buffer]);
});
