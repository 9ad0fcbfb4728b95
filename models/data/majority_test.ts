import assert from "node:assert/strict";
import {
  blockOf,
  cyclicLabels,
  distinctImages,
  findImage,
} from "./_testing.ts";
import { makeMajoritySequences, makeMajoritySet } from "./majority.ts";
import { toSequences } from "./sequences.ts";
import { subset } from "./subset.ts";

Deno.test("makeMajoritySet() labels the majority class and marks its blocks", () => {
  const set = distinctImages(cyclicLabels(40, 4), 3, 2);
  const maj = makeMajoritySet(set, 17);
  assert.equal(maj.count, 40);
  assert.equal(maj.height, 3);
  assert.equal(maj.width, 6);
  assert.equal(maj.images.length, 40 * 3 * 6);
  assert.equal(maj.marks.length, 120);
  assert.deepEqual(maj.labels, set.labels);
  for (let n = 0; n < maj.count; n++) {
    const label = maj.labels[n]!;
    const sources = [0, 1, 2].map((k) => findImage(set, blockOf(maj, n, k)));
    // Every block is an item of the given set.
    assert.ok(sources.every((s) => s >= 0), `composite ${n}: unknown block`);
    // The mark is 1 exactly for blocks holding the label's class.
    const classes = sources.map((s) => set.labels[s]!);
    assert.deepEqual(
      Array.from(maj.marks.subarray(3 * n, 3 * n + 3)),
      classes.map((c) => (c === label ? 1 : 0)),
    );
    assert.equal(classes.filter((c) => c === label).length, 2);
    // Composite n is built from sample n.
    assert.ok(sources.includes(n), `composite ${n} lacks its own sample`);
  }
});

Deno.test("makeMajoritySet() is deterministic by seed", () => {
  const set = distinctImages(cyclicLabels(30, 3), 2, 2);
  const a = makeMajoritySet(set, 5);
  const b = makeMajoritySet(set, 5);
  const c = makeMajoritySet(set, 6);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.images, c.images);
});

Deno.test("makeMajoritySet() draws partners only from the given set", () => {
  const pool = distinctImages(cyclicLabels(60, 3), 2, 3);
  const chosen = Uint32Array.from({ length: 30 }, (_, i) => 2 * i);
  const part = subset(pool, chosen);
  const maj = makeMajoritySet(part, 1);
  for (let n = 0; n < maj.count; n++) {
    for (let k = 0; k < 3; k++) {
      const source = findImage(pool, blockOf(maj, n, k));
      assert.ok(
        source >= 0 && source % 2 === 0,
        `block from outside: ${source}`,
      );
    }
  }
});

Deno.test("makeMajoritySet() draws positions and partners uniformly", () => {
  // 1×1 images whose single pixel identifies the sample. Class 0 holds 200
  // samples and classes 1, 2, 3 hold 600, 300 and 300: a class-0 sample's
  // distractor should come from class 1 half of the time.
  const labels = [
    ...new Array<number>(200).fill(0),
    ...new Array<number>(600).fill(1),
    ...new Array<number>(300).fill(2),
    ...new Array<number>(300).fill(3),
  ];
  const set = distinctImages(labels, 1, 1);
  const index = new Map<number, number>();
  set.images.forEach((value, n) => index.set(value, n));
  const maj = makeMajoritySet(set, 99);
  const distractorAt = [0, 0, 0];
  const distractorClass = [0, 0, 0, 0];
  let selfAsPartner = 0;
  for (let n = 0; n < maj.count; n++) {
    const sources = [0, 1, 2].map((k) => index.get(maj.images[3 * n + k]!)!);
    const k = [0, 1, 2].find((b) => maj.marks[3 * n + b] === 0)!;
    distractorAt[k]!++;
    if (labels[n] === 0) distractorClass[labels[sources[k]!]!]!++;
    if (sources.filter((s) => s === n).length === 2) selfAsPartner++;
  }
  // Position: Binomial(1400, 1/3), sd ≈ 17.6; ±90 is over 5 sd.
  for (const count of distractorAt) assert.ok(Math.abs(count - 1400 / 3) < 90);
  // Class-0 distractors: 200 draws, class 1 with p = 1/2 (sd ≈ 7.1).
  assert.equal(distractorClass[0], 0);
  assert.ok(Math.abs(distractorClass[1]! - 100) < 36, `${distractorClass}`);
  // Drawn with replacement, a sample is its own partner about
  // 200/200 + 600/600 + 300/300 + 300/300 = 4 times in expectation.
  assert.ok(selfAsPartner <= 15, `self as partner ${selfAsPartner} times`);
});

Deno.test("makeMajoritySet() returns an empty set for an empty input", () => {
  const maj = makeMajoritySet(distinctImages([], 28, 28), 0);
  assert.equal(maj.count, 0);
  assert.equal(maj.width, 84);
  assert.equal(maj.images.length, 0);
  assert.equal(maj.marks.length, 0);
});

Deno.test("makeMajoritySet() throws RangeError for a single-class set", () => {
  assert.throws(() => makeMajoritySet(distinctImages([4, 4, 4], 2, 2), 0), {
    name: "RangeError",
    message:
      "Cannot make majority set: needs items of at least 2 classes, found 1",
  });
  assert.throws(
    () => makeMajoritySet(distinctImages([1, 2], 2, 2), -1),
    RangeError,
  );
});

Deno.test("makeMajoritySequences() equals toSequences() of makeMajoritySet()", () => {
  const set = distinctImages(cyclicLabels(25, 3), 3, 4);
  const composites = makeMajoritySet(set, 8);
  // Width 3·4 = 12: with T = 2 (c = 6) a step spans two items.
  for (const steps of [1, 2, 3, 4, 6, 12]) {
    const sequences = makeMajoritySequences(set, 8, steps);
    assert.deepEqual(sequences.x, toSequences(composites, steps), `T=${steps}`);
    assert.deepEqual(sequences.marks, composites.marks);
    assert.deepEqual(sequences.labels, composites.labels);
    assert.equal(sequences.count, 25);
  }
  assert.throws(() => makeMajoritySequences(set, 8, 5), {
    name: "RangeError",
    message: "Cannot cut images into steps: 5 steps do not divide width 12",
  });
});
