import assert from "node:assert/strict";
import { explain, predict, tensorMemory } from "../../models/mod.ts";
import {
  DataLossError,
  NotFoundError,
  OutOfRangeError,
  PreconditionError,
  ResourceExhaustedError,
  UnavailableError,
} from "../errors.ts";
import {
  CRASH_MODEL_ID,
  FULL_SPEC,
  loadHere,
  randomBatch,
  saveModel,
  type StampedEvent,
  withTempDir,
} from "./_testing.ts";
import { createComputePool } from "./pool.ts";
import { batchInputs, type StepEvent } from "./protocol.ts";
import { ComputeError } from "./wire_error.ts";

const SIZE = 12 * 28 * 7;

/**
 * Asserts `|a − e| ≤ 1e-4 · max(|e|, 1e-2 · max|expected|)` entry by entry:
 * relative above 1% of the largest magnitude, absolute below it.
 */
function assertNear(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  label: string,
): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  for (let i = 0; i < expected.length; i++) {
    const tolerance = 1e-4 * Math.max(Math.abs(expected[i]!), 1e-2 * scale);
    assert.ok(
      Math.abs(actual[i]! - expected[i]!) <= tolerance,
      `${label}[${i}]: got ${actual[i]}, expected ${expected[i]}`,
    );
  }
}
const LRP = {
  method: "lrp_alpha_beta",
  params: { alpha: 1.5, beta: 0.5 },
} as const;

Deno.test("ComputePool.run() classifies and explains exactly as the same computation in-process", async () => {
  await withTempDir(async (dir) => {
    const ref = await saveModel(dir, "tiny");
    const { x, labels } = randomBatch(5);
    const inputs = batchInputs(x, 5, labels);
    using pool = createComputePool({ workers: 1 });
    const classified = await pool.run({ kind: "classify", model: ref, inputs });
    const events: StepEvent[] = [];
    let resultAfterEvents = false;
    const explained = await pool.run(
      { kind: "explain", model: ref, inputs, ...LRP },
      { onEvent: (e) => events.push(e) },
    ).then((r) => {
      resultAfterEvents = events.length === 12;
      return r;
    });
    const batch = await pool.run({
      kind: "explainBatch",
      model: ref,
      inputs,
      ...LRP,
    }, {
      onEvent: () => assert.fail("explainBatch posted an event"),
    });

    const before = tensorMemory().numTensors;
    const model = await loadHere(ref);
    try {
      const local = await predict(model, x, 5);
      assert.deepEqual(classified.logits, local.logits);
      assert.deepEqual(classified.probabilities, local.probabilities);
      assert.deepEqual(classified.predicted, local.predicted);
      assert.deepEqual(classified.labels, [...labels]);
      const expected = await explain(
        model,
        { x, count: 5, labels },
        LRP.method,
        {
          params: LRP.params,
        },
      );
      // The streamed task runs the step-by-step engine, explain() without
      // onStep the fused batch loop: equal up to float32 rounding.
      assertNear(explained.relevance, expected.relevance, "relevance");
      assert.equal(explained.summaries.length, expected.summaries.length);
      explained.summaries.forEach((summary, i) => {
        const want = expected.summaries[i]!;
        assert.equal(summary.predictedClass, want.predictedClass);
        assert.equal(summary.targetClass, want.targetClass);
        // Relevance sums within 1e-4 of the start relevance (the residual is
        // rounding-sized, so only an absolute bound makes sense for it).
        const scale = Math.max(Math.abs(want.startRelevance), 1e-6);
        for (
          const key of [
            "targetLogit",
            "startRelevance",
            "inputRelevance",
            "absorbedRelevance",
            "initialStateRelevance",
            "residual",
          ] as const
        ) {
          assert.ok(
            Math.abs(summary[key] - want[key]) <= 1e-4 * scale,
            `summaries[${i}].${key}: got ${summary[key]}, expected ${
              want[key]
            }`,
          );
        }
      });
      assert.deepEqual(explained.params, { ...expected.params });
      assert.deepEqual(explained.target, { kind: "true_label" });
      assert.deepEqual(explained.shape, { steps: 12, rows: 28, columns: 7 });
      assert.deepEqual(batch.relevance, expected.relevance);
    } finally {
      model.dispose();
    }
    assert.equal(tensorMemory().numTensors, before);

    // One event per step, T − 1 down to 0, all before the result, each
    // equal to its slice of the final relevance.
    assert.ok(resultAfterEvents);
    assert.deepEqual(events.map((e) => e.step), [
      11,
      10,
      9,
      8,
      7,
      6,
      5,
      4,
      3,
      2,
      1,
      0,
    ]);
    for (const { step, relevance, sums } of events) {
      assert.equal(relevance.length, 5 * 196);
      for (let n = 0; n < 5; n++) {
        const offset = (n * 12 + step) * 196;
        const want = explained.relevance.subarray(offset, offset + 196);
        assert.deepEqual(relevance.subarray(n * 196, (n + 1) * 196), want);
        const sum = want.reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sums[n]! - sum) <= 1e-6 * (1 + Math.abs(sum)));
      }
    }
    // The worker holds the cached model's 7 weights and nothing else.
    const stats = pool.stats();
    assert.equal(stats.done, 3);
    assert.deepEqual(stats.tensors, [7]);
  });
});

