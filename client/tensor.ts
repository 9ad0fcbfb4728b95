/**
 * Conversion between `Float32Array`s and the wire `Tensor` (shape plus raw
 * little-endian float32 bytes, as KServe v2 raw tensors).
 *
 * @module
 */
import type { Tensor } from "../proto/gen/rnnexplain/v1/tensor.ts";

/** A decoded tensor: row-major values and their shape. */
export interface DecodedTensor {
  /** The values, row-major. */
  data: Float32Array;
  /** The dimensions, outermost first. */
  shape: number[];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function elementCount(shape: readonly number[], what: string): number {
  let count = 1;
  for (const [i, dim] of shape.entries()) {
    if (!Number.isInteger(dim) || dim < 0 || dim > 0xffffffff) {
      throw new RangeError(
        `Cannot ${what}: shape[${i}] must be an integer from 0 to 2^32 - 1, found ${dim}`,
      );
    }
    count *= dim;
  }
  return count;
}

/** Options of {@linkcode encodeTensor}. */
export interface EncodeTensorOptions {
  /**
   * Copy the values. With `false`, a `Float32Array` on a little-endian
   * platform is not copied: the tensor's bytes view its memory, which saves
   * an allocation per input (measurable on large batches) but means the
   * values must not change until the request is sent.
   * @default true
   */
  copy?: boolean;
}

/**
 * Encodes values and a shape as a wire tensor.
 *
 * @param data the values, row-major
 * @param shape the dimensions, outermost first
 * @param options whether to copy the values
 * @returns the wire tensor (a copy of the values unless `copy: false`)
 * @throws {RangeError} when the shape is invalid or does not match the number of values
 *
 * @example
 * ```ts
 * const tensor = encodeTensor(new Float32Array(28 * 28).fill(-1), [28, 28]);
 * ```
 */
export function encodeTensor(
  data: Float32Array | ArrayLike<number>,
  shape: readonly number[],
  options: EncodeTensorOptions = {},
): Tensor {
  const count = elementCount(shape, "encode tensor");
  if (data.length !== count) {
    throw new RangeError(
      `Cannot encode tensor: shape [${shape}] holds ${count} values, found ${data.length}`,
    );
  }
  const values = data instanceof Float32Array ? data : Float32Array.from(data);
  if (LITTLE_ENDIAN && options.copy === false) {
    return {
      shape: [...shape],
      data: Buffer.from(values.buffer, values.byteOffset, count * 4),
    };
  }
  const bytes = Buffer.alloc(count * 4);
  if (LITTLE_ENDIAN) {
    bytes.set(new Uint8Array(values.buffer, values.byteOffset, count * 4));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let i = 0; i < count; i++) view.setFloat32(i * 4, values[i]!, true);
  }
  return { shape: [...shape], data: bytes };
}

/**
 * Decodes a wire tensor.
 *
 * @param tensor the wire tensor
 * @returns its values (a copy, aligned) and shape
 * @throws {RangeError} when the byte length does not match the shape
 *
 * @example
 * ```ts
 * const { data, shape } = decodeTensor(step.relevance!);
 * ```
 */
export function decodeTensor(tensor: Tensor): DecodedTensor {
  const count = elementCount(tensor.shape, "decode tensor");
  if (tensor.data.length !== count * 4) {
    throw new RangeError(
      `Cannot decode tensor: shape [${tensor.shape}] needs ${
        count * 4
      } bytes, found ${tensor.data.length}`,
    );
  }
  const data = new Float32Array(count);
  if (LITTLE_ENDIAN) {
    new Uint8Array(data.buffer).set(tensor.data);
  } else {
    const view = new DataView(
      tensor.data.buffer,
      tensor.data.byteOffset,
      tensor.data.length,
    );
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
  }
  return { data, shape: [...tensor.shape] };
}
