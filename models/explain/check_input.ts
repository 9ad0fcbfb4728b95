/**
 * Validation of explanation inputs, shared by `explain()` and the attributors
 * it dispatches to, run before any tensor exists.
 *
 * @module
 */
import type { RnnModel } from "../arch/rnn_model.ts";
import { NUM_CLASSES } from "../arch/spec.ts";
import type { ExplainInput } from "./explanation.ts";

/**
 * Checks sequences (and their labels, when given) against a model.
 *
 * @throws {TypeError} if x is not a Float32Array
 * @throws {RangeError} if count is not a positive integer, x has the wrong
 *   length, a value is not finite, or the labels do not fit
 */
export function checkExplainInput(model: RnnModel, input: ExplainInput): void {
  const { steps, rows, columns } = model.spec;
  const { x, count, labels } = input;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(
      `Cannot explain input: count must be an integer ≥ 1: got ${count}`,
    );
  }
  if (!(x instanceof Float32Array)) {
    throw new TypeError("Cannot explain input: x must be a Float32Array");
  }
  const expected = count * steps * rows * columns;
  if (x.length !== expected) {
    throw new RangeError(
      `Cannot explain input: x has ${x.length} values, expected ${expected} (${count} × ${steps} × ${rows}·${columns})`,
    );
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) {
      throw new RangeError(
        `Cannot explain input: x[${i}] is not finite: got ${x[i]}`,
      );
    }
  }
  if (labels === undefined) return;
  if (!(labels instanceof Uint8Array) || labels.length !== count) {
    throw new RangeError(
      `Cannot explain input: labels must be a Uint8Array of ${count} values: got ${labels.length}`,
    );
  }
  const bad = labels.findIndex((l) => l >= NUM_CLASSES);
  if (bad >= 0) {
    throw new RangeError(
      `Cannot explain input: labels[${bad}] is ${
        labels[bad]
      }, past the last class ${NUM_CLASSES - 1}`,
    );
  }
}
