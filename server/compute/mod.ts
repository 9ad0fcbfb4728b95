/**
 * The compute pool: tensor work (classify, explain, evaluate, train) runs in
 * Deno Workers, each with its own TensorFlow.js backend and model cache, so
 * the gRPC event loop never computes. Services and the job manager call
 * {@linkcode createComputePool} once and `pool.run(task, { signal, onEvent })`
 * per request.
 *
 * @example
 * ```ts
 * using pool = createComputePool({ workers: 2, queueLimit: 16 });
 * const { logits } = await pool.run({
 *   kind: "classify",
 *   model: { id: "m1", dir: "./data/checkpoints", sha256 },
 *   inputs: batchInputs(x, count),
 * }, { signal });
 * ```
 *
 * @module
 */
export {
  type ComputePool,
  type ComputePoolOptions,
  type ComputePoolStats,
  createComputePool,
  type RunOptions,
} from "./pool.ts";
export {
  batchInputs,
  type ClassifyResult,
  type ClassifyTask,
  type ComputeTask,
  type DataSourceRef,
  type EvaluateProgressEvent,
  type EvaluateResult,
  type EvaluateTask,
  type EventOf,
  type ExplainerConfig,
  type ExplainerReport,
  type ExplainResult,
  type ExplainTask,
  modelKey,
  type ModelRef,
  type PerSampleValues,
  type ResultOf,
  type SampleRef,
  type SequenceInput,
  type SplitPartName,
  type StepEvent,
  type TaskKind,
  type TrainConfig,
  type TrainEpochEvent,
  type TrainMetrics,
  type TrainProgressEvent,
  type TrainResult,
  type TrainTask,
} from "./protocol.ts";
export {
  ComputeError,
  fromWireError,
  toWireError,
  type WireError,
} from "./wire_error.ts";
export { defaultNegative } from "./_evaluate.ts";
export { createTrainingRunner } from "./training_runner.ts";
