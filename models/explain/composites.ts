/**
 * Composites: which rule explains which layer (zennit's "layer predicate →
 * rule" maps, iNNvestigate's deep Taylor mappings). A composite sees each
 * layer as a {@linkcode LayerSlot} (the kind of linear map and the domain of
 * its input) and answers with a rule; the relevance engine in `lrp/` does
 * the rest. Named presets pair a method with the parameters of one of the
 * thesis's variants.
 *
 * | slot | `lrp_alpha_beta` | `deep_taylor` | `lrp_epsilon` |
 * | --- | --- | --- | --- |
 * | dense / conv on non-negative inputs | AlphaBeta(α, β) | ZPlus | Epsilon(ε) |
 * | dense / conv on pixels, bounded | ZBox(low, high) | ZBox(low, high) | Epsilon(ε) |
 * | dense / conv on pixels, real | WSquare | WSquare | Epsilon(ε) |
 * | `[pixels ; non-negative]`, bounded | MixedDomain(α, β) | MixedDomain(1, 0) | Epsilon(ε) |
 * | `[pixels ; non-negative]`, real | none (precondition) | none (precondition) | Epsilon(ε) |
 * | any other input (not ReLU) | none (precondition) | none (precondition) | Epsilon(ε) |
 * | pooling | Norm | Norm | Epsilon(ε) |
 * | R-LSTM cell | lstmCellRelevance | lstmCellRelevance | lstmCellRelevance |
 *
 * The pixel layer never gets αβ (thesis-code §3.3 (b): the released code
 * applies zᴮ there for every LRP variant).
 *
 * @module
 */
import { PreconditionError } from "../errors.ts";
import type { MethodName, MethodParams } from "./explanation.ts";
import {
  AlphaBeta,
  Epsilon,
  type LstmCellOptions,
  MixedDomain,
  Norm,
  type Rule,
  WSquare,
  ZBox,
  ZPlus,
} from "./rules/mod.ts";

/** The relevance methods a composite implements. */
export type RelevanceMethod = "lrp_alpha_beta" | "lrp_epsilon" | "deep_taylor";

/** Every {@linkcode RelevanceMethod}. */
export const RELEVANCE_METHODS: readonly RelevanceMethod[] = Object.freeze([
  "lrp_alpha_beta",
  "lrp_epsilon",
  "deep_taylor",
]);

/**
 * The domain of a layer's input, as the rules need it:
 * `pixels` (the step's pixels only), `nonnegative` (ReLU outputs, pooled or
 * reshaped ReLU maps, R-LSTM states), `mixed` (a concatenation whose leading
 * features or channels are pixels and the rest non-negative), `real`
 * (anything else, e.g. the output of a linear layer).
 */
export type SlotInput = "pixels" | "nonnegative" | "mixed" | "real";

/** One linear layer as a composite sees it. */
export interface LayerSlot {
  /** The graph layer's name (e.g. `hidden`, `conv1`, `lstm`). */
  readonly layer: string;
  /** The linear map: dense (also the R-LSTM candidate), conv or pool. */
  readonly kind: "dense" | "conv" | "pool";
  /** The domain of the layer's input. */
  readonly input: SlotInput;
  /** Leading pixel features (dense) or channels (conv) of a `mixed` input; 0 otherwise. */
  readonly pixels: number;
}

/** A rule assignment for every layer of every architecture. */
export interface Composite {
  /** The method it implements. */
  readonly method: RelevanceMethod;
  /** The parameters it was built from, defaults filled in. */
  readonly params: Readonly<MethodParams>;
  /** Options of the R-LSTM cell split (thesis-code §3.5: ε = 1e-10, share to the candidate). */
  readonly cell: Readonly<LstmCellOptions>;
  /**
   * The rule for one layer.
   *
   * @throws {PreconditionError} if the method has no rule for the slot
   */
  ruleFor(slot: LayerSlot): Rule;
}

