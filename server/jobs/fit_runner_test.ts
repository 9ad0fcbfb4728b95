/**
 * The runner contract against the real `fit` and `encodeCheckpoint` of
 * `models/`: a tiny SHALLOW network on synthetic data, interrupted after
 * epoch 1 and resumed from the stored weights.
 */
import assert from "node:assert/strict";
import {
  createModel,
  decodeSafetensors,
  encodeCheckpoint,
  fit,
  initBackend,
  loadCheckpoint,
  tensorMemory,
  type TrainingData,
} from "../../models/mod.ts";
import { openModelStore } from "../storage/mod.ts";
import { TEST_SPEC } from "../storage/test_checkpoint.ts";
import type { RunTraining, RunTrainingContext } from "./runner.ts";
import { createJobManager } from "./training_jobs.ts";
import type { JobEvent } from "./job_watchers.ts";

type Config = { epochs: number; seed: number };

function syntheticData(count: number): TrainingData {
  const width = TEST_SPEC.steps * TEST_SPEC.rows * TEST_SPEC.columns;
  return {
    x: Float32Array.from({ length: count * width }, (_, i) => Math.sin(i)),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
    count,
  };
}

/** A runner like the compute pool's, on the calling thread. */
function createFitRunner(
  data: TrainingData,
  options: { hangAfterFirstEpoch: boolean },
): { run: RunTraining<Config>; contexts: RunTrainingContext[] } {
  const contexts: RunTrainingContext[] = [];
  const run: RunTraining<Config> = async (job, context) => {
    contexts.push(context);
    const info = {
      dataset: "synthetic",
      problem: "sequence",
      seed: job.config.seed,
      training: {
        optimizer: "adam" as const,
        epochs: job.config.epochs,
        batchSize: 10,
        learningRate: 0.01,
        keepProb: job.spec.keepProb,
      },
    };
    const model = createModel(
      job.spec,
      context.initialWeights === undefined
        ? { seed: job.config.seed }
        : { weights: decodeSafetensors(context.initialWeights).tensors },
    );
    try {
      await fit(model, data, {
        epochs: job.config.epochs,
        batchSize: 10,
        learningRate: 0.01,
        seed: job.config.seed,
        startEpoch: context.startEpoch,
        signal: context.signal,
        onProgress: context.onProgress,
        onEpochEnd: async (summary) => {
          const { weights } = await encodeCheckpoint(model, info);
          await context.onEpochEnd(summary.epoch + 1, weights, {
            loss: summary.loss,
            accuracy: summary.accuracy,
          });
          if (options.hangAfterFirstEpoch && summary.epoch === 0) {
            await new Promise((resolve) =>
              context.signal.addEventListener("abort", resolve, { once: true })
            );
            context.signal.throwIfAborted();
          }
        },
      });
      return await encodeCheckpoint(model, info);
    } finally {
      model.dispose();
    }
  };
  return { run, contexts };
}

Deno.test("JobManager with a real fit runner checkpoints epoch 1, resumes from it and stores a loadable model without leaking tensors", async () => {
  await initBackend("wasm");
  const before = tensorMemory().numTensors;
  const dir = await Deno.makeTempDir({ prefix: "fit_runner_test_" });
  const data = syntheticData(20);
  try {
    using store = await openModelStore({ dir });
    const first = createFitRunner(data, { hangAfterFirstEpoch: true });
    const jobs = createJobManager<Config>({ store, runTraining: first.run });
    const { id } = jobs.start({ epochs: 2, seed: 3 }, TEST_SPEC);
    for await (const event of jobs.watch(id)) {
      if (event.progress.completedEpochs === 1) break;
    }
    await jobs.close();
    assert.equal(jobs.get(id).state, "INTERRUPTED");
    const saved = await store.readEpoch(id, 1);

    const second = createFitRunner(data, { hangAfterFirstEpoch: false });
    await using again = createJobManager<Config>({
      store,
      runTraining: second.run,
    });
    await again.resume(id);
    const events: JobEvent[] = [];
    for await (const event of again.watch(id)) events.push(event);
    const last = events.at(-1)!;
    assert.equal(last.state, "SUCCEEDED", last.error);
    assert.equal(second.contexts[0]?.startEpoch, 1);
    assert.deepEqual(second.contexts[0]?.initialWeights, saved);
    assert.ok(
      events.some((e) => e.progress.epoch === 2 && e.progress.step > 0),
      "no step of epoch 2 was reported",
    );
    const { model, manifest } = await loadCheckpoint(
      await store.readFiles(last.modelId),
    );
    model.dispose();
    assert.equal(manifest.seed, 3);
    assert.notDeepEqual(
      (await store.readFiles(last.modelId)).weights,
      saved,
      "epoch 2 changed nothing",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(tensorMemory().numTensors, before);
});
