import assert from "node:assert/strict";
import { Raster, textWidth, toPng, toSvg } from "./drawing.ts";

Deno.test("Raster draws rects, lines and 5×7 text into RGB pixels", () => {
  const r = new Raster(20, 10);
  r.fillRect(0, 0, 2, 2, [255, 0, 0]);
  assert.deepEqual([...r.rgb.subarray(0, 3)], [255, 0, 0]);
  assert.deepEqual(
    [...r.rgb.subarray(6, 9)],
    [255, 255, 255],
    "x = 2 is outside",
  );
  r.line(0, 9, 19, 9, [0, 0, 255]);
  assert.deepEqual([...r.rgb.subarray((9 * 20 + 19) * 3, (9 * 20 + 20) * 3)], [
    0,
    0,
    255,
  ]);
  const t = new Raster(6, 7);
  t.text(0, 0, "1");
  // "1" has its full-height stem in column 2.
  for (let y = 0; y < 7; y++) {
    assert.equal(t.rgb[(y * 6 + 2) * 3], 0, `row ${y} of the stem is black`);
  }
  assert.equal(textWidth("abc", 2), 36);
});

Deno.test("toSvg() and toPng() render the same drawing", () => {
  const d = {
    width: 30,
    height: 20,
    shapes: [
      {
        kind: "rect" as const,
        x: 1,
        y: 1,
        w: 5,
        h: 5,
        fill: [1, 2, 3] as const,
      },
      { kind: "text" as const, x: 8, y: 2, text: "a<b" },
    ],
  };
  const svg = toSvg(d);
  assert.match(
    svg,
    /<rect x="1" y="1" width="5" height="5" fill="rgb\(1,2,3\)"\/>/,
  );
  assert.match(svg, /a&lt;b/);
  const png = toPng(d);
  assert.deepEqual(
    [...png.subarray(1, 4)],
    [0x50, 0x4e, 0x47],
    "PNG signature",
  );
  assert.equal(new DataView(png.buffer, png.byteOffset).getUint32(16), 30);
});