const TESTING_WORKER = new URL("./_testing_worker.ts", import.meta.url);

Deno.test("ComputePool.run() runs two tasks at once on two workers", async () => {
  await withTempDir(async (dir) => {
    const ref = await saveModel(dir, "full", FULL_SPEC);
    const { x, labels } = randomBatch(150);
    const inputs = batchInputs(x, 150, labels);
    using pool = createComputePool({ workers: 2, workerUrl: TESTING_WORKER });
    // Both workers load the model first, so both tasks start computing at once.
    await Promise.all(
      [0, 1].map(() =>
        pool.run({ kind: "classify", model: ref, inputs: inputs.slice(0, 1) })
      ),
    );
    assert.deepEqual(pool.stats().tensors, [7, 7]);
    // Each task's time in its worker, by the worker's clock: from reading
    // the task to posting its last step.
    const spans: [number, number][] = [[0, 0], [0, 0]];
    const run = (k: number) =>
      pool.run({ kind: "explain", model: ref, inputs, ...LRP }, {
        onEvent: (e) => {
          const { taskReceivedAt, postedAt } = e as StampedEvent;
          spans[k] = [taskReceivedAt!, Math.max(spans[k]![1], postedAt!)];
        },
      });
    const both = Promise.all([run(0), run(1)]);
    assert.deepEqual([pool.stats().busy, pool.stats().queued], [2, 0]);
    await both;
    // Each worker took its task before the other had finished: in flight at once.
    const [[a0, a1], [b0, b1]] = spans;
    assert.ok(a0 > 0 && b0 > 0 && a0 < b1 && b0 < a1, JSON.stringify(spans));
    assert.equal(pool.stats().done, 4);
  });
});

Deno.test("ComputePool.run() prefers an idle worker that already holds the model", async () => {
  await withTempDir(async (dir) => {
    const a = await saveModel(dir, "a");
    const b = await saveModel(dir, "b", undefined, 2);
    const { x } = randomBatch(1);
    const inputs = batchInputs(x, 1);
    using pool = createComputePool({ workers: 2 });
    // At once: one model per worker.
    await Promise.all([
      pool.run({ kind: "classify", model: a, inputs }),
      pool.run({ kind: "classify", model: b, inputs }),
    ]);
    assert.deepEqual(pool.stats().tensors, [7, 7]);
    // One at a time, each goes back to its holder: nobody loads a second copy.
    for (const model of [b, a, b]) {
      await pool.run({ kind: "classify", model, inputs });
    }
    assert.deepEqual(pool.stats().tensors, [7, 7]);
  });
});

Deno.test("ComputePool.evict() frees a model in the workers", async () => {
  await withTempDir(async (dir) => {
    const a = await saveModel(dir, "a");
    const b = await saveModel(dir, "b", undefined, 2);
    const { x } = randomBatch(1);
    const inputs = batchInputs(x, 1);
    using pool = createComputePool({ workers: 1 });
    await pool.run({ kind: "classify", model: a, inputs });
    await pool.run({ kind: "classify", model: b, inputs });
    assert.deepEqual(pool.stats().tensors, [14]);
    pool.evict("a");
    await pool.run({ kind: "classify", model: b, inputs });
    assert.deepEqual(pool.stats().tensors, [7]);
  });
});

