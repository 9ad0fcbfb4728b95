/**
 * Pure encoding and decoding of the safetensors format
 * (https://github.com/huggingface/safetensors), float32 only:
 *
 * - 8 bytes: N, the header length, unsigned 64-bit little-endian;
 * - N bytes: a UTF-8 JSON object mapping each tensor name to
 *   `{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}` plus an
 *   optional `"__metadata__"` object of string values; padded with spaces so
 *   that the data starts at a multiple of 8;
 * - the data: every tensor's little-endian values, row-major, at its offsets
 *   relative to the start of the data, with no gaps, overlaps or trailing
 *   bytes.
 *
 * Tensors are written in sorted name order, so equal weights give equal
 * bytes. PyTorch (`safetensors.torch.load_file`) and NumPy
 * (`safetensors.numpy.load_file`) read the result.
 *
 * @module
 */
import type { WeightMap, WeightTensor } from "../arch/weights.ts";
import { CheckpointDataLossError } from "./errors.ts";

/** What {@linkcode decodeSafetensors} returns. */
export interface Safetensors {
  tensors: WeightMap;
  /** The `__metadata__` entries (empty when absent). */
  metadata: Record<string, string>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Headers above this size are refused as corrupt (the format allows 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

function littleEndianBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

/**
 * Encodes float32 tensors and string metadata as safetensors bytes.
 *
 * @param tensors tensors by name (names must not be `__metadata__`)
 * @param metadata string entries stored under `__metadata__`
 * @returns the file's bytes
 * @throws {RangeError} if a name is reserved or a tensor's data does not fit its shape
 */
export function encodeSafetensors(
  tensors: WeightMap,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const name of names) {
    if (name === "__metadata__") {
      throw new RangeError(
        `Cannot encode safetensors: tensor name "${name}" is reserved`,
      );
    }
    const t = tensors[name]!;
    const size = t.shape.reduce((a, d) => a * d, 1);
    if (t.data.length !== size) {
      throw new RangeError(
        `Cannot encode safetensors: tensor "${name}" has ${t.data.length} values for shape [${
          t.shape.join(", ")
        }]`,
      );
    }
    header[name] = {
      dtype: "F32",
      shape: [...t.shape],
      data_offsets: [offset, offset + size * 4],
    };
    offset += size * 4;
  }
  let json = JSON.stringify(header);
  const unpadded = new TextEncoder().encode(json).length;
  json += " ".repeat((8 - ((8 + unpadded) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const bytes = littleEndianBytes(tensors[name]!.data);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

function corrupt(reason: string): never {
  throw new CheckpointDataLossError(`Cannot decode safetensors: ${reason}`);
}

function parseHeader(
  bytes: Uint8Array,
): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) {
    corrupt(
      `the file has ${bytes.length} bytes, fewer than the 8-byte header length`,
    );
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(
    0,
    true,
  );
  if (length > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    corrupt(
      `the header length ${length} exceeds the ${
        bytes.length - 8
      } bytes after it`,
    );
  }
  const dataStart = 8 + Number(length);
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(
        bytes.subarray(8, dataStart),
      ),
    );
  } catch (err) {
    throw new CheckpointDataLossError(
      "Cannot decode safetensors: the header is not valid UTF-8 JSON",
      { cause: err },
    );
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    corrupt("the header is not a JSON object");
  }
  return { header: header as Record<string, unknown>, dataStart };
}

function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    corrupt(`"__metadata__" is not an object`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") corrupt(`"__metadata__.${k}" is not a string`);
    out[k] = v;
  }
  return out;
}

interface Entry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

function readEntry(name: string, value: unknown): Entry {
  const v = value as {
    dtype?: unknown;
    shape?: unknown;
    data_offsets?: unknown;
  };
  if (typeof value !== "object" || value === null) {
    corrupt(`entry "${name}" is not an object`);
  }
  if (v.dtype !== "F32") {
    corrupt(
      `tensor "${name}" has dtype ${
        JSON.stringify(v.dtype)
      }, only "F32" is supported`,
    );
  }
  const shape = v.shape;
  if (
    !Array.isArray(shape) ||
    !shape.every((d) => Number.isSafeInteger(d) && d >= 0)
  ) {
    corrupt(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
  }
  const offsets = v.data_offsets;
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    corrupt(
      `tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`,
    );
  }
  const [begin, end] = offsets as [number, number];
  const size = (shape as number[]).reduce((a, d) => a * d, 1);
  if (end - begin !== size * 4) {
    corrupt(
      `tensor "${name}" spans ${end - begin} bytes, its shape [${
        shape.join(", ")
      }] needs ${size * 4}`,
    );
  }
  return { name, shape: shape as number[], begin, end };
}

function toFloat32(bytes: Uint8Array): Float32Array {
  const copy = bytes.slice();
  if (LITTLE_ENDIAN) return new Float32Array(copy.buffer);
  const view = new DataView(copy.buffer);
  return Float32Array.from(
    { length: copy.length / 4 },
    (_, i) => view.getFloat32(i * 4, true),
  );
}

/**
 * Decodes safetensors bytes, checking every offset.
 *
 * @param bytes the file's bytes
 * @returns the tensors (copied, aligned float32) and the metadata
 * @throws {CheckpointDataLossError} if the file is truncated, malformed, holds a
 *   dtype other than F32, or its data has gaps, overlaps or trailing bytes
 */
export function decodeSafetensors(bytes: Uint8Array): Safetensors {
  const { header, dataStart } = parseHeader(bytes);
  const metadata = readMetadata(header.__metadata__);
  const entries = Object.entries(header)
    .filter(([name]) => name !== "__metadata__")
    .map(([name, value]) => readEntry(name, value))
    .sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataLength = bytes.length - dataStart;
  let covered = 0;
  for (const e of entries) {
    if (e.begin !== covered) {
      corrupt(
        `tensor "${e.name}" starts at byte ${e.begin}, expected ${covered} (a gap or an overlap)`,
      );
    }
    covered = e.end;
  }
  if (covered !== dataLength) {
    corrupt(
      `the tensors cover ${covered} data bytes but the file holds ${dataLength}`,
    );
  }
  const tensors: Record<string, WeightTensor> = {};
  for (const e of entries) {
    tensors[e.name] = {
      shape: e.shape,
      data: toFloat32(bytes.subarray(dataStart + e.begin, dataStart + e.end)),
    };
  }
  return { tensors, metadata };
}
