/**
 * Turning a task's inputs (raw sequences and dataset sample references) into
 * one batch for a model, validated before any tensor work.
 *
 * @module
 */
import { type ModelSpec, NUM_CLASSES } from "../../models/mod.ts";
import { OutOfRangeError } from "../errors.ts";
import type { ProblemCache } from "./_problems.ts";
import type { SequenceInput } from "./protocol.ts";

/** A validated batch. */
export interface ResolvedInputs {
  /** [count, T, rows · columns]. */
  readonly x: Float32Array;
  readonly count: number;
  /** Each input's true class, null where unknown. */
  readonly labels: (number | null)[];
}

function checkLabel(label: unknown, at: string): number {
  if (
    !Number.isInteger(label) || (label as number) < 0 ||
    (label as number) >= NUM_CLASSES
  ) {
    throw new RangeError(
      `Cannot use ${at}: label must be an integer from 0 to ${
        NUM_CLASSES - 1
      }: got ${label}`,
    );
  }
  return label as number;
}

function checkValues(values: unknown, size: number, at: string): Float32Array {
  if (!(values instanceof Float32Array)) {
    throw new TypeError(`Cannot use ${at}: values must be a Float32Array`);
  }
  if (values.length !== size) {
    throw new RangeError(
      `Cannot use ${at}: expected ${size} values (T × rows · columns), found ${values.length}`,
    );
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      throw new RangeError(
        `Cannot use ${at}: value ${i} is not finite: got ${values[i]}`,
      );
    }
  }
  return values;
}

async function sampleOf(
  input: Extract<SequenceInput, { sample: unknown }>,
  spec: ModelSpec,
  problems: ProblemCache,
  at: string,
): Promise<{ values: Float32Array; label: number }> {
  const { source, part, index, steps } = input.sample;
  if (steps !== undefined && steps !== spec.steps) {
    throw new RangeError(
      `Cannot use ${at}: steps is ${steps} but the model has T = ${spec.steps}`,
    );
  }
  if (part !== "train" && part !== "test") {
    throw new RangeError(
      `Cannot use ${at}: part must be "train" or "test": got ${
        JSON.stringify(part)
      }`,
    );
  }
  const problem = await problems.get(source, spec.steps);
  if (problem.height !== spec.rows || problem.columns !== spec.columns) {
    throw new RangeError(
      `Cannot use ${at}: the samples have ${problem.height} rows and ${problem.columns} columns per step, the model expects ${spec.rows} and ${spec.columns}`,
    );
  }
  const set = problem[part];
  if (!Number.isInteger(index) || index < 0 || index >= set.count) {
    throw new OutOfRangeError(
      `Cannot use ${at}: index ${index} is past the last sample ${
        set.count - 1
      } of the ${part} part`,
    );
  }
  const size = problem.steps * problem.features;
  return {
    values: set.x.subarray(index * size, (index + 1) * size),
    label: set.labels[index]!,
  };
}

/**
 * Validates and gathers a task's inputs into one batch for a model.
 *
 * @param inputs raw sequences and sample references, in order
 * @param spec the model's spec (T, rows, columns)
 * @param problems where sample references are resolved
 * @returns the batch and the known labels
 * @throws {RangeError|TypeError} for no inputs, wrong sizes, non-finite
 *   values, bad labels or a sample that does not fit the model
 * @throws {OutOfRangeError} for a sample index past the end of its part
 */
export async function resolveInputs(
  inputs: readonly SequenceInput[],
  spec: ModelSpec,
  problems: ProblemCache,
): Promise<ResolvedInputs> {
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new RangeError("Cannot use inputs: at least one input is required");
  }
  const size = spec.steps * spec.rows * spec.columns;
  const x = new Float32Array(inputs.length * size);
  const labels: (number | null)[] = [];
  for (const [n, input] of inputs.entries()) {
    const at = `inputs[${n}]`;
    if (typeof input !== "object" || input === null) {
      throw new TypeError(`Cannot use ${at}: it must be an object`);
    }
    if ("sample" in input) {
      const { values, label } = await sampleOf(input, spec, problems, at);
      x.set(values, n * size);
      labels.push(label);
    } else {
      x.set(checkValues(input.values, size, at), n * size);
      labels.push(
        input.label === undefined ? null : checkLabel(input.label, at),
      );
    }
  }
  return { x, count: inputs.length, labels };
}

/**
 * The labels as a Uint8Array when every input has one.
 *
 * @param labels known labels, null where unknown
 * @returns the labels, or undefined when any is unknown
 */
export function knownLabels(
  labels: readonly (number | null)[],
): Uint8Array | undefined {
  return labels.every((l) => l !== null)
    ? Uint8Array.from(labels as number[])
    : undefined;
}