Deno.test("ComputePool.run() refuses with ResourceExhaustedError when the queue is full", async () => {
  await withTempDir(async (dir) => {
    const ref = await saveModel(dir, "full", FULL_SPEC);
    const { x, labels } = randomBatch(100);
    const task = {
      kind: "explainBatch",
      model: ref,
      inputs: batchInputs(x, 100, labels),
      ...LRP,
    } as const;
    using pool = createComputePool({ workers: 1, queueLimit: 1 });
    const running = new AbortController();
    const queued = new AbortController();
    const first = pool.run(task, { signal: running.signal });
    const second = pool.run(task, { signal: queued.signal });
    await assert.rejects(
      pool.run(task),
      (e: unknown) =>
        e instanceof ResourceExhaustedError &&
        /queue is full/.test(e.message),
    );
    assert.deepEqual(
      [pool.stats().busy, pool.stats().queued],
      [1, 1],
    );
    // A queued task leaves the queue when aborted; the running one stops.
    queued.abort();
    await assert.rejects(second, { name: "AbortError" });
    assert.equal(pool.stats().queued, 0);
    running.abort(new DOMException("Deadline exceeded", "TimeoutError"));
    await assert.rejects(first, { name: "TimeoutError" });
    assert.equal(pool.stats().cancelled, 2);
  });
});

Deno.test("ComputePool.run() stops a cancelled explanation between steps and serves the next task", async () => {
  await withTempDir(async (dir) => {
    const ref = await saveModel(dir, "full", FULL_SPEC);
    // Large enough that the 12 steps take well over the worker's 10 ms
    // between yields (150 sequences no longer did once explanations got
    // faster, and all 12 steps went out before the cancel was read).
    const { x, labels } = randomBatch(600);
    const task = {
      kind: "explain",
      model: ref,
      inputs: batchInputs(x, 600, labels),
      ...LRP,
    } as const;
    using pool = createComputePool({ workers: 1 });
    await pool.run({ ...task, inputs: task.inputs.slice(0, 1) }); // loads the model
    const controller = new AbortController();
    const steps: number[] = [];
    const cancelled = pool.run(task, {
      signal: controller.signal,
      onEvent: (e) => steps.push(e.step),
    });
    // The cancel reaches the worker while it traces the batch (it reads the
    // shared cancel flag only between steps, so no timing decides where it
    // stops; the pass never yields to the worker's event loop, so without
    // the flag all 12 steps would go out).
    controller.abort();
    await assert.rejects(cancelled, { name: "AbortError" });
    // Queued behind the cancelled task until the worker has stopped it.
    const next = await pool.run({
      kind: "classify",
      model: ref,
      inputs: task.inputs.slice(0, 2),
    });
    assert.equal(next.predicted.length, 2);
    assert.deepEqual(steps, []);
    // The worker stopped at the first check of the flag after the cancel
    // (steps run back to back for 10 ms between checks): it posted none or
    // a few of the 12 steps, not all.
    const { lateEvents, cancelled: count, busy } = pool.stats();
    assert.ok(lateEvents <= 3, `${lateEvents} steps posted after the cancel`);
    assert.deepEqual([count, busy], [1, 0]);
  });
});

Deno.test("ComputePool.run() keeps each error's type across the worker boundary", async () => {
  await withTempDir(async (dir) => {
    const ref = await saveModel(dir, "tiny");
    const { x, labels } = randomBatch(2);
    using pool = createComputePool({ workers: 1 });

    await assert.rejects(
      pool.run({
        kind: "classify",
        model: ref,
        inputs: [{ values: x.subarray(0, SIZE - 1) }],
      }),
      (e: unknown) =>
        e instanceof RangeError &&
        e.message ===
          `Cannot use inputs[0]: expected ${SIZE} values (T × rows · columns), found ${
            SIZE - 1
          }`,
    );
    await assert.rejects(
      pool.run({ kind: "classify", model: ref, inputs: [] }),
      RangeError,
    );
    await assert.rejects(
      pool.run({
        kind: "classify",
        model: { ...ref, id: "missing" },
        inputs: batchInputs(x, 2),
      }),
      (e: unknown) =>
        e instanceof NotFoundError &&
        e.message === 'Cannot read checkpoint "missing": it does not exist',
    );
    await assert.rejects(
      pool.run({
        kind: "classify",
        model: { ...ref, sha256: "0".repeat(64) },
        inputs: batchInputs(x, 2),
      }),
      DataLossError,
    );
    // models' PreconditionError: the true label without labels.
    await assert.rejects(
      pool.run({
        kind: "explainBatch",
        model: ref,
        inputs: batchInputs(x, 2),
        method: "deep_taylor",
        target: { kind: "true_label" },
      }),
      (e: unknown) =>
        e instanceof PreconditionError &&
        e.message === "Cannot explain the true label: no labels were given",
    );
    // models' OutOfRangeError: a class past the last one.
    await assert.rejects(
      pool.run({
        kind: "explainBatch",
        model: ref,
        inputs: batchInputs(x, 2, labels),
        method: "sensitivity",
        target: { kind: "class", index: 12 },
      }),
      OutOfRangeError,
    );
    // An unknown parameter of the method.
    await assert.rejects(
      pool.run({
        kind: "explainBatch",
        model: ref,
        inputs: batchInputs(x, 2, labels),
        method: "lrp_epsilon",
        params: { alpha: 2 },
      }),
      RangeError,
    );
    const stats = pool.stats();
    assert.deepEqual([stats.failed, stats.done, stats.crashed], [7, 0, 0]);
    // The failures leaked nothing: only the cached model's weights remain.
    assert.deepEqual(stats.tensors, [7]);
  });
});

