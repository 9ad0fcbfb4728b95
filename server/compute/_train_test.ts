import assert from "node:assert/strict";
import {
  buildProblem,
  createModel,
  createSpec,
  decodeCheckpoint,
  decodeSafetensors,
  encodeSafetensors,
  fit,
  type FitOptions,
  initBackend,
  type RnnModel,
  tensorMemory,
} from "../../models/mod.ts";
import { loadDataset } from "../datasets/mod.ts";
import { TINY_SPEC } from "./_testing.ts";
import { createComputePool } from "./pool.ts";
import type {
  TrainConfig,
  TrainEpochEvent,
  TrainProgressEvent,
} from "./protocol.ts";

const CONFIG: TrainConfig = {
  data: {
    dataset: "mnist",
    problem: "majority",
    split: { kind: "standard" },
    seed: 3,
  },
  epochs: 2,
  batchSize: 25,
  seed: 5,
  maxSamples: 50,
};

/** Trains on this thread as the worker should, returning the weights' bytes. */
async function fitHere(
  model: RnnModel,
  startEpoch: number,
): Promise<Uint8Array> {
  await initBackend("wasm");
  const { train, test } = await loadDataset("mnist");
  const problem = buildProblem({ train, test }, {
    problem: "majority",
    steps: 12,
    split: CONFIG.data.split,
    seed: CONFIG.data.seed,
  });
  const options: FitOptions = {
    epochs: CONFIG.epochs,
    batchSize: CONFIG.batchSize!,
    seed: CONFIG.seed,
    maxSamples: CONFIG.maxSamples!,
    validation: problem.test,
    startEpoch,
  };
  await fit(model, problem.train, options);
  return weightsBytes(model);
}

async function weightsBytes(model: RnnModel): Promise<Uint8Array> {
  return encodeSafetensors(await model.exportWeights(), {
    format: "rnn-explain",
    formatVersion: "1",
    architecture: model.spec.architecture,
  });
}

Deno.test("ComputePool.run() trains and resumes exactly as fit() in-process", async () => {
  using pool = createComputePool({ workers: 1 });
  const progress: TrainProgressEvent[] = [];
  const epochs: TrainEpochEvent[] = [];
  const result = await pool.run(
    { kind: "train", spec: TINY_SPEC, config: CONFIG },
    {
      onEvent: (e) => {
        if (e.kind === "progress") progress.push(e);
        else epochs.push(e);
      },
    },
  );
  assert.deepEqual(
    progress.map((p) => [p.progress.epoch, p.progress.step]),
    [[0, 0], [0, 1], [1, 0], [1, 1]],
  );
  assert.deepEqual(epochs.map((e) => e.summary.epoch), [0, 1]);
  for (const [k, { weights, manifest }] of epochs.entries()) {
    // Each epoch's checkpoint verifies (size, hash, shapes) and records progress.
    await decodeCheckpoint({ weights, manifest });
    assert.equal(manifest.metrics.epochsCompleted, k + 1);
    assert.equal(manifest.training.maxSamples, 50);
  }
  await decodeCheckpoint({
    weights: result.weights,
    manifest: result.manifest,
  });
  assert.deepEqual(result.weights, epochs[1]!.weights);
  assert.deepEqual(result.metrics, {
    trainLoss: epochs[1]!.summary.loss,
    trainAccuracy: epochs[1]!.summary.accuracy,
    heldoutLoss: epochs[1]!.summary.validation!.loss,
    heldoutAccuracy: epochs[1]!.summary.validation!.accuracy,
    trainSamples: 50,
    heldoutSamples: 2000,
    epochsCompleted: 2,
  });
  assert.deepEqual(result.manifest.metrics, { ...result.metrics });
  // Nothing stays behind in the worker.
  assert.deepEqual(pool.stats().tensors, [0]);

  // Resume after epoch 0 from its checkpoint.
  const resumed = await pool.run({
    kind: "train",
    spec: TINY_SPEC,
    config: CONFIG,
    startEpoch: 1,
    initialWeights: epochs[0]!.weights,
  });
  assert.deepEqual(resumed.epochs.map((e) => e.epoch), [1]);
  assert.equal(resumed.metrics.epochsCompleted, 2);

  await initBackend("wasm");
  const before = tensorMemory().numTensors;
  const spec = createSpec(TINY_SPEC);
  const fresh = createModel(spec, { seed: CONFIG.seed });
  const restored = createModel(spec, {
    weights: decodeSafetensors(epochs[0]!.weights).tensors,
  });
  try {
    assert.deepEqual(result.weights, await fitHere(fresh, 0));
    assert.deepEqual(resumed.weights, await fitHere(restored, 1));
  } finally {
    fresh.dispose();
    restored.dispose();
  }
  assert.equal(tensorMemory().numTensors, before);
});

Deno.test("ComputePool.run() stops a cancelled training between steps", async () => {
  using pool = createComputePool({ workers: 1 });
  const controller = new AbortController();
  const steps: number[] = [];
  await assert.rejects(
    pool.run(
      {
        kind: "train",
        spec: TINY_SPEC,
        config: { ...CONFIG, epochs: 1000, maxSamples: 1000 },
      },
      {
        signal: controller.signal,
        onEvent: (e) => {
          if (e.kind !== "progress") return;
          steps.push(e.progress.step);
          controller.abort();
        },
      },
    ),
    { name: "AbortError" },
  );
  assert.deepEqual(steps, [0]);
  // The worker stops after the step it was in (it reads the cancel flag and
  // its messages between steps).
  const { lateEvents } = pool.stats();
  assert.ok(lateEvents <= 2, `${lateEvents} steps reported after the cancel`);
  // The worker is free again: a small job queued behind the cancelled one
  // finishes within 20 s; the cancelled one alone would run for minutes.
  const limit = new AbortController();
  const timer = setTimeout(() => limit.abort(), 20_000);
  try {
    const next = await pool.run({
      kind: "train",
      spec: TINY_SPEC,
      config: { ...CONFIG, epochs: 1 },
    }, { signal: limit.signal });
    assert.equal(next.metrics.epochsCompleted, 1);
  } finally {
    clearTimeout(timer);
  }
  await assert.rejects(
    pool.run({
      kind: "train",
      spec: TINY_SPEC,
      config: { ...CONFIG, epochs: 0 },
    }),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message === "Cannot train: epochs must be an integer ≥ 1: got 0",
  );
  const stats = pool.stats();
  assert.deepEqual([stats.busy, stats.cancelled, stats.failed], [0, 1, 1]);
  assert.deepEqual(stats.tensors, [0]);
});
