import assert from "node:assert/strict";
import {
  blockOf,
  cyclicLabels,
  distinctImages,
  findImage,
} from "./_testing.ts";
import { buildProblem, type ProblemPart } from "./build_problem.ts";
import type { ImageSet } from "./image_set.ts";
import { makeMajoritySet } from "./majority.ts";
import { deriveSeed } from "./random.ts";
import { fromSequences, toSequences } from "./sequences.ts";
import { subset } from "./subset.ts";

/** 70 distinct 28×28 images of 5 classes: 49 train, 21 test. */
function sourceSets(): { train: ImageSet; test: ImageSet; pool: ImageSet } {
  const pool = distinctImages(cyclicLabels(70, 5), 28, 28);
  const train = subset(pool, Array.from({ length: 49 }, (_, i) => i));
  const test = subset(pool, Array.from({ length: 21 }, (_, i) => 49 + i));
  return { train, test, pool };
}

/** Pool indices of the items in each block of a majority part. */
function blockSources(
  part: ProblemPart,
  pool: ImageSet,
  steps: number,
): number[] {
  const images = fromSequences(part.x, {
    count: part.count,
    steps,
    height: 28,
    width: 84,
  });
  const set = {
    images,
    labels: part.labels,
    count: part.count,
    height: 28,
    width: 84,
  };
  const sources: number[] = [];
  for (let n = 0; n < part.count; n++) {
    for (let k = 0; k < 3; k++) {
      sources.push(findImage(pool, blockOf(set, n, k)));
    }
  }
  return sources;
}

Deno.test("buildProblem() cuts the standard split into sequences", () => {
  const { train, test } = sourceSets();
  const problem = buildProblem({ train, test }, {
    problem: "sequence",
    steps: 4,
    split: { kind: "standard" },
    seed: 1,
  });
  assert.equal(problem.steps, 4);
  assert.equal(problem.columns, 7);
  assert.equal(problem.height, 28);
  assert.equal(problem.features, 196);
  assert.deepEqual(problem.train.x, toSequences(train, 4));
  assert.deepEqual(problem.test.x, toSequences(test, 4));
  assert.deepEqual(problem.train.labels, train.labels);
  assert.equal(problem.train.count, 49);
  assert.equal(problem.test.count, 21);
  assert.equal(problem.train.marks, undefined);
  assert.equal(
    buildProblem({ train, test }, {
      problem: "sequence",
      split: { kind: "standard" },
      seed: 1,
    }).steps,
    7,
  );
});

Deno.test("buildProblem() composes majority samples within each standard split", () => {
  const { train, test, pool } = sourceSets();
  const problem = buildProblem({ train, test }, {
    problem: "majority",
    split: { kind: "standard" },
    seed: 5,
  });
  assert.equal(problem.steps, 12);
  assert.equal(problem.columns, 7);
  const expected = makeMajoritySet(train, deriveSeed(5, 1));
  assert.deepEqual(problem.train.x, toSequences(expected, 12));
  assert.deepEqual(problem.train.marks, expected.marks);
  assert.deepEqual(problem.train.labels, train.labels);
  assert.equal(problem.test.marks?.length, 3 * 21);
  assert.ok(
    blockSources(problem.train, pool, 12).every((s) => s >= 0 && s < 49),
  );
  assert.ok(blockSources(problem.test, pool, 12).every((s) => s >= 49));
});

Deno.test("buildProblem() folds pool train and test without partner leaks", () => {
  const { train, test, pool } = sourceSets();
  for (let fold = 0; fold < 7; fold++) {
    const problem = buildProblem({ train, test }, {
      problem: "majority",
      steps: 12,
      split: { kind: "fold", folds: 7, fold },
      seed: 71,
    });
    assert.equal(problem.test.count, 10);
    assert.equal(problem.train.count, 60);
    // Stratified: 5 classes × 14 samples, so each test part holds 2 per class.
    for (let c = 0; c < 5; c++) {
      assert.equal(problem.test.labels.filter((l) => l === c).length, 2);
    }
    const trainSources = new Set(blockSources(problem.train, pool, 12));
    const testSources = blockSources(problem.test, pool, 12);
    assert.ok(!trainSources.has(-1) && !testSources.includes(-1));
    for (const s of testSources) {
      assert.ok(!trainSources.has(s), `fold ${fold}: item ${s} on both sides`);
    }
  }
});

