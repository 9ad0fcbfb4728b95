/**
 * Request inputs → the compute pool's {@linkcode SequenceInput}s, checked
 * against the model's geometry before anything is queued: raw tensors in
 * one of three layouts, and dataset sample references (resolved, and their
 * index checked, inside the worker).
 *
 * Accepted tensor layouts for a model with T steps of rows × c pixels:
 * - `[T, rows, c]` and `[T, rows·c]`: already cut into steps, each step
 *   row-major (the models' own layout);
 * - `[rows, T·c]`: the whole image, cut here column-wise into T steps of c
 *   columns (as `models/` `toSequences` does).
 *
 * @module
 */
import type { ProblemSplit } from "../../models/mod.ts";
import type {
  DataSourceRef,
  SampleRef,
  SequenceInput,
} from "../compute/mod.ts";
import { Code, ResourceExhaustedError, RpcError } from "../errors.ts";
import type {
  Input,
  SampleRef as WireSampleRef,
} from "../../proto/gen/rnnexplain/v1/tensor.ts";
import type { DataSource } from "../../proto/gen/rnnexplain/v1/types.ts";
import {
  DATASET,
  decodeEnum,
  decodeOptionalEnum,
  PROBLEM,
  SPLIT_PART,
} from "./enums.ts";
import { decodeTensor } from "./tensor.ts";

/** A model's input geometry. */
export interface InputGeometry {
  /** Sequence length T. */
  readonly steps: number;
  /** Image rows. */
  readonly rows: number;
  /** Columns per step c. */
  readonly columns: number;
}

/** Folds of a cross-validation split when the request leaves them unset (the thesis's 7). */
export const DEFAULT_FOLDS = 7;

/** Number of classes a label may name. */
const CLASSES = 10;

function invalid(field: string, reason: string): RpcError {
  return new RpcError(
    Code.INVALID_ARGUMENT,
    `Cannot read ${field}: ${reason}`,
    { field },
  );
}

/**
 * Decodes a data source.
 *
 * @param source the wire data source (undefined when unset)
 * @param field the request field path
 * @returns the pool's data source reference
 * @throws {RpcError} INVALID_ARGUMENT for a missing source, an unset or unknown enum, or a bad fold
 */
export function decodeDataSource(
  source: DataSource | undefined,
  field: string,
): DataSourceRef {
  if (source === undefined) throw invalid(field, "a data source is required");
  const dataset = decodeEnum(DATASET, source.dataset, `${field}.dataset`);
  const problem = decodeEnum(PROBLEM, source.problem, `${field}.problem`);
  let split: ProblemSplit = { kind: "standard" };
  const kind = source.split?.kind;
  if (kind?.$case === "crossValidation") {
    const folds = kind.crossValidation.folds ?? DEFAULT_FOLDS;
    const fold = kind.crossValidation.fold;
    const at = `${field}.split.cross_validation`;
    if (folds < 2) throw invalid(`${at}.folds`, `must be ≥ 2: got ${folds}`);
    if (fold >= folds) {
      throw invalid(
        `${at}.fold`,
        `must be below folds = ${folds}: got ${fold}`,
      );
    }
    split = { kind: "fold", folds, fold };
  }
  return { dataset, problem, split, seed: source.seed };
}

function decodeSample(
  ref: WireSampleRef,
  geometry: InputGeometry,
  field: string,
): SampleRef {
  const source = decodeDataSource(ref.source, `${field}.source`);
  const part = decodeOptionalEnum(
    SPLIT_PART,
    ref.part,
    `${field}.part`,
    "test" as const,
  );
  if (ref.steps !== undefined && ref.steps !== geometry.steps) {
    throw invalid(
      `${field}.steps`,
      `the model has T = ${geometry.steps}, found ${ref.steps}`,
    );
  }
  return { source, part, index: ref.index };
}

/** Cuts a [rows, T·c] image into T row-major steps of rows × c. */
function cutImage(image: Float32Array, g: InputGeometry): Float32Array {
  const width = g.steps * g.columns;
  const out = new Float32Array(image.length);
  let o = 0;
  for (let t = 0; t < g.steps; t++) {
    for (let row = 0; row < g.rows; row++) {
      const from = row * width + t * g.columns;
      for (let col = 0; col < g.columns; col++) out[o++] = image[from + col]!;
    }
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Decodes one raw sequence tensor for a model.
 *
 * @param tensor the wire tensor
 * @param geometry the model's T, rows and c
 * @param field the request field path
 * @returns [T, rows·c] values, each step row-major
 * @throws {RpcError} INVALID_ARGUMENT for a malformed tensor or a shape that fits none of the layouts
 */
export function decodeSequence(
  tensor: Parameters<typeof decodeTensor>[0],
  geometry: InputGeometry,
  field: string,
): Float32Array {
  const { values, shape } = decodeTensor(tensor, field);
  const { steps: t, rows: r, columns: c } = geometry;
  if (sameShape(shape, [t, r, c]) || sameShape(shape, [t, r * c])) {
    return values;
  }
  if (sameShape(shape, [r, t * c])) return cutImage(values, geometry);
  throw invalid(
    `${field}.shape`,
    `expected [${t}, ${r}, ${c}], [${t}, ${r * c}] or [${r}, ${
      t * c
    }] for this model, found [${shape}]`,
  );
}

/** Options of {@linkcode decodeInputs}. */
export interface DecodeInputsOptions {
  /** Most inputs per request; more is RESOURCE_EXHAUSTED. */
  readonly maxBatch: number;
  /**
   * The repeated field's path.
   * @default "inputs"
   */
  readonly field?: string;
}

/**
 * Decodes a request's inputs for a model.
 *
 * @param inputs the wire inputs
 * @param geometry the model's T, rows and c
 * @param options the batch cap and the field path
 * @returns one pool input per request input, in order
 * @throws {RpcError} INVALID_ARGUMENT for no inputs, an input without a source, a bad tensor, label or sample reference
 * @throws {ResourceExhaustedError} above `maxBatch` inputs
 */
export function decodeInputs(
  inputs: readonly Input[],
  geometry: InputGeometry,
  options: DecodeInputsOptions,
): SequenceInput[] {
  const field = options.field ?? "inputs";
  if (inputs.length === 0) {
    throw invalid(field, "at least one input is required");
  }
  if (inputs.length > options.maxBatch) {
    throw new ResourceExhaustedError(
      `Cannot accept ${field}: ${inputs.length} inputs exceed the limit of ${options.maxBatch} per request`,
      { field },
    );
  }
  return inputs.map((input, n) =>
    decodeInput(input, geometry, `${field}[${n}]`)
  );
}

/**
 * Decodes one input for a model (see {@linkcode decodeInputs}).
 *
 * @throws {RpcError} INVALID_ARGUMENT for a missing source, a bad tensor, label or sample reference
 */
export function decodeInput(
  input: Input | undefined,
  geometry: InputGeometry,
  field: string,
): SequenceInput {
  const source = input?.source;
  if (input === undefined || source === undefined) {
    throw invalid(field, "a tensor or a sample is required");
  }
  if (source.$case === "sample") {
    return { sample: decodeSample(source.sample, geometry, `${field}.sample`) };
  }
  const values = decodeSequence(source.tensor, geometry, `${field}.tensor`);
  if (input.label === undefined) return { values };
  if (input.label >= CLASSES) {
    throw invalid(
      `${field}.label`,
      `must be from 0 to ${CLASSES - 1}: got ${input.label}`,
    );
  }
  return { values, label: input.label };
}
