import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { decodeTensor, encodeTensor } from "./tensor.ts";

Deno.test("encodeTensor() shares a Float32Array's memory and copies other inputs", () => {
  const values = Float32Array.of(1, -2.5, 3, 0.125, 7, 8);
  const middle = values.subarray(1, 5);
  const tensor = encodeTensor(middle, [2, 2]);
  assert.equal(tensor.data.buffer, values.buffer);
  assert.equal(tensor.data.byteOffset, 4);
  assert.equal(tensor.data.byteLength, 16);
  assert.deepEqual(
    [...new Float32Array(Uint8Array.from(tensor.data).buffer)],
    [-2.5, 3, 0.125, 7],
  );
  const wide = Float64Array.of(1, 2);
  const converted = encodeTensor(wide, [2]);
  assert.notEqual(converted.data.buffer, wide.buffer);
  assert.deepEqual(
    [...new Float32Array(Uint8Array.from(converted.data).buffer)],
    [1, 2],
  );
});

Deno.test("decodeTensor() views aligned bytes and copies unaligned ones", () => {
  const source = Float32Array.of(0, 1.5, -2, 4, 9);
  const aligned = Buffer.from(source.buffer, 4, 12);
  const view = decodeTensor({ shape: [3], data: aligned }, "t").values;
  assert.equal(view.buffer, source.buffer);
  assert.deepEqual([...view], [1.5, -2, 4]);

  const shifted = Buffer.alloc(13);
  shifted.set(new Uint8Array(source.buffer, 4, 12), 1);
  const copy = decodeTensor({ shape: [3], data: shifted.subarray(1) }, "t")
    .values;
  assert.notEqual(copy.buffer, shifted.buffer);
  assert.equal(copy.byteOffset % 4, 0);
  assert.deepEqual([...copy], [1.5, -2, 4]);
});
