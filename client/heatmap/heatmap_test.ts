import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { assembleSteps, bwr, renderHeatmap } from "./heatmap.ts";
import { crc32, encodePng } from "./png.ts";

function readPng(
  png: Uint8Array,
): { width: number; height: number; rgb: Uint8Array } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  assert.deepEqual(Array.from(png.subarray(0, 8)), [
    137,
    80,
    78,
    71,
    13,
    10,
    26,
    10,
  ]);
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  while (at < png.length) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + len);
    assert.equal(
      view.getUint32(at + 8 + len),
      crc32(png.subarray(at + 4, at + 8 + len)),
      `${type} crc`,
    );
    if (type === "IHDR") {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
    }
    if (type === "IDAT") idat.push(data);
    at += 12 + len;
  }
  const raw = new Uint8Array(inflateSync(Buffer.concat(idat)));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (width * 3 + 1)], 0);
    rgb.set(
      raw.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1)),
      y * width * 3,
    );
  }
  return { width, height, rgb };
}

Deno.test("crc32() matches the standard check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});

Deno.test("encodePng() writes a decodable RGB image", () => {
  const rgb = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
  const back = readPng(encodePng(rgb, 2, 2));
  assert.equal(back.width, 2);
  assert.equal(back.height, 2);
  assert.deepEqual(back.rgb, rgb);
  assert.throws(() => encodePng(rgb, 3, 2), RangeError);
});

Deno.test("bwr() maps sign to red and blue with white at zero", () => {
  assert.deepEqual(bwr(0), [255, 255, 255]);
  assert.deepEqual(bwr(1), [255, 0, 0]);
  assert.deepEqual(bwr(-1), [0, 0, 255]);
  assert.deepEqual(bwr(5), [255, 0, 0]);
});

Deno.test("assembleSteps() places step t at columns [t·c, (t+1)·c)", () => {
  // T = 2 steps of 2 rows × 1 column: step values [a b] and [c d].
  const out = assembleSteps(new Float32Array([1, 2, 3, 4]), 2, 2, 1);
  assert.deepEqual(Array.from(out), [1, 3, 2, 4]);
});

Deno.test("renderHeatmap() normalises by max |R| and upscales", () => {
  const png = renderHeatmap(new Float32Array([2, -1, 0, -2]), 2, 2, {
    scale: 2,
  });
  const { width, height, rgb } = readPng(png);
  assert.equal(width, 4);
  assert.equal(height, 4);
  assert.deepEqual(Array.from(rgb.subarray(0, 3)), [255, 0, 0]);
  assert.deepEqual(Array.from(rgb.subarray(2 * 3, 3 * 3)), [128, 128, 255]);
  assert.deepEqual(Array.from(rgb.subarray((3 * 4 + 3) * 3, (3 * 4 + 4) * 3)), [
    0,
    0,
    255,
  ]);
  const pos = readPng(
    renderHeatmap(new Float32Array([2, -1, 0, -2]), 2, 2, {
      scale: 1,
      positiveOnly: true,
    }),
  );
  assert.deepEqual(Array.from(pos.rgb.subarray(3, 6)), [255, 255, 255]);
});
