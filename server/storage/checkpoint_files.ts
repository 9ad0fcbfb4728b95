/**
 * Checkpoint files on disk: `<dir>/<id>.safetensors` (the weights) and
 * `<dir>/<id>.json` (the manifest). Only I/O lives here; the bytes are
 * produced and verified by `models/` (`encodeCheckpoint`, `decodeCheckpoint`).
 *
 * Writes are atomic: each file is written to a temporary file in the same
 * directory, flushed with fsync, and moved into place (rename for the
 * weights, a hard link for the manifest); the manifest goes last, and readers look for the manifest first, so a half-written
 * checkpoint is never visible. A crash can leave only an orphaned weights
 * file or a `.tmp` file, never a manifest without its weights. The crash
 * tests stop a write at those in-between states through the test-only fault
 * points of `_fault_point.ts` (inert unless armed by an environment variable).
 *
 * @module
 */
import { AlreadyExistsError, DataLossError, NotFoundError } from "../errors.ts";
import { faultPoint } from "./_fault_point.ts";

/** What {@linkcode writeCheckpoint} wrote. */
export interface WrittenCheckpoint {
  /** Bytes on disk: weights plus manifest. */
  sizeBytes: number;
}

/** A checkpoint's two files. */
export interface CheckpointFiles {
  /** The safetensors bytes. */
  weights: Uint8Array;
  /** The manifest, any JSON value (written as JSON text). */
  manifest: unknown;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Checks a checkpoint id: 1–128 characters of letters, digits, `.`, `_`, `-`,
 * not starting with a punctuation mark (so it can never name a path outside
 * the directory or a hidden temporary file).
 *
 * @throws {RangeError} if the id is not allowed
 */
export function validateCheckpointId(id: string): void {
  if (typeof id !== "string" || !ID_PATTERN.test(id)) {
    throw new RangeError(
      `Cannot use checkpoint id ${
        JSON.stringify(id)
      }: expected 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
}

function paths(dir: string, id: string): { weights: string; manifest: string } {
  const base = dir.endsWith("/") ? dir : `${dir}/`;
  return { weights: `${base}${id}.safetensors`, manifest: `${base}${id}.json` };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Writes `bytes` to a new temporary file beside `target`, fsynced. */
async function writeTemporary(
  target: string,
  bytes: Uint8Array,
): Promise<string> {
  const slash = target.lastIndexOf("/");
  const path = `${target.slice(0, slash + 1)}.${
    target.slice(slash + 1)
  }.${crypto.randomUUID()}.tmp`;
  const file = await Deno.open(path, {
    write: true,
    createNew: true,
    mode: 0o644,
  });
  try {
    let written = 0;
    while (written < bytes.length) {
      written += await file.write(bytes.subarray(written));
    }
    await file.sync();
  } finally {
    file.close();
  }
  return path;
}

/** Flushes a directory's entries (the renames) to disk, where supported. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Deno.FsFile | undefined;
  try {
    handle = await Deno.open(dir, { read: true });
    await handle.sync();
  } catch {
    // Some platforms cannot open or fsync a directory; the renames still happened.
  } finally {
    handle?.close();
  }
}

/**
 * Writes a checkpoint atomically, creating `dir` if needed.
 *
 * @param dir the checkpoint directory
 * @param id the checkpoint id (see {@linkcode validateCheckpointId})
 * @param files the weights bytes and the manifest
 * @throws {RangeError} if the id is not allowed
 * @throws {AlreadyExistsError} if a checkpoint with this id exists
 * @returns the size written
 * @throws {Deno.errors.PermissionDenied} and other I/O errors as they come
 */
export async function writeCheckpoint(
  dir: string,
  id: string,
  files: CheckpointFiles,
): Promise<WrittenCheckpoint> {
  validateCheckpointId(id);
  if (!(files.weights instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot write checkpoint "${id}": weights must be a Uint8Array`,
    );
  }
  const manifestText = JSON.stringify(files.manifest, null, 2);
  if (manifestText === undefined) {
    throw new TypeError(
      `Cannot write checkpoint "${id}": the manifest is not JSON-serialisable`,
    );
  }
  await Deno.mkdir(dir, { recursive: true });
  const target = paths(dir, id);
  if (await exists(target.manifest)) {
    throw new AlreadyExistsError(
      `Cannot write checkpoint "${id}": it already exists`,
    );
  }
  const temporary: string[] = [];
  const manifestBytes = new TextEncoder().encode(`${manifestText}\n`);
  try {
    temporary.push(await writeTemporary(target.weights, files.weights));
    temporary.push(await writeTemporary(target.manifest, manifestBytes));
    await faultPoint("checkpoint-temporaries-written", id);
    await Deno.rename(temporary[0]!, target.weights);
    await syncDirectory(dir);
    await faultPoint("checkpoint-weights-renamed", id);
    try {
      // A hard link publishes the manifest atomically and, unlike rename,
      // fails instead of replacing a manifest written concurrently.
      await Deno.link(temporary[1]!, target.manifest);
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) {
        throw new AlreadyExistsError(
          `Cannot write checkpoint "${id}": it was created concurrently`,
          { cause: err },
        );
      }
      throw err;
    }
    await syncDirectory(dir);
  } finally {
    for (const path of temporary) await Deno.remove(path).catch(() => {});
  }
  return { sizeBytes: files.weights.length + manifestBytes.length };
}

