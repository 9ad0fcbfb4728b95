/**
 * Training, evaluation and prediction of `arch/` models on plain arrays:
 * Adam on the thesis's 11-way loss (10 logits plus a constant zero logit),
 * seeded reshuffling every epoch, cancellation and progress between steps.
 *
 * @example
 * ```ts
 * import { createModel, createSpec } from "../arch/mod.ts";
 * import { evaluate, fit } from "./mod.ts";
 *
 * const model = createModel(createSpec({ architecture: "r_lstm", steps: 12, columns: 7 }), { seed: 1 });
 * // train: { x: Float32Array [count, 12, 196], labels: Uint8Array, count }
 * // await fit(model, train, { epochs: 1, signal, onProgress: (p) => console.log(p.loss) });
 * // const { accuracy } = await evaluate(model, test);
 * model.dispose();
 * ```
 *
 * @module
 */
export {
  type EpochSummary,
  fit,
  type FitOptions,
  type FitProgress,
  type FitResult,
} from "./fit.ts";
export {
  evaluate,
  type EvaluateOptions,
  type Evaluation,
  predict,
  type Prediction,
} from "./evaluate.ts";
export {
  countCorrect,
  withZeroLogit,
  zeroLogitCrossEntropy,
  zeroLogitCrossEntropySum,
} from "./loss.ts";
export { countFlops, type FlopCount } from "./flops.ts";
export { predictPrefix } from "./predict_prefix.ts";
export {
  checkTrainingData,
  gatherBatch,
  type TrainingData,
} from "./training_data.ts";
