/**
 * Reading IDX files from disk, gzip-compressed or raw.
 *
 * @module
 */
import { gunzip } from "node:zlib";
import { basename } from "node:path";
import { promisify } from "node:util";
import { type IdxArray, IdxFormatError, parseIdx } from "../../models/mod.ts";

const gunzipAsync = promisify(gunzip);

/** True when `bytes` start with the gzip magic number 1f 8b. */
function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Reads and parses an IDX file of unsigned-byte images or labels. The file
 * is gunzipped when its name ends in `.gz` or its bytes start with the gzip
 * magic number; decompression runs off the main thread.
 *
 * @param path Path of the file.
 * @returns The parsed file; its `name` is the file's base name.
 * @throws {IdxFormatError} naming the file if the gzip stream is corrupt or
 * the content is not a well-formed IDX file.
 * @throws {Deno.errors.NotFound} if the file does not exist (and other
 * file-system errors as they come).
 *
 * @example
 * ```ts
 * const labels = await readIdxFile("data/mnist/t10k-labels-idx1-ubyte.gz");
 * ```
 */
export async function readIdxFile(path: string): Promise<IdxArray> {
  const name = basename(path);
  let bytes: Uint8Array = await Deno.readFile(path);
  if (path.endsWith(".gz") || isGzip(bytes)) {
    try {
      const inflated: Uint8Array = await gunzipAsync(bytes);
      bytes = new Uint8Array(
        inflated.buffer,
        inflated.byteOffset,
        inflated.byteLength,
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new IdxFormatError(name, `corrupt gzip data: ${reason}`, {
        cause: error,
      });
    }
  }
  return parseIdx(bytes, name);
}
