/**
 * The model archive: one self-describing byte stream that moves a checkpoint
 * between servers. Its header mirrors `rnnexplain.v1.ModelArchiveHeader`, so
 * the ExportModel/ImportModel stream can send the header and then the
 * payload in chunks, and a file on disk can hold both:
 *
 * ```
 * offset 0   8 bytes   magic "RNNXARC1" (ASCII; the 1 is the format version)
 * offset 8   4 bytes   H, the header's length, unsigned little-endian
 * offset 12  H bytes   header, UTF-8 JSON:
 *                      { modelId, displayName, files: [{ name, sizeBytes, sha256 }],
 *                        totalSizeBytes, sha256 }
 * offset 12+H          payload: the files' bytes back to back, in header order
 * ```
 *
 * `sha256` is the lower-case hex SHA-256 of the payload (what the proto
 * header calls `sha256`), `totalSizeBytes` its length; each file carries its
 * own size and hash. A model archive holds `manifest.json` then
 * `weights.safetensors`.
 *
 * @module
 */
import { sha256Hex } from "../../models/mod.ts";
import { DataLossError } from "../errors.ts";

const MAGIC = new TextEncoder().encode("RNNXARC1");
const PREFIX_BYTES = MAGIC.length + 4;
/** Headers are small; a larger length means a corrupt or foreign stream. */
const MAX_HEADER_BYTES = 1 << 20;

/** One file of an archive. */
export interface ArchiveFileEntry {
  /** File name, e.g. `manifest.json`. */
  name: string;
  /** Size in bytes. */
  sizeBytes: number;
  /** Lower-case hex SHA-256 of the file. */
  sha256: string;
}

/** What an archive holds and how to verify it. */
export interface ModelArchiveHeader {
  /** The model's id on the exporting server. */
  modelId: string;
  /** The model's human-readable name, or `""`. */
  displayName: string;
  /** The files, in payload order. */
  files: ArchiveFileEntry[];
  /** Payload length: the sum of the files' sizes. */
  totalSizeBytes: number;
  /** Lower-case hex SHA-256 of the payload. */
  sha256: string;
}

/** A header plus the payload it describes. */
export interface ModelArchive {
  /** The header. */
  header: ModelArchiveHeader;
  /** The files' bytes back to back. */
  payload: Uint8Array;
}

/**
 * Builds an archive from named files.
 *
 * @param meta the model's id and name
 * @param files the files, in payload order
 * @returns the archive
 */
export async function createModelArchive(
  meta: { modelId: string; displayName: string },
  files: readonly { name: string; bytes: Uint8Array }[],
): Promise<ModelArchive> {
  const total = files.reduce((a, f) => a + f.bytes.length, 0);
  const payload = new Uint8Array(total);
  const entries: ArchiveFileEntry[] = [];
  let offset = 0;
  for (const file of files) {
    payload.set(file.bytes, offset);
    offset += file.bytes.length;
    entries.push({
      name: file.name,
      sizeBytes: file.bytes.length,
      sha256: await sha256Hex(file.bytes),
    });
  }
  return {
    header: {
      modelId: meta.modelId,
      displayName: meta.displayName,
      files: entries,
      totalSizeBytes: total,
      sha256: await sha256Hex(payload),
    },
    payload,
  };
}

/**
 * Serialises an archive into one byte stream (see the module docs).
 *
 * @param archive the header and payload
 * @returns the stream's bytes
 */
export function encodeModelArchive(archive: ModelArchive): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify(archive.header));
  const out = new Uint8Array(
    PREFIX_BYTES + header.length + archive.payload.length,
  );
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, header.length, true);
  out.set(header, PREFIX_BYTES);
  out.set(archive.payload, PREFIX_BYTES + header.length);
  return out;
}

function corrupt(reason: string, cause?: unknown): DataLossError {
  return new DataLossError(`Cannot read model archive: ${reason}`, { cause });
}

function checkHeader(value: unknown): ModelArchiveHeader {
  const h = value as Partial<ModelArchiveHeader> | null;
  const isSize = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  const isHash = (s: unknown) =>
    typeof s === "string" && /^[0-9a-f]{64}$/.test(s);
  if (
    typeof h?.modelId !== "string" || typeof h.displayName !== "string" ||
    !Array.isArray(h.files) || !isSize(h.totalSizeBytes) || !isHash(h.sha256)
  ) {
    throw corrupt(
      "the header lacks modelId, displayName, files, totalSizeBytes or sha256",
    );
  }
  for (const f of h.files as unknown[]) {
    const e = f as Partial<ArchiveFileEntry> | null;
    if (
      typeof e?.name !== "string" || !isSize(e.sizeBytes) || !isHash(e.sha256)
    ) {
      throw corrupt("a file entry lacks name, sizeBytes or sha256");
    }
  }
  return h as ModelArchiveHeader;
}

/**
 * Parses an archive byte stream; does not verify hashes
 * (see {@linkcode verifyModelArchive}).
 *
 * @param bytes the stream
 * @returns the header and payload (a view into `bytes`)
 * @throws {DataLossError} if the stream is not a model archive or is truncated
 */
export function decodeModelArchive(bytes: Uint8Array): ModelArchive {
  if (
    bytes.length < PREFIX_BYTES ||
    !MAGIC.every((b, i) => bytes[i] === b)
  ) {
    throw corrupt('it does not start with "RNNXARC1"');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(MAGIC.length, true);
  if (length > MAX_HEADER_BYTES || PREFIX_BYTES + length > bytes.length) {
    throw corrupt(`the header length ${length} exceeds the stream`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(
        bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + length),
      ),
    );
  } catch (err) {
    throw corrupt("the header is not UTF-8 JSON", err);
  }
  return {
    header: checkHeader(parsed),
    payload: bytes.subarray(PREFIX_BYTES + length),
  };
}

/**
 * Verifies an archive's payload against its header and splits it into files.
 *
 * @param archive the header and payload
 * @param expectedSha256 a payload hash the caller knows independently
 * @returns the files by name
 * @throws {DataLossError} on any size or hash mismatch
 */
export async function verifyModelArchive(
  archive: ModelArchive,
  expectedSha256?: string,
): Promise<Map<string, Uint8Array>> {
  const { header, payload } = archive;
  if (payload.length !== header.totalSizeBytes) {
    throw corrupt(
      `the payload has ${payload.length} bytes, the header records ${header.totalSizeBytes}`,
    );
  }
  const sum = header.files.reduce((a, f) => a + f.sizeBytes, 0);
  if (sum !== header.totalSizeBytes) {
    throw corrupt(
      `the files add up to ${sum} bytes, the header records ${header.totalSizeBytes}`,
    );
  }
  const hash = await sha256Hex(payload);
  for (
    const [what, want] of [["header", header.sha256], [
      "caller",
      expectedSha256,
    ]]
  ) {
    if (want !== undefined && hash !== want) {
      throw corrupt(
        `the payload's SHA-256 is ${hash}, the ${what} expects ${want}`,
      );
    }
  }
  const files = new Map<string, Uint8Array>();
  let offset = 0;
  for (const entry of header.files) {
    const bytes = payload.subarray(offset, offset + entry.sizeBytes);
    offset += entry.sizeBytes;
    if (files.has(entry.name)) {
      throw corrupt(`file "${entry.name}" appears twice`);
    }
    if (await sha256Hex(bytes) !== entry.sha256) {
      throw corrupt(`file "${entry.name}" fails its hash check`);
    }
    files.set(entry.name, bytes);
  }
  return files;
}