/** Options of the composites; every field has the documented default. */
export interface CompositeOptions {
  /**
   * α of the hidden layers' αβ rule and of the mixed rule's non-negative part.
   * @default 1, or β + 1 when only β is given
   */
  alpha?: number;
  /**
   * β, with α − β = 1.
   * @default 0, or α − 1 when only α is given
   */
  beta?: number;
  /**
   * ε of LRP-ε (every layer, bias share absorbed).
   * @default 1e-9
   */
  epsilon?: number;
  /**
   * zᴮ lower pixel bound.
   * @default -1 (pixels are mapped to [−1, 1], thesis-code §4)
   */
  low?: number;
  /**
   * zᴮ upper pixel bound.
   * @default 1
   */
  high?: number;
  /**
   * Denominator stabiliser of the z-rules (αβ, z⁺, zᴮ, w², mixed, pooling).
   * @default 1e-9 (thesis-code §3.5, DIVISION_ADJUSTMENT)
   */
  stabilizer?: number;
  /**
   * Domain of the pixels: `bounded` (in [low, high]) → zᴮ, `real` → w².
   * @default "bounded"
   */
  inputDomain?: "bounded" | "real";
}

/** The R-LSTM cell split of the released code (thesis-code §3.4, §3.5). */
export const LSTM_CELL_OPTIONS: Readonly<LstmCellOptions> = Object.freeze({
  stabilizer: 1e-10,
  stabilizerShare: "candidate",
});

function notRelu(method: RelevanceMethod, slot: LayerSlot): never {
  throw new PreconditionError(
    `Cannot explain with "${method}": layer "${slot.layer}" reads values that are neither pixels nor ReLU outputs, and z⁺/αβ need non-negative inputs`,
  );
}

function noMixedRealRule(method: RelevanceMethod, slot: LayerSlot): never {
  throw new PreconditionError(
    `Cannot explain with "${method}": layer "${slot.layer}" concatenates pixels with non-negative states, and w² (inputDomain "real") has no mixed-domain form`,
  );
}

function boxComposite(
  method: "lrp_alpha_beta" | "deep_taylor",
  options: CompositeOptions,
): Composite {
  // With one of α, β given, the other follows from α − β = 1.
  const alpha = method === "deep_taylor"
    ? 1
    : options.alpha ?? (options.beta === undefined ? 1 : options.beta + 1);
  const beta = method === "deep_taylor" ? 0 : options.beta ?? alpha - 1;
  const low = options.low ?? -1;
  const high = options.high ?? 1;
  const stabilizer = options.stabilizer ?? 1e-9;
  const inputDomain = options.inputDomain ?? "bounded";
  // Rules are stateless and frozen: one object serves every layer.
  const hidden = method === "deep_taylor"
    ? ZPlus({ stabilizer })
    : AlphaBeta({ alpha, beta, stabilizer });
  const pixels = inputDomain === "real"
    ? WSquare({ stabilizer })
    : ZBox({ low, high, stabilizer });
  const pool = Norm({ stabilizer });
  const params: MethodParams = method === "deep_taylor"
    ? { low, high, stabilizer, inputDomain }
    : { alpha, beta, low, high, stabilizer, inputDomain };
  return Object.freeze({
    method,
    params: Object.freeze(params),
    cell: LSTM_CELL_OPTIONS,
    ruleFor(slot: LayerSlot): Rule {
      if (slot.input === "real") notRelu(method, slot);
      if (slot.kind === "pool") return pool;
      if (slot.input === "nonnegative") return hidden;
      if (slot.input === "pixels") return pixels;
      if (inputDomain === "real") noMixedRealRule(method, slot);
      return MixedDomain({
        pixels: slot.pixels,
        low,
        high,
        alpha,
        beta,
        stabilizer,
      });
    },
  });
}

/**
 * LRP-αβ (thesis eq. 2.34): αβ on every layer with non-negative inputs, zᴮ
 * on the pixels (w² with `inputDomain: "real"`), the mixed rule (thesis eq.
 * 3.5–3.6 with α, β as thesis-code §3.3 (c)) on `[pixels ; states]`, Norm
 * on pooling.
 *
 * @see Bach et al. 2015; Montavon et al. 2017
 * @param options α, β (α − β = 1), bounds, stabiliser, input domain
 * @returns the composite
 * @throws {RangeError} if α − β ≠ 1, β < 0, low ≥ high, or the stabiliser is negative
 */
export function createAlphaBetaComposite(
  options: CompositeOptions = {},
): Composite {
  return boxComposite("lrp_alpha_beta", options);
}

/**
 * Deep Taylor decomposition (thesis Table 2.1): z⁺ on ReLU inputs, zᴮ on
 * bounded pixels, w² on real-valued pixels, the mixed rule (eq. 3.5–3.6) on
 * `[pixels ; states]`, Norm on pooling.
 *
 * @see Montavon et al. 2017, "Explaining nonlinear classification decisions with deep Taylor decomposition"
 * @param options bounds, stabiliser, input domain (α and β are ignored)
 * @returns the composite
 * @throws {RangeError} if low ≥ high or the stabiliser is negative
 */
