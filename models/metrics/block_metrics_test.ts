import assert from "node:assert/strict";
import { blockMetrics, cosineSimilarity } from "./block_metrics.ts";
import { blockShares, stepRelevance } from "./block_relevance.ts";

Deno.test("cosineSimilarity() reproduces the thesis notebook's toy values", () => {
  const m = [1, 1, 0];
  const cases: [number[], number][] = [
    [[0.5, 0.5, 0], 1.0],
    [[0.9, 0.1, 0], 0.781],
    [[0.5, 0.3, 0.2], 0.918],
    [[0.1, 0.1, 0.8], 0.174],
    [[0, 0, 1], 0],
  ];
  for (const [v, want] of cases) {
    assert.ok(Math.abs(cosineSimilarity(m, v) - want) < 5e-4, `${v}`);
  }
  assert.equal(cosineSimilarity(m, [0, 0, 0]), 0);
});

Deno.test("blockShares() normalises per sample and sums steps per block", () => {
  const steps = new Float64Array([
    1,
    1,
    2,
    0,
    0,
    4,
    /* second sample */ -1,
    -1,
    0,
    0,
    0,
    0,
  ]);
  const shares = blockShares(steps, 2, 6, 3);
  assert.deepEqual(Array.from(shares.subarray(0, 3)), [0.25, 0.25, 0.5]);
  // A negative total flips the signs back to positive shares (thesis-code §5.1).
  assert.ok(Math.abs(shares[3] - 1) < 1e-12);
  assert.throws(() => blockShares(steps, 2, 6, 4), RangeError);
});

Deno.test("blockMetrics() scores relevance placed only in the marked blocks as perfect", () => {
  // T = 6 steps of 2×1 pixels, 3 blocks of 2 steps; marks = [1, 0, 1].
  const rel = new Float32Array([1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2]);
  const marks = new Uint8Array([1, 0, 1]);
  const v = blockMetrics(rel, marks, 1, { steps: 6, rows: 2, columns: 1 });
  assert.ok(
    Math.abs(
      v.cosineSimilarity[0] - cosineSimilarity([1, 0, 1], [1 / 3, 0, 2 / 3]),
    ) < 1e-12,
  );
  assert.equal(v.correctBlockShare[0], 1);
  assert.equal(v.relevanceMassAccuracy[0], 1);
  assert.equal(v.relevanceRankAccuracy[0], 1);
});

Deno.test("blockMetrics() clips negative relevance only when asked", () => {
  // Block 1 (unmarked) holds negative relevance.
  const rel = new Float32Array([1, 1, 1, 1, -3, -3, -3, -3, 1, 1, 1, 1]);
  const marks = new Uint8Array([1, 0, 1]);
  const keep = blockMetrics(rel, marks, 1, {
    steps: 6,
    rows: 2,
    columns: 1,
    negative: "keep",
  });
  const clip = blockMetrics(rel, marks, 1, {
    steps: 6,
    rows: 2,
    columns: 1,
    negative: "clip",
  });
  assert.ok(Math.abs(clip.cosineSimilarity[0] - 1) < 1e-12);
  assert.ok(keep.cosineSimilarity[0] < 0.9);
  // Top-8 pixels are the 8 positive ones, all inside the mask.
  assert.equal(keep.relevanceRankAccuracy[0], 1);
  assert.equal(clip.relevanceMassAccuracy[0], 1);
});

Deno.test("blockMetrics() ranks relevance outside the mask as a miss", () => {
  const rel = new Float32Array([0, 0, 0, 0, 5, 5, 5, 5, 1, 1, 1, 1]);
  const marks = new Uint8Array([1, 0, 1]);
  const v = blockMetrics(rel, marks, 1, { steps: 6, rows: 2, columns: 1 });
  assert.equal(v.relevanceRankAccuracy[0], 0.5);
  assert.ok(Math.abs(v.relevanceMassAccuracy[0] - 4 / 24) < 1e-12);
  assert.ok(Math.abs(v.correctBlockShare[0] - 4 / 24) < 1e-12);
});

Deno.test("stepRelevance() rejects a wrongly sized relevance array", () => {
  assert.throws(
    () => stepRelevance(new Float32Array(5), 1, { steps: 2, stepSize: 2 }),
    /expected 4 values, found 5/,
  );
});