/**
 * Reads a checkpoint's files. The manifest is parsed but not validated; pass
 * the result to `decodeCheckpoint` (models) to verify hash, version and shapes.
 *
 * @param dir the checkpoint directory
 * @param id the checkpoint id
 * @returns the weights bytes and the parsed manifest
 * @throws {RangeError} if the id is not allowed
 * @throws {NotFoundError} if no manifest exists for the id
 * @throws {DataLossError} if the manifest is not JSON or the weights file is missing
 */
export async function readCheckpoint(
  dir: string,
  id: string,
): Promise<CheckpointFiles> {
  validateCheckpointId(id);
  const target = paths(dir, id);
  let text: string;
  try {
    text = await Deno.readTextFile(target.manifest);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new NotFoundError(
        `Cannot read checkpoint "${id}": it does not exist`,
        { cause: err },
      );
    }
    throw err;
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (err) {
    throw new DataLossError(
      `Cannot read checkpoint "${id}": the manifest is not valid JSON`,
      { cause: err },
    );
  }
  try {
    return { weights: await Deno.readFile(target.weights), manifest };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new DataLossError(
        `Cannot read checkpoint "${id}": the weights file is missing`,
        { cause: err },
      );
    }
    throw err;
  }
}

/**
 * Removes a checkpoint's files, the manifest first so that the checkpoint
 * disappears at once; missing files are ignored.
 *
 * @param dir the checkpoint directory
 * @param id the checkpoint id
 * @returns whether any file existed
 * @throws {RangeError} if the id is not allowed
 */
export async function removeCheckpoint(
  dir: string,
  id: string,
): Promise<boolean> {
  validateCheckpointId(id);
  const target = paths(dir, id);
  let found = false;
  for (const path of [target.manifest, target.weights]) {
    try {
      await Deno.remove(path);
      found = true;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  if (found) await syncDirectory(dir);
  return found;
}

/** Sizes of a checkpoint's files; `undefined` for a missing file. */
export interface CheckpointFileSizes {
  /** Bytes of the manifest, if it exists. */
  manifest: number | undefined;
  /** Bytes of the weights, if they exist. */
  weights: number | undefined;
}

/**
 * Returns the sizes of a checkpoint's files, without reading them.
 *
 * @param dir the checkpoint directory
 * @param id the checkpoint id
 * @returns the sizes
 * @throws {RangeError} if the id is not allowed
 */
export async function statCheckpoint(
  dir: string,
  id: string,
): Promise<CheckpointFileSizes> {
  validateCheckpointId(id);
  const target = paths(dir, id);
  const size = async (path: string) => {
    try {
      return (await Deno.stat(path)).size;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    }
  };
  return {
    manifest: await size(target.manifest),
    weights: await size(target.weights),
  };
}

/** What {@linkcode scanCheckpoints} finds in a directory. */
export interface CheckpointScan {
  /** Ids with at least one checkpoint file (complete or not). */
  ids: Set<string>;
  /** Names of leftover temporary files of interrupted writes. */
  temporaries: string[];
}

/**
 * Lists the checkpoint ids and leftover temporary files of a directory;
 * other files are ignored. A missing directory is empty.
 *
 * @param dir the checkpoint directory
 * @returns the ids and temporary file names
 */
export async function scanCheckpoints(dir: string): Promise<CheckpointScan> {
  const scan: CheckpointScan = { ids: new Set(), temporaries: [] };
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile) continue;
      const name = entry.name;
      if (name.startsWith(".") && name.endsWith(".tmp")) {
        scan.temporaries.push(name);
        continue;
      }
      const match = /^(.+)\.(json|safetensors)$/.exec(name);
      if (match !== null && ID_PATTERN.test(match[1]!)) scan.ids.add(match[1]!);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return scan;
}