export function createDeepTaylorComposite(
  options: CompositeOptions = {},
): Composite {
  return boxComposite("deep_taylor", options);
}

/**
 * LRP-ε: Epsilon(ε) on every dense, conv and pooling layer, biases in the
 * denominator and their share absorbed; ε = 0 is LRP-0.
 *
 * @see Bach et al. 2015
 * @param options ε
 * @returns the composite
 * @throws {RangeError} if ε is negative or not finite
 */
export function createEpsilonComposite(
  options: CompositeOptions = {},
): Composite {
  const epsilon = options.epsilon ?? 1e-9;
  const rule = Epsilon({ epsilon });
  return Object.freeze({
    method: "lrp_epsilon",
    params: Object.freeze({ epsilon }),
    cell: LSTM_CELL_OPTIONS,
    ruleFor: (): Rule => rule,
  });
}

/**
 * Builds the composite of a relevance method from its parameters.
 *
 * @param method the method
 * @param params its parameters (unset fields take the composite defaults)
 * @returns the composite
 * @throws {RangeError} if a parameter is out of range
 */
export function createComposite(
  method: RelevanceMethod,
  params: Readonly<MethodParams> = {},
): Composite {
  const options: CompositeOptions = {
    ...(params.alpha === undefined ? {} : { alpha: params.alpha }),
    ...(params.beta === undefined ? {} : { beta: params.beta }),
    ...(params.epsilon === undefined ? {} : { epsilon: params.epsilon }),
    ...(params.low === undefined ? {} : { low: params.low }),
    ...(params.high === undefined ? {} : { high: params.high }),
    ...(params.stabilizer === undefined
      ? {}
      : { stabilizer: params.stabilizer }),
    ...(params.inputDomain === undefined
      ? {}
      : { inputDomain: params.inputDomain }),
  };
  switch (method) {
    case "lrp_alpha_beta":
      return createAlphaBetaComposite(options);
    case "deep_taylor":
      return createDeepTaylorComposite(options);
    case "lrp_epsilon":
      return createEpsilonComposite(options);
  }
}

/** A named method + parameters pair. */
export interface CompositePreset {
  readonly method: MethodName;
  readonly params: Readonly<MethodParams>;
  /** What it is, with its source. */
  readonly description: string;
}

/**
 * The thesis's relevance variants by name (zennit-style keys): LRP α1β0,
 * α1.5β0.5 (the thesis's figures), α2β1, deep Taylor (bounded pixels, and
 * w² for real-valued inputs), LRP-ε and LRP-0.
 */
export const COMPOSITE_PRESETS: Readonly<Record<string, CompositePreset>> =
  Object.freeze({
    lrp_alpha1_beta0: {
      method: "lrp_alpha_beta",
      params: { alpha: 1, beta: 0 },
      description: "LRP-α1β0: z⁺ on hidden layers, zᴮ on pixels",
    },
    lrp_alpha1_5_beta0_5: {
      method: "lrp_alpha_beta",
      params: { alpha: 1.5, beta: 0.5 },
      description: "LRP-α1.5β0.5, the LRP variant of the thesis's figures",
    },
    lrp_alpha2_beta1: {
      method: "lrp_alpha_beta",
      params: { alpha: 2, beta: 1 },
      description: "LRP-α2β1 (Bach et al. 2015)",
    },
    deep_taylor_bounded: {
      method: "deep_taylor",
      params: { inputDomain: "bounded", low: -1, high: 1 },
      description: "Deep Taylor: z⁺ on ReLU inputs, zᴮ on pixels in [−1, 1]",
    },
    deep_taylor_real: {
      method: "deep_taylor",
      params: { inputDomain: "real" },
      description: "Deep Taylor: z⁺ on ReLU inputs, w² on real-valued pixels",
    },
    lrp_epsilon: {
      method: "lrp_epsilon",
      params: { epsilon: 1e-9 },
      description: "LRP-ε with the thesis code's ε = 1e-9",
    },
    lrp_zero: {
      method: "lrp_epsilon",
      params: { epsilon: 0 },
      description: "LRP-0: equals gradient × input on bias-free ReLU networks",
    },
  });
