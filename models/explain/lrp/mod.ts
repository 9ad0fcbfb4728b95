/**
 * The LRP / deep Taylor relevance engine through time: one pass over any
 * architecture graph, driven by a composite's rule assignment.
 *
 * @module
 */
export {
  type ActivationDomain,
  activationDomains,
} from "./activation_domains.ts";
export {
  type ConvOp,
  createPassPlan,
  type DenseOp,
  type InputPart,
  type LayerOp,
  type LstmOp,
  type PassPlan,
  type PoolOp,
  type ReshapeOp,
} from "./pass_plan.ts";
export {
  DEFAULT_RELEVANCE_BATCH,
  relevancePass,
  type RelevancePassOptions,
  type RelevancePassResult,
} from "./relevance_pass.ts";
export {
  checkPixelDomain,
  deepTaylor,
  lrpAlphaBeta,
  lrpEpsilon,
  type RelevanceOptions,
} from "./relevance_attributors.ts";
