/**
 * The results file of a campaign: append-only JSON lines, one per finished
 * unit, each written with one `write` and `fsync`ed before the unit counts
 * as done. A crash can leave at most a torn last line, which reading skips,
 * so a restarted campaign loses at most the units that were in flight.
 *
 * @module
 */
import type { UnitResult } from "./unit_result.ts";

/** An open results file. */
export interface ResultsLog extends Disposable {
  /** The finished units read at open time, by key (latest wins). */
  readonly done: ReadonlyMap<string, UnitResult>;
  /**
   * Appends one unit's result and syncs it to disk.
   * @param result the finished unit
   */
  append(result: UnitResult): Promise<void>;
}

/**
 * Reads every complete line of a results file; a torn or foreign line is
 * skipped.
 *
 * @param path the JSONL file
 * @returns the results in file order; `[]` when the file does not exist
 */
export async function readResults(path: string): Promise<UnitResult[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  const out: UnitResult[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const r = JSON.parse(line) as UnitResult;
      if (typeof r?.key === "string" && Array.isArray(r.explainers)) {
        out.push(r);
      }
    } catch {
      // A line torn by a crash mid-write: that unit was not finished.
    }
  }
  return out;
}

/**
 * Opens (creating if needed) a results file for appending.
 *
 * @param path the JSONL file
 * @param fingerprint only lines with this results fingerprint count as done
 * @returns the log; dispose it to close the file
 */
export async function openResultsLog(
  path: string,
  fingerprint: string,
): Promise<ResultsLog> {
  const done = new Map<string, UnitResult>();
  for (const r of await readResults(path)) {
    if (r.fingerprint === fingerprint) done.set(r.key, r);
  }
  const file = await Deno.open(path, {
    append: true,
    create: true,
  });
  // A torn last line must not swallow the next record.
  const { size } = await file.stat();
  let needsNewline = false;
  if (size > 0) {
    const tail = new Uint8Array(1);
    const reader = await Deno.open(path, { read: true });
    try {
      await reader.seek(size - 1, Deno.SeekMode.Start);
      await reader.read(tail);
    } finally {
      reader.close();
    }
    needsNewline = tail[0] !== 0x0a;
  }
  const encoder = new TextEncoder();
  let chain = Promise.resolve();
  return {
    done,
    append(result: UnitResult): Promise<void> {
      const line = (needsNewline ? "\n" : "") + JSON.stringify(result) + "\n";
      needsNewline = false;
      chain = chain.then(async () => {
        const bytes = encoder.encode(line);
        let written = 0;
        while (written < bytes.length) {
          written += await file.write(bytes.subarray(written));
        }
        await file.sync();
        done.set(result.key, result);
      });
      return chain;
    },
    [Symbol.dispose]() {
      file.close();
    },
  };
}
