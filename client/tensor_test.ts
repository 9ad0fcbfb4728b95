import assert from "node:assert/strict";
import { decodeTensor, encodeTensor } from "./tensor.ts";

Deno.test("encodeTensor() writes little-endian float32 bytes in row-major order", () => {
  const tensor = encodeTensor([1, -2, 0.5, 3], [2, 2]);
  assert.deepEqual(tensor.shape, [2, 2]);
  assert.equal(tensor.data.length, 16);
  const view = new DataView(tensor.data.buffer, tensor.data.byteOffset, 16);
  assert.deepEqual(
    [0, 4, 8, 12].map((o) => view.getFloat32(o, true)),
    [1, -2, 0.5, 3],
  );
});

Deno.test("decodeTensor() inverts encodeTensor(), also from an unaligned buffer", () => {
  const values = Float32Array.from({ length: 28 * 7 }, (_, i) => Math.sin(i));
  const tensor = encodeTensor(values, [28, 7]);
  const padded = Buffer.alloc(tensor.data.length + 1);
  padded.set(tensor.data, 1); // byteOffset 1: not a multiple of 4
  const decoded = decodeTensor({
    shape: tensor.shape,
    data: padded.subarray(1),
  });
  assert.deepEqual(decoded.shape, [28, 7]);
  assert.deepEqual(decoded.data, values);
});

Deno.test("encodeTensor() copies: later changes to the source do not reach the tensor", () => {
  const values = new Float32Array([1, 2]);
  const tensor = encodeTensor(values, [2]);
  values[0] = 9;
  assert.deepEqual([...decodeTensor(tensor).data], [1, 2]);
});

Deno.test("a scalar and an empty tensor round-trip", () => {
  assert.deepEqual([...decodeTensor(encodeTensor([7], [])).data], [7]);
  const empty = decodeTensor(encodeTensor([], [0, 28]));
  assert.deepEqual(empty.shape, [0, 28]);
  assert.equal(empty.data.length, 0);
});

Deno.test("encodeTensor() and decodeTensor() refuse shapes that do not fit the data", () => {
  assert.throws(
    () => encodeTensor([1, 2, 3], [2, 2]),
    {
      name: "RangeError",
      message: "Cannot encode tensor: shape [2,2] holds 4 values, found 3",
    },
  );
  assert.throws(
    () => encodeTensor([1], [1.5]),
    {
      name: "RangeError",
      message:
        "Cannot encode tensor: shape[0] must be an integer from 0 to 2^32 - 1, found 1.5",
    },
  );
  assert.throws(
    () => decodeTensor({ shape: [2], data: Buffer.alloc(7) }),
    {
      name: "RangeError",
      message: "Cannot decode tensor: shape [2] needs 8 bytes, found 7",
    },
  );
});

Deno.test("encodeTensor() with copy: false views a Float32Array's memory", () => {
  const values = Float32Array.of(9, 1, -2, 0.5);
  const tensor = encodeTensor(values.subarray(1), [3], { copy: false });
  assert.equal(tensor.data.buffer, values.buffer);
  assert.equal(tensor.data.byteOffset, 4);
  assert.deepEqual(decodeTensor(tensor).data, Float32Array.of(1, -2, 0.5));
  const fromArray = encodeTensor([1, 2], [2], { copy: false });
  assert.deepEqual(decodeTensor(fromArray).data, Float32Array.of(1, 2));
});
