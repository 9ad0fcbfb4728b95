/**
 * Copies a task's raw input values into one fresh buffer that can be
 * transferred to a worker: one copy of exactly the input, instead of a
 * structured clone of every buffer the caller's views happen to point into
 * (a view of one sample of a 500 MB dataset would clone all of it).
 *
 * A caller that hands its inputs over (`moveWhole`) lets every input that
 * spans a whole buffer move as it is: no copy and no fresh allocation, which
 * for a 50-sequence ExplainBatch is 470 KB of the main thread's work per
 * request. Those buffers are detached once posted.
 *
 * @module
 */
import type { ComputeTask, SequenceInput } from "./protocol.ts";

/** A task ready for `postMessage`, and the buffers to move with it. */
export interface PackedTask {
  readonly task: ComputeTask;
  readonly transfer: Transferable[];
}

/** Options of {@linkcode packTask}. */
export interface PackOptions {
  /**
   * Move inputs whose values span a whole `ArrayBuffer` instead of copying
   * them (the caller gives them up: they are detached once posted). Views
   * into larger buffers are still copied.
   * @default false
   */
  readonly moveWhole?: boolean;
}

type RawInput = SequenceInput & { readonly values: Float32Array };

function isRaw(input: SequenceInput): input is RawInput {
  return typeof input === "object" && input !== null && "values" in input &&
    input.values instanceof Float32Array;
}

function isWhole(values: Float32Array): boolean {
  return values.buffer instanceof ArrayBuffer && values.byteOffset === 0 &&
    values.byteLength === values.buffer.byteLength;
}

/**
 * Packs a task's raw input values (other inputs and fields are unchanged;
 * without `moveWhole` the caller's arrays are not touched).
 *
 * @param task the task as given to the pool
 * @param options whether whole input buffers may move
 * @returns the task to post and its transfer list
 */
export function packTask(
  task: ComputeTask,
  options: PackOptions = {},
): PackedTask {
  if (!("inputs" in task) || !Array.isArray(task.inputs)) {
    return { task, transfer: [] };
  }
  const moved = new Set<ArrayBuffer>();
  const copied = new Set<RawInput>();
  for (const input of task.inputs as SequenceInput[]) {
    if (!isRaw(input)) continue;
    if (options.moveWhole && isWhole(input.values)) {
      moved.add(input.values.buffer as ArrayBuffer);
    } else copied.add(input);
  }
  if (copied.size === 0) {
    return { task, transfer: [...moved] };
  }
  const total = [...copied].reduce((n, i) => n + i.values.length, 0);
  const buffer = new ArrayBuffer(total * Float32Array.BYTES_PER_ELEMENT);
  let offset = 0;
  const inputs = task.inputs.map((input): SequenceInput => {
    if (!copied.has(input as RawInput)) return input;
    const { values } = input as RawInput;
    const copy = new Float32Array(buffer, offset * 4, values.length);
    copy.set(values);
    offset += values.length;
    return { ...input, values: copy };
  });
  return {
    task: { ...task, inputs } as ComputeTask,
    transfer: [buffer, ...moved],
  };
}
