import assert from "node:assert/strict";
import { Random } from "./random.ts";
import { stratifiedKFold } from "./stratified_k_fold.ts";

/** Unbalanced labels: class c has 37 + 13·c samples, in a seeded order. */
function unbalancedLabels(): Uint8Array {
  const labels: number[] = [];
  for (let c = 0; c < 10; c++) {
    for (let i = 0; i < 37 + 13 * c; i++) labels.push(c);
  }
  return new Random(1).shuffle(Uint8Array.from(labels));
}

Deno.test("stratifiedKFold() test parts are disjoint and cover every index", () => {
  const labels = unbalancedLabels();
  const folds = stratifiedKFold(labels, { seed: 71 });
  assert.equal(folds.length, 7);
  const seen = new Uint8Array(labels.length);
  for (const { train, test } of folds) {
    assert.equal(train.length + test.length, labels.length);
    for (const index of test) seen[index]!++;
    // Train is exactly the complement of test, both ascending.
    const inTest = new Set(test);
    assert.deepEqual(
      train,
      Uint32Array.from(labels.keys()).filter((i) => !inTest.has(i)),
    );
    assert.ok(test.every((v, i) => i === 0 || test[i - 1]! < v));
  }
  assert.ok(seen.every((times) => times === 1));
});

Deno.test("stratifiedKFold() keeps class proportions within ±1 per fold", () => {
  const labels = unbalancedLabels();
  for (const k of [2, 5, 7]) {
    const folds = stratifiedKFold(labels, { k, seed: 3 });
    const sizes = folds.map((f) => f.test.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `k=${k}: ${sizes}`);
    for (let c = 0; c < 10; c++) {
      const total = 37 + 13 * c;
      for (const { test } of folds) {
        const count = test.filter((i) => labels[i] === c).length;
        assert.ok(
          count === Math.floor(total / k) || count === Math.ceil(total / k),
          `k=${k}, class ${c}: ${count} of ${total}`,
        );
      }
    }
  }
});

Deno.test("stratifiedKFold() is deterministic by seed", () => {
  const labels = unbalancedLabels();
  const a = stratifiedKFold(labels, { seed: 8 });
  assert.deepEqual(a, stratifiedKFold(labels, { seed: 8 }));
  assert.notDeepEqual(a, stratifiedKFold(labels, { seed: 9 }));
});

Deno.test("stratifiedKFold() throws RangeError for a bad k or seed", () => {
  const labels = Uint8Array.from([0, 1, 0, 1]);
  for (const k of [1, 5, 2.5]) {
    assert.throws(() => stratifiedKFold(labels, { k, seed: 0 }), {
      name: "RangeError",
      message:
        `Cannot split into folds: k must be an integer in [2, 4], found ${k}`,
    });
  }
  assert.throws(() => stratifiedKFold(labels, { k: 2, seed: -1 }), RangeError);
});