Deno.test("buildProblem() test parts of all folds cover the pool once", () => {
  const { train, test, pool } = sourceSets();
  const seen = new Array<number>(70).fill(0);
  for (let fold = 0; fold < 7; fold++) {
    const problem = buildProblem({ train, test }, {
      problem: "sequence",
      steps: 1,
      split: { kind: "fold", folds: 7, fold },
      seed: 71,
    });
    const set = {
      images: problem.test.x,
      labels: problem.test.labels,
      count: problem.test.count,
      height: 28,
      width: 28,
    };
    for (let n = 0; n < set.count; n++) {
      const source = findImage(
        pool,
        set.images.subarray(n * 784, (n + 1) * 784),
      );
      assert.equal(pool.labels[source], set.labels[n]);
      seen[source]!++;
    }
  }
  assert.ok(seen.every((times) => times === 1), `${seen}`);
});

Deno.test("buildProblem() is deterministic by seed", () => {
  const { train, test } = sourceSets();
  const options = {
    problem: "majority",
    split: { kind: "fold", folds: 7, fold: 3 },
    seed: 11,
  } as const;
  const a = buildProblem({ train, test }, options);
  assert.deepEqual(a, buildProblem({ train, test }, options));
  assert.notDeepEqual(
    a.train.x,
    buildProblem({ train, test }, { ...options, seed: 12 }).train.x,
  );
});

Deno.test("buildProblem() throws RangeError for invalid requests", async (t) => {
  const { train, test } = sourceSets();
  const cases = [
    [
      { problem: "majority", steps: 5, split: { kind: "standard" }, seed: 0 },
      "Cannot cut images into steps: 5 steps do not divide width 84",
    ],
    [
      { problem: "sequence", steps: 12, split: { kind: "standard" }, seed: 0 },
      "Cannot cut images into steps: 12 steps do not divide width 28",
    ],
    [
      {
        problem: "sequence",
        split: { kind: "fold", folds: 7, fold: 7 },
        seed: 0,
      },
      "Cannot build problem: fold must be an integer in [0, 7), found 7",
    ],
    [
      {
        problem: "sequence",
        split: { kind: "fold", folds: 1, fold: 0 },
        seed: 0,
      },
      "Cannot split into folds: k must be an integer in [2, 70], found 1",
    ],
    [
      { problem: "graph", split: { kind: "standard" }, seed: 0 },
      'Cannot build problem: unknown problem "graph", expected "sequence" or "majority"',
    ],
    [
      { problem: "sequence", split: { kind: "random" }, seed: 0 },
      'Cannot build problem: unknown split kind "random", expected "standard" or "fold"',
    ],
    [
      { problem: "sequence", split: { kind: "standard" }, seed: 2 ** 32 },
      "Cannot derive a seed: seed must be an integer in [0, 4294967295], found 4294967296",
    ],
  ] as const;
  for (const [options, message] of cases) {
    await t.step(message, () => {
      assert.throws(
        // deno-lint-ignore no-explicit-any
        () => buildProblem({ train, test }, options as any),
        { name: "RangeError", message },
      );
    });
  }
  await t.step("mismatched image sizes", () => {
    const small = distinctImages([0, 1], 28, 14);
    assert.throws(
      () =>
        buildProblem({ train, test: small }, {
          problem: "sequence",
          split: { kind: "standard" },
          seed: 0,
        }),
      {
        name: "RangeError",
        message:
          "Cannot build problem: train images are 28×28 but test images are 28×14",
      },
    );
  });
});
