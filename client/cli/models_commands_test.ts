import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { ModelArchiveHeader } from "../mod.ts";
import {
  ArchiveFileError,
  packArchive,
  unpackArchive,
} from "./models_commands.ts";

function header(data: Uint8Array): ModelArchiveHeader {
  return {
    model: undefined,
    files: [
      { name: "manifest.json", sizeBytes: 3, sha256: "" },
      { name: "weights.safetensors", sizeBytes: data.length - 3, sha256: "" },
    ],
    totalSizeBytes: data.length,
    sha256: createHash("sha256").update(data).digest("hex"),
  };
}

Deno.test("packArchive() and unpackArchive() round-trip a header and its bytes", () => {
  const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);
  const bytes = packArchive(header(data), data);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), "RNNXARC1");
  const back = unpackArchive(bytes, "m.rnnx");
  assert.deepEqual(back.header, header(data));
  assert.deepEqual([...back.data], [...data]);
});

Deno.test("unpackArchive() throws ArchiveFileError for a foreign, truncated or altered file", async (t) => {
  const data = Uint8Array.from({ length: 100 }, (_, i) => i);
  const good = packArchive(header(data), data);
  const altered = good.slice();
  altered[altered.length - 1] ^= 1;
  const cases: Array<[string, Uint8Array, RegExp]> = [
    [
      "foreign",
      new TextEncoder().encode("PK\x03\x04 not ours"),
      /no RNNXARC1 signature/,
    ],
    ["empty", new Uint8Array(0), /no RNNXARC1 signature/],
    ["truncated header", good.subarray(0, 20), /the header is truncated/],
    [
      "truncated data",
      good.subarray(0, good.length - 1),
      /announces 100 bytes, found 99/,
    ],
    ["altered byte", altered, /SHA-256 mismatch/],
  ];
  for (const [name, bytes, message] of cases) {
    await t.step(name, () => {
      assert.throws(
        () => unpackArchive(bytes, "m.rnnx"),
        (e) =>
          e instanceof ArchiveFileError &&
          e.message.startsWith('Cannot read archive "m.rnnx": ') &&
          message.test(e.message),
      );
    });
  }
});
