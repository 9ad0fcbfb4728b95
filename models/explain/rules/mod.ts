/**
 * LRP and deep Taylor layer rules over one shared engine, zennit-shaped.
 * Every rule is a frozen, stateless object applied with
 * {@linkcode applyRule} to a linear map ({@linkcode DENSE},
 * {@linkcode CONV2D}, {@linkcode AVG_POOL}), batched over N samples; every
 * call returns tensors the caller owns.
 *
 * | rule | where | stabiliser default |
 * | --- | --- | --- |
 * | {@linkcode Epsilon} | LRP-ε / LRP-0, any layer, bias absorbed | ε = 1e-9 |
 * | {@linkcode AlphaBeta}, {@linkcode ZPlus} | non-negative inputs | 1e-9 |
 * | {@linkcode ZBox} | pixels in [low, high] | 1e-9 |
 * | {@linkcode WSquare} | unbounded real inputs | 1e-9 |
 * | {@linkcode Flat} | uniform baseline | 1e-9 |
 * | {@linkcode MixedDomain} | `[pixels ; non-negative]` concatenations | 1e-9 |
 * | {@linkcode Norm} | pooling | 1e-9 |
 * | {@linkcode lstmCellRelevance} | R-LSTM cell split | 1e-10 |
 *
 * @example
 * ```ts
 * import { applyRule, DENSE, ZPlus } from "./mod.ts";
 * const { relevance, absorbed } = applyRule(ZPlus(), DENSE, {
 *   input: h, weight: w, relevance: r,
 * });
 * ```
 *
 * @module
 */
export {
  absorbedOf,
  applyRule,
  divideStabilized,
  type LayerKind,
  type LayerTensors,
  type LinearLayer,
  type Normalized,
  type Quotient,
  type Rule,
  type RuleContext,
  type RuleResult,
  stabilizer,
  type Term,
  WeightCache,
} from "../core.ts";
export {
  AVG_POOL,
  type AvgPoolOptions,
  createAvgPool,
} from "../layers/avg_pool.ts";
export { CONV2D } from "../layers/conv2d.ts";
export { DENSE } from "../layers/dense.ts";
export { Epsilon, type EpsilonOptions } from "./lrp_epsilon.ts";
export { Norm, type NormOptions } from "./lrp_norm.ts";
export {
  AlphaBeta,
  type AlphaBetaOptions,
  ZPlus,
  type ZPlusOptions,
} from "./lrp_alpha_beta.ts";
export { type Bound } from "./_box.ts";
export { ZBox, type ZBoxOptions } from "./lrp_zbox.ts";
export { MixedDomain, type MixedDomainOptions } from "./lrp_mixed_domain.ts";
export { WSquare, type WSquareOptions } from "./lrp_w_square.ts";
export { Flat, type FlatOptions } from "./lrp_flat.ts";
export {
  type LstmCellOptions,
  lstmCellRelevance,
  type LstmCellResult,
  type LstmCellTensors,
} from "./lstm_cell.ts";
