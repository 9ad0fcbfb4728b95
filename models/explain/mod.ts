/**
 * Explanations, zennit-shaped: rules per layer (`rules/`), composites that
 * assign them (`composites.ts`), one relevance engine through time (`lrp/`),
 * the gradient methods (`gradient/`), one registry table of every method
 * (`registry.ts`) and one entry point, {@linkcode explain}
 * (`attributors.ts`).
 *
 * Everything here takes and returns plain data (Float32Array + shape,
 * summaries); tensors stay inside.
 *
 * @example
 * ```ts
 * const { relevance, summaries } = await explain(model, { x, count, labels }, "deep_taylor", {
 *   onStep: ({ step, relevance }) => stream(step, relevance),
 * });
 * ```
 *
 * @module
 */
export {
  argmax,
  type ExplainInput,
  type ExplainOptions,
  type Explanation,
  type ExplanationSummary,
  METHOD_NAMES,
  type MethodName,
  type MethodParams,
  resolveTargets,
  type StepRelevance,
  type Target,
  yieldIfDue,
  type YieldOptions,
} from "./explanation.ts";
export {
  explain,
  type ExplainerListing,
  explainerValidity,
  type ExplainSubject,
  listExplainers,
  resolveParams,
} from "./attributors.ts";
export {
  type Attributor,
  defaultParams,
  type ExplainerEntry,
  explainerFor,
  EXPLAINERS,
  type MethodParameter,
  type Validity,
} from "./registry.ts";
export {
  type Composite,
  COMPOSITE_PRESETS,
  type CompositeOptions,
  type CompositePreset,
  createAlphaBetaComposite,
  createComposite,
  createDeepTaylorComposite,
  createEpsilonComposite,
  type LayerSlot,
  RELEVANCE_METHODS,
  type RelevanceMethod,
  type SlotInput,
} from "./composites.ts";
export {
  deepTaylor,
  DEFAULT_RELEVANCE_BATCH,
  lrpAlphaBeta,
  lrpEpsilon,
  type RelevanceOptions,
  relevancePass,
  type RelevancePassOptions,
  type RelevancePassResult,
} from "./lrp/mod.ts";
export {
  DEFAULT_MAX_BATCH,
  type GradientOptions,
  gradientXInput,
  guidedBackprop,
  INTEGRATED_GRADIENTS_DEFAULTS,
  integratedGradients,
  sensitivity,
  smoothgrad,
  SMOOTHGRAD_DEFAULTS,
} from "./gradient/mod.ts";
