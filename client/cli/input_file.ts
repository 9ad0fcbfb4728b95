/**
 * Input sequences given to `classify` and `explain` as JSON files.
 *
 * @module
 */

/** A sequence read from a file. */
export interface InputSequence {
  /** Pixels, row-major. */
  data: Float32Array;
  /** `[rows, width]` (a whole image) or `[T, rows, columns]` (already cut). */
  shape: number[];
  /** The true class, when the file gives one. */
  label?: number;
}

/** A JSON input file that does not hold a usable sequence. */
export class InputFileError extends Error {
  /** @param message what is wrong, std style */
  constructor(message: string) {
    super(message);
    this.name = "InputFileError";
  }
}

/**
 * Parses an input file. Accepted forms:
 * - `{"shape": [28, 84], "data": [...flat...], "label": 3}`
 * - `{"data": [[...], ...], "label": 3}` (nested arrays; the shape is read off them)
 * - `[[...], ...]` (nested arrays alone)
 *
 * Pixels are scaled as in training: [−1, 1], background −1.
 *
 * @param text the file's contents
 * @param name the file name, for messages
 * @returns the sequence
 * @throws {InputFileError} for invalid JSON, ragged arrays, non-finite values,
 * a shape that does not match the data, a rank other than 2 or 3, or a label
 * outside 0–9
 */
export function parseInputFile(text: string, name: string): InputSequence {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputFileError(
      `Cannot read input "${name}": ${(error as Error).message}`,
    );
  }
  const fail = (why: string) =>
    new InputFileError(`Cannot read input "${name}": ${why}`);
  const object = Array.isArray(json)
    ? { data: json }
    : (json as Record<string, unknown>);
  if (object === null || typeof object !== "object") {
    throw fail("expected an object with data or a nested array");
  }
  const { data, shape, label } = object as {
    data?: unknown;
    shape?: unknown;
    label?: unknown;
  };
  if (!Array.isArray(data)) throw fail('"data" must be an array');
  let values: number[];
  let dims: number[];
  if (shape !== undefined) {
    if (
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isInteger(d) && d > 0)
    ) {
      throw fail('"shape" must be a list of positive integers');
    }
    dims = shape as number[];
    values = flatten(data, fail);
    const count = dims.reduce((a, b) => a * b, 1);
    if (values.length !== count) {
      throw fail(
        `shape [${dims}] holds ${count} values, found ${values.length}`,
      );
    }
  } else {
    dims = shapeOf(data, fail);
    values = flatten(data, fail);
  }
  if (dims.length !== 2 && dims.length !== 3) {
    throw fail(
      `expected [rows, width] or [T, rows, columns], found shape [${dims}]`,
    );
  }
  for (const [i, v] of values.entries()) {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw fail(`value ${i} is not a finite number`);
    }
  }
  if (
    label !== undefined &&
    !(Number.isInteger(label) && (label as number) >= 0 &&
      (label as number) <= 9)
  ) {
    throw fail(`"label" must be an integer from 0 to 9, found ${label}`);
  }
  return {
    data: Float32Array.from(values),
    shape: dims,
    ...(label === undefined ? {} : { label: label as number }),
  };
}

function shapeOf(data: unknown, fail: (why: string) => Error): number[] {
  const dims: number[] = [];
  let level: unknown = data;
  while (Array.isArray(level)) {
    if (level.length === 0) throw fail("an array is empty");
    dims.push(level.length);
    level = level[0];
  }
  return dims;
}

function flatten(data: unknown[], fail: (why: string) => Error): number[] {
  const out: number[] = [];
  const dims = shapeOf(data, fail);
  const walk = (level: unknown, depth: number) => {
    if (depth === dims.length) {
      if (Array.isArray(level)) throw fail("the arrays are ragged");
      out.push(level as number);
      return;
    }
    if (!Array.isArray(level) || level.length !== dims[depth]) {
      throw fail("the arrays are ragged");
    }
    for (const item of level) walk(item, depth + 1);
  };
  walk(data, 0);
  return out;
}
