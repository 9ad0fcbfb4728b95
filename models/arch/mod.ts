/**
 * The thesis's recurrent architectures (thesis-code §2): JSON-able specs,
 * each architecture described as data, and models that train, predict and
 * expose every activation for explainers.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { createModel, createSpec } from "./mod.ts";
 *
 * const model = createModel(createSpec({ architecture: "r_lstm", steps: 12, columns: 7 }), { seed: 1 });
 * try {
 *   const logits = tf.tidy(() => model.forward(tf.zeros([2, 12, 196])));
 *   logits.dispose();
 * } finally {
 *   model.dispose();
 * }
 * ```
 *
 * @module
 */
export {
  type Architecture,
  ARCHITECTURES,
  BIAS_MODES,
  type BiasMode,
  createSpec,
  DEFAULT_LAYER_SIZES,
  defaultDropout,
  DROPOUT_MODES,
  type DropoutMode,
  layerSize,
  type LayerSizeKey,
  type LayerSizes,
  type ModelSpec,
  type ModelSpecInit,
  NUM_CLASSES,
  validateSpec,
} from "./spec.ts";
export {
  type Activation,
  type ArchitectureGraph,
  buildGraph,
  type ConvLayer,
  type DenseLayer,
  type DropoutSite,
  findLayer,
  type Layer,
  type LayerInput,
  layerInputs,
  layerOutputs,
  type LstmLayer,
  type LstmPart,
  type PoolLayer,
  type RecurrentState,
  type ReshapeLayer,
  staticActivations,
} from "./graph.ts";
export {
  countParameters,
  type Initializer,
  type ParameterInfo,
  parameterInfos,
  SOFTPLUS_BIAS_INIT,
} from "./parameters.ts";
export {
  type WeightMap,
  weightProblems,
  type WeightTensor,
} from "./weights.ts";
export {
  type DropoutAt,
  DropoutSampler,
  type DropoutSamplerOptions,
} from "./dropout.ts";
export { scaledAvgPool } from "./layers/pool.ts";
export {
  createModel,
  type CreateModelOptions,
  disposeTrace,
  type ForwardOptions,
  type LayerWeights,
  type ModelTrace,
  RnnModel,
  type TraceOptions,
} from "./rnn_model.ts";
