import assert from "node:assert/strict";
import { normalQuantile, studentTQuantile, summarize } from "./statistics.ts";

Deno.test("studentTQuantile() matches tabulated 97.5% quantiles", () => {
  const table: [number, number][] = [
    [1, 12.706],
    [2, 4.303],
    [3, 3.182],
    [4, 2.776],
    [6, 2.447],
    [9, 2.262],
    [29, 2.045],
    [120, 1.980],
  ];
  for (const [df, want] of table) {
    const got = studentTQuantile(0.975, df);
    assert.ok(
      Math.abs(got - want) / want < 2e-3,
      `df=${df}: ${got} vs ${want}`,
    );
  }
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-6);
  assert.throws(() => normalQuantile(1), RangeError);
});

Deno.test("summarize() gives the t interval of the mean", () => {
  const s = summarize([1, 2, 3, 4, 5, 6, 7]);
  assert.equal(s.mean, 4);
  assert.ok(Math.abs(s.std - Math.sqrt(28 / 6)) < 1e-12);
  const half = 2.447 * s.std / Math.sqrt(7);
  assert.ok(Math.abs(s.ciHigh - (4 + half)) < 5e-3);
  assert.deepEqual(summarize([3]), {
    n: 1,
    mean: 3,
    std: 0,
    ciLow: 3,
    ciHigh: 3,
  });
  assert.ok(Number.isNaN(summarize([]).mean));
});
