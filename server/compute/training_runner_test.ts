import assert from "node:assert/strict";
import { createSpec, decodeCheckpoint } from "../../models/mod.ts";
import type { EpochMetrics, RunTrainingContext } from "../jobs/mod.ts";
import type { JobRecord } from "../storage/mod.ts";
import { DataLossError } from "../errors.ts";
import { TINY_SPEC } from "./_testing.ts";
import { createComputePool } from "./pool.ts";
import type { TrainConfig } from "./protocol.ts";
import { createTrainingRunner } from "./training_runner.ts";

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

function job(): JobRecord<TrainConfig> {
  return {
    id: "job-1",
    config: CONFIG,
    spec: createSpec(TINY_SPEC),
    lastCompletedEpoch: 0,
  } as JobRecord<TrainConfig>;
}

Deno.test("createTrainingRunner() trains a job through the pool and reports every step and epoch", async () => {
  using pool = createComputePool({ workers: 1 });
  const steps: number[] = [];
  const epochs: [number, Uint8Array, EpochMetrics | undefined][] = [];
  const context: RunTrainingContext = {
    signal: new AbortController().signal,
    startEpoch: 0,
    initialWeights: undefined,
    onProgress: (p) => steps.push(p.step),
    onEpochEnd: async (epoch, weights, metrics) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      epochs.push([epoch, weights, metrics]);
    },
  };
  const output = await createTrainingRunner(pool)(job(), context);
  assert.deepEqual(steps, [0, 1, 0, 1]);
  // Every epoch's write finished before the run resolved.
  assert.deepEqual(epochs.map(([e]) => e), [1, 2]);
  assert.deepEqual(output.weights, epochs[1]![1]);
  const { manifest } = await decodeCheckpoint({
    weights: output.weights,
    manifest: output.manifest,
  });
  const last = epochs[1]![2]!;
  assert.equal(manifest.metrics.heldoutAccuracy, last.heldoutAccuracy);
  assert.equal(manifest.metrics.trainLoss, last.loss);
  assert.equal(typeof last.heldoutLoss, "number");
});

Deno.test("createTrainingRunner() fails the run with a checkpoint write's error and stops the worker", async () => {
  using pool = createComputePool({ workers: 1 });
  const error = new DataLossError("Cannot write epoch 1: disk full");
  const context: RunTrainingContext = {
    signal: new AbortController().signal,
    startEpoch: 0,
    initialWeights: undefined,
    onProgress: () => {},
    onEpochEnd: () => Promise.reject(error),
  };
  await assert.rejects(
    createTrainingRunner(pool)(
      { ...job(), config: { ...CONFIG, epochs: 500 } },
      context,
    ),
    (e: unknown) => e === error,
  );
  assert.equal(pool.stats().cancelled, 1);
});
