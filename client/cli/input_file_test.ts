import assert from "node:assert/strict";
import { InputFileError, parseInputFile } from "./input_file.ts";

Deno.test("parseInputFile() reads a flat array with a shape and a label", () => {
  const s = parseInputFile(
    JSON.stringify({ shape: [2, 3], data: [-1, 0, 1, 0.5, -0.5, 0], label: 7 }),
    "a.json",
  );
  assert.deepEqual(s.shape, [2, 3]);
  assert.deepEqual([...s.data], [-1, 0, 1, 0.5, -0.5, 0]);
  assert.equal(s.label, 7);
});

Deno.test("parseInputFile() reads nested arrays and infers the shape", () => {
  const s = parseInputFile("[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]", "b.json");
  assert.deepEqual(s.shape, [2, 2, 2]);
  assert.deepEqual([...s.data], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(s.label, undefined);
  const o = parseInputFile('{"data": [[1, 2, 3]], "label": 0}', "c.json");
  assert.deepEqual(o.shape, [1, 3]);
  assert.equal(o.label, 0);
});

Deno.test("parseInputFile() throws InputFileError for unusable files", async (t) => {
  const cases: Array<[string, RegExp]> = [
    ["{", /^Cannot read input "x.json": /],
    ['"text"', /expected an object with data or a nested array/],
    ['{"data": 3}', /"data" must be an array/],
    ['{"data": [[1, 2], [3]]}', /the arrays are ragged/],
    ['{"data": [[1, 2], 3]}', /the arrays are ragged/],
    ['{"data": []}', /an array is empty/],
    [
      '{"data": [1, 2, 3]}',
      /expected \[rows, width\] or \[T, rows, columns\], found shape \[3\]/,
    ],
    [
      '{"shape": [2, 2], "data": [1, 2, 3]}',
      /shape \[2,2\] holds 4 values, found 3/,
    ],
    [
      '{"shape": [2, -2], "data": [1, 2, 3, 4]}',
      /"shape" must be a list of positive integers/,
    ],
    ['{"data": [[1, "a"]]}', /value 1 is not a finite number/],
    ['{"data": [[1, null]]}', /value 1 is not a finite number/],
    [
      '{"data": [[1, 2]], "label": 10}',
      /"label" must be an integer from 0 to 9, found 10/,
    ],
    [
      '{"data": [[1, 2]], "label": 1.5}',
      /"label" must be an integer from 0 to 9/,
    ],
  ];
  for (const [text, message] of cases) {
    await t.step(text, () => {
      assert.throws(
        () => parseInputFile(text, "x.json"),
        (e) => e instanceof InputFileError && message.test(e.message),
      );
    });
  }
});
