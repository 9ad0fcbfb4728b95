import assert from "node:assert/strict";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
import { CheckpointDataLossError } from "./errors.ts";

const TENSORS = {
  "b.kernel": { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, -6.5]) },
  "a.bias": { shape: [2], data: new Float32Array([0.25, -1e-8]) },
  "c.scalar": { shape: [], data: new Float32Array([42]) },
};

function header(
  bytes: Uint8Array,
): { length: number; json: Record<string, unknown> } {
  const length = Number(
    new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true),
  );
  return {
    length,
    json: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))),
  };
}

Deno.test("encodeSafetensors() writes the documented layout", () => {
  const bytes = encodeSafetensors(TENSORS, { format: "test" });
  const { length, json } = header(bytes);
  assert.equal((8 + length) % 8, 0, "data starts 8-byte aligned");
  assert.deepEqual(Object.keys(json), [
    "__metadata__",
    "a.bias",
    "b.kernel",
    "c.scalar",
  ]);
  assert.deepEqual(json.__metadata__, { format: "test" });
  assert.deepEqual(json["a.bias"], {
    dtype: "F32",
    shape: [2],
    data_offsets: [0, 8],
  });
  assert.deepEqual(json["b.kernel"], {
    dtype: "F32",
    shape: [2, 3],
    data_offsets: [8, 32],
  });
  assert.deepEqual(json["c.scalar"], {
    dtype: "F32",
    shape: [],
    data_offsets: [32, 36],
  });
  assert.equal(bytes.length, 8 + length + 36);
  const view = new DataView(bytes.buffer, bytes.byteOffset + 8 + length);
  assert.equal(view.getFloat32(8 + 5 * 4, true), -6.5);
  assert.equal(view.getFloat32(32, true), 42);
});

Deno.test("decodeSafetensors() round-trips tensors and metadata bit-identically", () => {
  const decoded = decodeSafetensors(encodeSafetensors(TENSORS, { a: "1" }));
  assert.deepEqual(decoded.metadata, { a: "1" });
  for (const [name, t] of Object.entries(TENSORS)) {
    assert.deepEqual(decoded.tensors[name]!.shape, t.shape);
    assert.deepEqual(decoded.tensors[name]!.data, t.data);
  }
  assert.deepEqual(decodeSafetensors(encodeSafetensors({})).tensors, {});
});

Deno.test("decodeSafetensors() reads a file written by another implementation", () => {
  // Unsorted keys, no padding, no metadata: all allowed by the format.
  const json =
    '{"w":{"dtype":"F32","shape":[1,2],"data_offsets":[4,12]},"v":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
  const head = new TextEncoder().encode(json);
  const bytes = new Uint8Array(8 + head.length + 12);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(head.length), true);
  bytes.set(head, 8);
  const data = new DataView(bytes.buffer, 8 + head.length);
  [7, 8, 9].forEach((v, i) => data.setFloat32(4 * i, v, true));
  const { tensors } = decodeSafetensors(bytes);
  assert.deepEqual(Array.from(tensors.v!.data), [7]);
  assert.deepEqual(Array.from(tensors.w!.data), [8, 9]);
});

Deno.test("decodeSafetensors() refuses corrupt files with CheckpointDataLossError", async (t) => {
  const good = encodeSafetensors(TENSORS);
  const { length } = header(good);
  const withHeader = (json: string, data = 36) => {
    const head = new TextEncoder().encode(json);
    const out = new Uint8Array(8 + head.length + data);
    new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
    out.set(head, 8);
    return out;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty", new Uint8Array(0), /fewer than the 8-byte header length/],
    [
      "truncated data",
      good.subarray(0, good.length - 3),
      /cover 36 data bytes but the file holds 33/,
    ],
    [
      "truncated header",
      good.subarray(0, 20),
      /header length \d+ exceeds the 12 bytes after it/,
    ],
    [
      "trailing bytes",
      new Uint8Array([...good, 0, 0, 0, 0]),
      /cover 36 data bytes but the file holds 40/,
    ],
    [
      "huge header length",
      (() => {
        const b = good.slice();
        new DataView(b.buffer).setBigUint64(0, 2n ** 62n, true);
        return b;
      })(),
      /header length 4611686018427387904 exceeds/,
    ],
    [
      "bad JSON",
      (() => {
        const b = good.slice();
        b[8] = 0x7b + 1;
        return b;
      })(),
      /the header is not valid UTF-8 JSON/,
    ],
    [
      "F16",
      withHeader('{"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}', 4),
      /dtype "F16", only "F32" is supported/,
    ],
    [
      "shape and offsets disagree",
      withHeader('{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8),
      /spans 8 bytes, its shape \[3\] needs 12/,
    ],
    [
      "gap",
      withHeader('{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8),
      /starts at byte 4, expected 0/,
    ],
    [
      "overlap",
      withHeader(
        '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
        8,
      ),
      /starts at byte 4, expected 8/,
    ],
    [
      "negative shape",
      withHeader('{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}', 0),
      /invalid shape/,
    ],
    [
      "metadata not strings",
      withHeader('{"__metadata__":{"a":1}}', 0),
      /"__metadata__.a" is not a string/,
    ],
    [
      "header not an object",
      withHeader("[1]", 0),
      /the header is not a JSON object/,
    ],
  ];
  assert.ok(length > 0);
  for (const [name, bytes, message] of cases) {
    await t.step(name, () => {
      assert.throws(
        () => decodeSafetensors(bytes),
        (e: unknown) =>
          e instanceof CheckpointDataLossError &&
          message.test((e as Error).message),
      );
    });
  }
});

Deno.test("encodeSafetensors() throws RangeError for reserved names and mismatched data", () => {
  assert.throws(
    () =>
      encodeSafetensors({
        __metadata__: { shape: [1], data: new Float32Array(1) },
      }),
    /is reserved/,
  );
  assert.throws(
    () =>
      encodeSafetensors({ x: { shape: [2, 2], data: new Float32Array(3) } }),
    /has 3 values for shape \[2, 2\]/,
  );
});
