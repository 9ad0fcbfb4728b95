/**
 * Wire tensors (shape + raw little-endian float32 bytes) ↔ Float32Array,
 * validated once at the edge: byte length, emptiness and finiteness.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Code, RpcError } from "../errors.ts";
import type { Tensor } from "../../proto/gen/rnnexplain/v1/tensor.ts";

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A decoded tensor. */
export interface DecodedTensor {
  /**
   * The values, row-major: a view of the message's bytes when they are
   * 4-byte aligned (read-only by convention: the request owns them), else an
   * aligned copy.
   */
  readonly values: Float32Array;
  /** The dimensions, outermost first. */
  readonly shape: readonly number[];
}

function invalid(field: string, reason: string): RpcError {
  return new RpcError(
    Code.INVALID_ARGUMENT,
    `Cannot read ${field}: ${reason}`,
    { field },
  );
}

/**
 * The float32 values of little-endian bytes: a zero-copy view where the
 * platform is little-endian and the bytes are aligned, else a copy.
 */
function readFloats(bytes: Uint8Array, count: number): Float32Array {
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) {
    return new Float32Array(bytes.buffer, bytes.byteOffset, count);
  }
  const values = new Float32Array(count);
  if (LITTLE_ENDIAN) {
    new Uint8Array(values.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let i = 0; i < count; i++) values[i] = view.getFloat32(4 * i, true);
  }
  return values;
}

/**
 * Decodes a wire tensor and checks it: the byte length is 4 × Π shape, it
 * holds at least one value, and every value is finite.
 *
 * @param tensor the wire tensor (undefined when the field is unset)
 * @param field the request field path, for errors (e.g. `inputs[0].tensor`)
 * @returns the values and shape
 * @throws {RpcError} INVALID_ARGUMENT for a missing, empty, mis-sized or non-finite tensor
 */
export function decodeTensor(
  tensor: Tensor | undefined,
  field: string,
): DecodedTensor {
  if (tensor === undefined) throw invalid(field, "a tensor is required");
  const shape = [...tensor.shape];
  if (shape.length === 0) {
    throw invalid(`${field}.shape`, "a shape is required, found a scalar");
  }
  let count = 1;
  for (const d of shape) count *= d;
  if (count === 0) {
    throw invalid(`${field}.shape`, `the tensor is empty: shape [${shape}]`);
  }
  const bytes = tensor.data;
  if (bytes.length !== 4 * count) {
    throw invalid(
      `${field}.data`,
      `shape [${shape}] needs ${4 * count} bytes, found ${bytes.length}`,
    );
  }
  const values = readFloats(bytes, count);
  for (let i = 0; i < count; i++) {
    if (!Number.isFinite(values[i]!)) {
      throw invalid(
        `${field}.data`,
        `value ${i} is not finite: got ${values[i]}`,
      );
    }
  }
  return { values, shape };
}

/**
 * Encodes float values as a wire tensor. A `Float32Array` on a
 * little-endian platform is not copied: the tensor's bytes are a view of
 * its memory (a 470 KB batch relevance would otherwise cost a fresh
 * allocation per response), so the caller must not change the values until
 * the message is serialized. Other inputs are converted into new memory.
 *
 * @param values the values, row-major
 * @param shape the dimensions; their product must equal `values.length`
 * @returns the wire tensor
 * @throws {RangeError} if the shape does not match the values
 */
export function encodeTensor(
  values: Float32Array | Float64Array | ArrayLike<number>,
  shape: readonly number[],
): Tensor {
  const count = shape.reduce((a, d) => a * d, 1);
  if (count !== values.length) {
    throw new RangeError(
      `Cannot encode tensor: shape [${shape}] holds ${count} values, found ${values.length}`,
    );
  }
  const f32 = values instanceof Float32Array
    ? values
    : Float32Array.from(values);
  if (LITTLE_ENDIAN) {
    return {
      shape: [...shape],
      data: Buffer.from(f32.buffer, f32.byteOffset, 4 * count),
    };
  }
  const data = Buffer.alloc(4 * count);
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  for (let i = 0; i < count; i++) view.setFloat32(4 * i, f32[i]!, true);
  return { shape: [...shape], data };
}
