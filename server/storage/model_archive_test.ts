import assert from "node:assert/strict";
import { DataLossError } from "../errors.ts";
import {
  createModelArchive,
  decodeModelArchive,
  encodeModelArchive,
  verifyModelArchive,
} from "./model_archive.ts";

const FILES = [
  { name: "manifest.json", bytes: new TextEncoder().encode('{"a":1}\n') },
  { name: "weights.safetensors", bytes: Uint8Array.from([9, 8, 7, 6, 5]) },
];

Deno.test("encodeModelArchive() and decodeModelArchive() round-trip header and payload", async () => {
  const archive = await createModelArchive(
    { modelId: "m", displayName: "n" },
    FILES,
  );
  assert.equal(archive.header.totalSizeBytes, 13);
  assert.deepEqual(archive.header.files.map((f) => [f.name, f.sizeBytes]), [
    ["manifest.json", 8],
    ["weights.safetensors", 5],
  ]);
  const bytes = encodeModelArchive(archive);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), "RNNXARC1");
  const decoded = decodeModelArchive(bytes);
  assert.deepEqual(decoded, archive);
  const files = await verifyModelArchive(decoded, archive.header.sha256);
  assert.deepEqual([...files.keys()], ["manifest.json", "weights.safetensors"]);
  assert.deepEqual(files.get("weights.safetensors"), FILES[1]!.bytes);
});

Deno.test("verifyModelArchive() throws DataLossError when a file entry lies about its bytes", async () => {
  const archive = await createModelArchive(
    { modelId: "m", displayName: "" },
    FILES,
  );
  // Sizes still add up, but the split point moves: both files fail.
  archive.header.files[0]!.sizeBytes = 7;
  archive.header.files[1]!.sizeBytes = 6;
  await assert.rejects(
    () => verifyModelArchive(archive),
    (e: unknown) =>
      e instanceof DataLossError &&
      e.message ===
        'Cannot read model archive: file "manifest.json" fails its hash check',
  );
});

Deno.test("decodeModelArchive() throws DataLossError for a malformed header", () => {
  const header = new TextEncoder().encode('{"modelId":"m"}');
  const bytes = new Uint8Array(12 + header.length);
  bytes.set(new TextEncoder().encode("RNNXARC1"));
  new DataView(bytes.buffer).setUint32(8, header.length, true);
  bytes.set(header, 12);
  assert.throws(() => decodeModelArchive(bytes), /the header lacks/);
  new DataView(bytes.buffer).setUint32(8, 1 << 30, true);
  assert.throws(() => decodeModelArchive(bytes), /exceeds the stream/);
});