Deno.test("ComputePool replaces a crashed worker and keeps serving", async () => {
  await withTempDir(async (dir) => {
    const ref = await saveModel(dir, "tiny");
    const { x } = randomBatch(1);
    const errors: Error[] = [];
    using pool = createComputePool({
      workers: 1,
      workerUrl: TESTING_WORKER,
      onWorkerError: (e) => errors.push(e),
    });
    const inputs = batchInputs(x, 1);
    const crashed = pool.run({
      kind: "classify",
      model: { ...ref, id: CRASH_MODEL_ID },
      inputs,
    });
    const queued = pool.run({ kind: "classify", model: ref, inputs });
    await assert.rejects(
      crashed,
      (e: unknown) =>
        e instanceof ComputeError &&
        /the compute worker crashed: .*Worker crashed on purpose/.test(
          e.message,
        ),
    );
    // The task queued behind the crash runs on the replacement.
    assert.equal((await queued).predicted.length, 1);
    assert.equal(errors.length, 1);
    const stats = pool.stats();
    assert.deepEqual(
      [stats.workers, stats.crashed, stats.failed, stats.done],
      [1, 1, 1, 1],
    );
  });
});

Deno.test("ComputePool.close() rejects pending tasks and refuses new ones", async () => {
  await withTempDir(async (dir) => {
    const ref = await saveModel(dir, "tiny");
    const { x } = randomBatch(1);
    const pool = createComputePool({ workers: 1 });
    const inputs = batchInputs(x, 1);
    const running = pool.run({ kind: "classify", model: ref, inputs });
    const queued = pool.run({ kind: "classify", model: ref, inputs });
    pool.close();
    pool.close();
    await assert.rejects(running, UnavailableError);
    await assert.rejects(queued, UnavailableError);
    await assert.rejects(
      pool.run({ kind: "classify", model: ref, inputs }),
      (e: unknown) =>
        e instanceof UnavailableError &&
        e.message === "Cannot run compute task: the compute pool is closed",
    );
    assert.equal(pool.stats().workers, 0);
  });
});

Deno.test("ComputePool fails tasks and then refuses them when no worker can start its backend", async () => {
  await withTempDir(async (dir) => {
    const ref = await saveModel(dir, "tiny");
    const { x } = randomBatch(1);
    const inputs = batchInputs(x, 1);
    const errors: Error[] = [];
    // No native TensorFlow package is configured, so "tensorflow" cannot start.
    using pool = createComputePool({
      workers: 1,
      backend: "tensorflow",
      onWorkerError: (e) => errors.push(e),
    });
    const early = pool.run({ kind: "classify", model: ref, inputs });
    await assert.rejects(
      early,
      (e: unknown) =>
        e instanceof ComputeError &&
        /Cannot initialise backend "tensorflow"/.test(e.message),
    );
    await assert.rejects(pool.ready(), ComputeError);
    await assert.rejects(
      pool.run({ kind: "classify", model: ref, inputs }),
      (e: unknown) =>
        e instanceof UnavailableError &&
        /no compute worker could start: .*Cannot initialise backend/.test(
          e.message,
        ),
    );
    assert.equal(errors.length, 1);
    assert.equal(pool.stats().workers, 0);
  });
});

Deno.test("createComputePool() throws RangeError for a bad worker count", () => {
  assert.throws(
    () => createComputePool({ workers: 0 }),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot create compute pool: workers must be an integer ≥ 1: got 0",
  );
});
