import assert from "node:assert/strict";
import { deriveSeed, Random } from "./random.ts";

// Pinned from an independent Python replica of xoshiro128** seeded by
// SplitMix32 (written from Vigna's reference C code, big-integer arithmetic
// masked to 32 bits).
const PINNED: ReadonlyArray<readonly [number, readonly number[]]> = [
  [0, [1789933344, 44971166, 2521387044, 3848737593, 1138324114]],
  [42, [660444221, 3652823732, 77672526, 910233633, 2297337756]],
  [4294967295, [4104197751, 1825856343, 1152209388, 2427537429, 3685145430]],
];

Deno.test("Random.nextUint32() matches the reference xoshiro128** stream", async (t) => {
  for (const [seed, expected] of PINNED) {
    await t.step(`seed ${seed}`, () => {
      const random = new Random(seed);
      assert.deepEqual(expected.map(() => random.nextUint32()), expected);
    });
  }
});

Deno.test("deriveSeed() matches the reference mix and separates streams", () => {
  assert.equal(deriveSeed(0, 0), 2827629654);
  assert.equal(deriveSeed(7, 1), 591604775);
  assert.equal(deriveSeed(4294967295, 4294967295), 2247760190);
  const seen = new Set<number>();
  for (let seed = 0; seed < 20; seed++) {
    for (let stream = 0; stream < 20; stream++) {
      seen.add(deriveSeed(seed, stream));
    }
  }
  assert.equal(seen.size, 400);
});

Deno.test("Random() throws RangeError when the seed is not a uint32", () => {
  for (const seed of [-1, 1.5, 2 ** 32, Number.NaN]) {
    assert.throws(() => new Random(seed), {
      name: "RangeError",
      message:
        `Cannot seed random generator: seed must be an integer in [0, 4294967295], found ${seed}`,
    });
  }
  assert.throws(() => deriveSeed(1, -3), RangeError);
});

Deno.test("Random.int() is uniform over [0, n) and rejects bad n", () => {
  const random = new Random(3);
  const n = 6;
  const draws = 60_000;
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < draws; i++) {
    const value = random.int(n);
    assert.ok(Number.isInteger(value) && value >= 0 && value < n);
    counts[value]!++;
  }
  // Each count is Binomial(60000, 1/6): sd ≈ 91, so ±500 is over 5 sd.
  for (const count of counts) assert.ok(Math.abs(count - draws / n) < 500);
  assert.equal(random.int(1), 0);
  assert.throws(() => random.int(0), RangeError);
  assert.throws(() => random.int(2.5), RangeError);
});

Deno.test("Random.next() stays in [0, 1) with mean near 1/2", () => {
  const random = new Random(11);
  let sum = 0;
  for (let i = 0; i < 10_000; i++) {
    const value = random.next();
    assert.ok(value >= 0 && value < 1);
    sum += value;
  }
  assert.ok(Math.abs(sum / 10_000 - 0.5) < 0.02);
});

Deno.test("Random.permutation() is a seeded permutation", () => {
  const a = new Random(5).permutation(100);
  const b = new Random(5).permutation(100);
  const c = new Random(6).permutation(100);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual(
    Array.from(a).sort((x, y) => x - y),
    Array.from({ length: 100 }, (_, i) => i),
  );
});

Deno.test("Random.shuffle() draws each of the 6 orders of 3 items", () => {
  const random = new Random(9);
  const seen = new Map<string, number>();
  for (let i = 0; i < 6000; i++) {
    const key = random.shuffle([0, 1, 2]).join("");
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  assert.equal(seen.size, 6);
  for (const count of seen.values()) assert.ok(Math.abs(count - 1000) < 150);
});
