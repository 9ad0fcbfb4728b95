import assert from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { encodeIdx, IdxFormatError } from "../../models/mod.ts";
import { readIdxFile } from "./idx_file.ts";

const LABELS = encodeIdx({
  kind: "labels",
  dims: [4],
  data: Uint8Array.from([3, 1, 4, 1]),
});

async function withTempDir(
  body: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "idx_file_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function assertRefused(path: string, state: RegExp): Promise<void> {
  const name = path.split("/").at(-1)!;
  await assert.rejects(readIdxFile(path), (error: unknown) => {
    assert.ok(error instanceof IdxFormatError, String(error));
    assert.equal(error.fileName, name);
    assert.ok(
      error.message.startsWith(`Cannot read IDX file "${name}": `),
      error.message,
    );
    assert.match(error.message, state);
    return true;
  });
}

Deno.test("readIdxFile() reads raw, .gz and unsuffixed gzip files alike", async () => {
  await withTempDir(async (dir) => {
    const paths = [
      [join(dir, "labels"), LABELS],
      [join(dir, "labels.gz"), gzipSync(LABELS)],
      [join(dir, "labels-gzipped"), gzipSync(LABELS)],
    ] as const;
    for (const [path, bytes] of paths) {
      await Deno.writeFile(path, bytes);
      const idx = await readIdxFile(path);
      assert.equal(idx.kind, "labels");
      assert.equal(idx.name, path.split("/").at(-1));
      assert.deepEqual(idx.dims, [4]);
      assert.deepEqual(Array.from(idx.data), [3, 1, 4, 1]);
    }
  });
});

Deno.test("readIdxFile() refuses corrupt gzip naming the file", async () => {
  await withTempDir(async (dir) => {
    const gz = gzipSync(LABELS);
    // Truncated stream: the deflate data and trailer are cut off.
    await Deno.writeFile(join(dir, "cut.gz"), gz.subarray(0, gz.length - 6));
    await assertRefused(join(dir, "cut.gz"), /corrupt gzip data/);
    // Flipped bytes in the deflate data and the CRC.
    const flipped = Uint8Array.from(gz);
    for (let i = 10; i < flipped.length; i++) flipped[i]! ^= 0x5a;
    await Deno.writeFile(join(dir, "flipped.gz"), flipped);
    await assertRefused(join(dir, "flipped.gz"), /corrupt gzip data/);
    // A .gz name on bytes that are not gzip at all.
    await Deno.writeFile(join(dir, "plain.gz"), LABELS);
    await assertRefused(join(dir, "plain.gz"), /corrupt gzip data/);
  });
});

Deno.test("readIdxFile() refuses truncated and over-long content naming the file", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(join(dir, "short"), LABELS.subarray(0, 10));
    await assertRefused(join(dir, "short"), /: expected 12 bytes, found 10$/);
    const long = new Uint8Array(LABELS.length + 3);
    long.set(LABELS);
    await Deno.writeFile(join(dir, "long.gz"), gzipSync(long));
    await assertRefused(join(dir, "long.gz"), /: expected 12 bytes, found 15$/);
  });
});

Deno.test("readIdxFile() rejects with NotFound for a missing file", async () => {
  await assert.rejects(
    readIdxFile("/nonexistent/t10k-labels-idx1-ubyte.gz"),
    Deno.errors.NotFound,
  );
});
