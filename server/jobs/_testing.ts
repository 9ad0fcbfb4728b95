/**
 * Test support for jobs: a fake training runner that behaves like the
 * compute pool's (step progress with small delays, real safetensors weights
 * after each epoch, a real checkpoint at the end, stops on abort), with
 * switches to hang, fail or ignore cancellation.
 *
 * @module
 */
import {
  createTestCheckpoint,
  createTestWeights,
} from "../storage/test_checkpoint.ts";
import type { JobConfig } from "../storage/mod.ts";
import type { RunTraining } from "./runner.ts";

/** Options of {@linkcode createFakeRunner}. */
export interface FakeRunnerOptions {
  /** @default 3 */
  stepsPerEpoch?: number;
  /** @default 2 */
  stepDelayMs?: number;
  /** After completing this many epochs, wait until aborted. */
  hangAfterEpoch?: number;
  /** Within the first epoch run, wait until aborted after this many steps. */
  hangAtStep?: number;
  /** After completing this many epochs, throw {@linkcode FakeRunnerOptions.error}. */
  failAfterEpoch?: number;
  /** @default new RangeError("Cannot train: the fake runner failed") */
  error?: unknown;
  /** When aborted while hanging, return the model anyway (a finish that wins a cancel race). */
  finishDespiteAbort?: boolean;
  /** Pass this instead of weights to onEpochEnd (to break checkpointing). */
  badWeights?: unknown;
}

/** What a fake run was given. */
export interface FakeRunnerCall {
  jobId: string;
  startEpoch: number;
  initialWeights: Uint8Array | undefined;
}

/** A fake runner and the calls it received. */
export interface FakeRunner {
  run: RunTraining<JobConfig & { seed?: number }>;
  calls: FakeRunnerCall[];
}

/** The weights a fake runner reports after `epoch` completed epochs. */
export function fakeEpochWeights(epoch: number): Uint8Array {
  return createTestWeights({ seed: 100 + epoch });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/**
 * Creates a fake runner.
 *
 * @param options steps, delays, and where to hang or fail
 * @returns the runner and its call log
 */
export function createFakeRunner(options: FakeRunnerOptions = {}): FakeRunner {
  const stepsPerEpoch = options.stepsPerEpoch ?? 3;
  const delay = options.stepDelayMs ?? 2;
  const calls: FakeRunnerCall[] = [];
  const hang = async (signal: AbortSignal) => {
    await untilAborted(signal);
    if (!options.finishDespiteAbort) throw signal.reason;
  };
  const run: FakeRunner["run"] = async (job, context) => {
    const { signal, startEpoch } = context;
    calls.push({
      jobId: job.id,
      startEpoch,
      initialWeights: context.initialWeights,
    });
    for (let epoch = startEpoch; epoch < job.config.epochs; epoch++) {
      if (options.hangAfterEpoch === epoch) {
        await hang(signal);
        break;
      }
      for (let step = 0; step < stepsPerEpoch; step++) {
        if (epoch === startEpoch && options.hangAtStep === step) {
          await hang(signal);
        }
        signal.throwIfAborted();
        await sleep(delay, signal);
        context.onProgress({
          epoch,
          step,
          stepsPerEpoch,
          loss: 1 / (1 + epoch + step / stepsPerEpoch),
          accuracy: 0.1 * (epoch + 1),
          samplesPerSecond: 1000,
          etaSeconds: 0.01,
        });
      }
      const weights = options.badWeights ?? fakeEpochWeights(epoch + 1);
      await context.onEpochEnd(epoch + 1, weights as Uint8Array, {
        loss: 0.5 / (epoch + 1),
        accuracy: 0.1 * (epoch + 1),
        heldoutLoss: 0.6 / (epoch + 1),
        heldoutAccuracy: 0.09 * (epoch + 1),
      });
      if (options.failAfterEpoch === epoch + 1) {
        throw options.error ??
          new RangeError("Cannot train: the fake runner failed");
      }
    }
    return await createTestCheckpoint({
      seed: job.config.seed ?? 1,
      epochs: job.config.epochs,
    });
  };
  return { run, calls };
}
