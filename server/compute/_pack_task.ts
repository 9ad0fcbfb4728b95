/**
 * Copies a task's raw input values into one fresh buffer that can be
 * transferred to a worker: one copy of exactly the input, instead of a
 * structured clone of every buffer the caller's views happen to point into
 * (a view of one sample of a 500 MB dataset would clone all of it).
 *
 * @module
 */
import type { ComputeTask, SequenceInput } from "./protocol.ts";

/** A task ready for `postMessage`, and the buffers to move with it. */
export interface PackedTask {
  readonly task: ComputeTask;
  readonly transfer: Transferable[];
}

/**
 * Packs a task's raw input values (other inputs and fields are unchanged;
 * the caller's arrays are not touched).
 *
 * @param task the task as given to the pool
 * @returns the task to post and its transfer list
 */
export function packTask(task: ComputeTask): PackedTask {
  if (!("inputs" in task) || !Array.isArray(task.inputs)) {
    return { task, transfer: [] };
  }
  const raw = task.inputs.filter((i): i is { values: Float32Array } =>
    typeof i === "object" && i !== null && "values" in i &&
    i.values instanceof Float32Array
  );
  const total = raw.reduce((n, i) => n + i.values.length, 0);
  const buffer = new ArrayBuffer(total * Float32Array.BYTES_PER_ELEMENT);
  let offset = 0;
  const inputs = task.inputs.map((input): SequenceInput => {
    if (!raw.includes(input as { values: Float32Array })) return input;
    const { values } = input as { values: Float32Array };
    const copy = new Float32Array(buffer, offset * 4, values.length);
    copy.set(values);
    offset += values.length;
    return { ...input, values: copy };
  });
  return { task: { ...task, inputs } as ComputeTask, transfer: [buffer] };
}
