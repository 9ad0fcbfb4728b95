import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { DropoutSampler } from "./dropout.ts";
import { withoutLeaks } from "./_testing.ts";

const SITES = [{ id: "a", mode: "naive" as const }, {
  id: "s",
  mode: "stationary" as const,
}];

function rows(mask: Float32Array, width: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < mask.length; i += width) {
    out.push(mask.subarray(i, i + width).join(","));
  }
  return out;
}

Deno.test("DropoutSampler keeps one stationary mask across steps", () => {
  const sampler = new DropoutSampler(SITES, { keepProb: 0.5, seed: 7 });
  const first = sampler.mask("s", [4, 64], { step: 0 });
  for (let step = 1; step < 6; step++) {
    assert.deepEqual(sampler.mask("s", [4, 64], { step }), first);
  }
  // One mask per sequence: the samples of the batch differ.
  assert.equal(new Set(rows(first, 64)).size, 4);
});

Deno.test("DropoutSampler draws a new naive mask at every step", () => {
  const sampler = new DropoutSampler(SITES, { keepProb: 0.5, seed: 7 });
  const masks = Array.from(
    { length: 6 },
    (_, step) => sampler.mask("a", [4, 64], { step }).join(","),
  );
  assert.equal(new Set(masks).size, 6);
});

Deno.test("DropoutSampler draws a new naive mask at every use of one step", () => {
  const sampler = new DropoutSampler(SITES, { keepProb: 0.5, seed: 7 });
  const once = sampler.mask("a", [4, 64], { step: 2 });
  const twice = sampler.mask("a", [4, 64], { step: 2 });
  assert.notDeepEqual(once, twice);
});

Deno.test("DropoutSampler gives batched steps the masks of single steps", () => {
  for (const site of ["a", "s"]) {
    const single = new DropoutSampler(SITES, { keepProb: 0.8, seed: 3 });
    const batched = new DropoutSampler(SITES, { keepProb: 0.8, seed: 3 });
    const all = batched.mask(site, [3 * 5, 8], { steps: 3 });
    for (let step = 0; step < 3; step++) {
      assert.deepEqual(
        all.subarray(step * 40, (step + 1) * 40),
        single.mask(site, [5, 8], { step }),
      );
    }
  }
});

Deno.test("DropoutSampler keeps about keepProb of the units, scaled by 1/keepProb", () => {
  const sampler = new DropoutSampler(SITES, { keepProb: 0.8, seed: 11 });
  const mask = sampler.mask("a", [100, 200], { step: 0 });
  const kept = mask.filter((v) => v !== 0);
  assert.ok(kept.every((v) => Math.abs(v - 1 / 0.8) < 1e-6));
  assert.ok(
    Math.abs(kept.length / mask.length - 0.8) < 0.01,
    `kept ${kept.length / mask.length}`,
  );
});

Deno.test("DropoutSampler is reproducible per seed and differs between seeds", () => {
  const draw = (seed: number) =>
    new DropoutSampler(SITES, { keepProb: 0.5, seed }).mask("a", [2, 32], {
      step: 1,
    });
  assert.deepEqual(draw(5), draw(5));
  assert.notDeepEqual(draw(5), draw(6));
});

Deno.test("DropoutSampler.apply() multiplies by the mask without leaking", async () => {
  await withoutLeaks(async () => {
    const sampler = new DropoutSampler(SITES, { keepProb: 0.5, seed: 1 });
    const x = tf.fill([3, 10], 3);
    const y = sampler.apply("s", x, { step: 0 });
    const expected = sampler.mask("s", [3, 10], { step: 4 }).map((m) => 3 * m);
    assert.deepEqual(await y.data(), expected);
    tf.dispose([x, y]);
  });
});

Deno.test("DropoutSampler throws RangeError for bad keepProb, unknown sites and uneven batches", () => {
  assert.throws(
    () => new DropoutSampler(SITES, { keepProb: 0, seed: 1 }),
    /keepProb must be in \(0, 1\]: got 0/,
  );
  const sampler = new DropoutSampler(SITES, { keepProb: 0.5, seed: 1 });
  assert.throws(
    () => sampler.mask("b", [2, 2], { step: 0 }),
    /unknown site "b"/,
  );
  assert.throws(
    () => sampler.mask("a", [5, 2], { steps: 2 }),
    /5 rows do not split into 2 steps/,
  );
});
