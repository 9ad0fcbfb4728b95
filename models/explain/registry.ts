/**
 * Every explanation method in one literal table (STYLE.md §3.4, tfjs's
 * `register_all_gradients.ts`): the attributor, the parameters with their
 * defaults, ranges and docs, and a validity check per architecture. This is
 * the data `ListExplainers` serves; {@linkcode explain} in `attributors.ts`
 * validates against it.
 *
 * Which (method, architecture) pairs are invalid, and why:
 *
 * | method | invalid when |
 * | --- | --- |
 * | `sensitivity`, `gradient_x_input`, `integrated_gradients`, `smoothgrad` | never: every architecture is differentiable |
 * | `guided_backprop` | a hidden layer is not ReLU (none of the thesis's eight) |
 * | `lrp_epsilon` | never: Epsilon is defined on every layer, also with ε = 0 |
 * | `lrp_alpha_beta`, `deep_taylor` | a layer reads values that are neither pixels nor ReLU outputs (none of the eight); with `inputDomain: "real"`, an architecture whose layer concatenates pixels with states (`shallow`, `conv_plus_deep`, `conv_plus_r_lstm`): w² has no mixed-domain form |
 *
 * Per request, zᴮ (the bounded input domain of `lrp_alpha_beta` and
 * `deep_taylor`) also needs every pixel within [low, high]; that is checked
 * on the input values, not here.
 *
 * @module
 */
import type { ArchitectureGraph } from "../arch/graph.ts";
import type { RnnModel } from "../arch/rnn_model.ts";
import { PreconditionError } from "../errors.ts";
import { createComposite, type RelevanceMethod } from "./composites.ts";
import type {
  ExplainInput,
  ExplainOptions,
  Explanation,
  MethodName,
  MethodParams,
} from "./explanation.ts";
import {
  gradientXInput,
  guidedBackprop,
  INTEGRATED_GRADIENTS_DEFAULTS,
  integratedGradients,
  sensitivity,
  smoothgrad,
  SMOOTHGRAD_DEFAULTS,
} from "./gradient/mod.ts";
import {
  activationDomains,
  createPassPlan,
  deepTaylor,
  lrpAlphaBeta,
  lrpEpsilon,
} from "./lrp/mod.ts";

/** An explanation method: `(model, input, options) => Promise<Explanation>`. */
export type Attributor = (
  model: RnnModel,
  input: ExplainInput,
  options: ExplainOptions,
) => Promise<Explanation>;

/** One parameter of a method, as `ListExplainers` reports it. */
export interface MethodParameter {
  /** The {@linkcode MethodParams} field. */
  readonly name: keyof MethodParams;
  /** What it does. */
  readonly description: string;
  /** `double`, `integer` or `choice`. */
  readonly type: "double" | "integer" | "choice";
  /** The default (numeric types). */
  readonly defaultValue?: number;
  /** The smallest accepted value, when bounded below. */
  readonly min?: number;
  /** Whether `min` itself is accepted. */
  readonly minInclusive?: boolean;
  /** The largest accepted value, when bounded above. */
  readonly max?: number;
  /** Whether `max` itself is accepted. */
  readonly maxInclusive?: boolean;
  /** The accepted values (`choice`). */
  readonly choices?: readonly string[];
  /** The default (`choice`). */
  readonly defaultChoice?: string;
}

/** Whether a method is defined for an architecture, and why not. */
export type Validity =
  | { readonly valid: true }
  | { readonly valid: false; readonly reason: string };

/** One row of the table. */
export interface ExplainerEntry {
  /** The registry key. */
  readonly method: MethodName;
  /** Human-readable name, e.g. "LRP-αβ". */
  readonly displayName: string;
  /** One paragraph on what it computes and its source. */
  readonly description: string;
  /** Whether start = input + absorbed + initial state holds (residual ~0). */
  readonly conservative: boolean;
  /** Its parameters (empty when it takes none). */
  readonly parameters: readonly MethodParameter[];
  /** A constraint linking parameters, e.g. "alpha - beta = 1"; empty when none. */
  readonly constraint: string;
  /** The method itself. */
  readonly attributor: Attributor;
  /**
   * Whether the method is defined for an architecture with these (resolved)
   * parameters.
   */
  validity(graph: ArchitectureGraph, params: Readonly<MethodParams>): Validity;
}

const VALID: Validity = Object.freeze({ valid: true });

/** Most path points / noisy copies per request (the gradient methods' cap). */
const MAX_POINTS = 1024;

const STABILIZER: MethodParameter = {
  name: "stabilizer",
  description:
    "Added to the z-rule denominators (αβ, z⁺, zᴮ, w², mixed, pooling) with the denominator's sign (thesis code: 1e-9)",
  type: "double",
  defaultValue: 1e-9,
  min: 0,
  minInclusive: true,
};

const BOX: readonly MethodParameter[] = [
  {
    name: "low",
    description: "Lower pixel bound of the zᴮ rule; every pixel must be ≥ low",
    type: "double",
    defaultValue: -1,
  },
  {
    name: "high",
    description:
      "Upper pixel bound of the zᴮ rule, above low; every pixel must be ≤ high",
    type: "double",
    defaultValue: 1,
  },
  STABILIZER,
  {
    name: "inputDomain",
    description:
      "Domain of the pixels: bounded (zᴮ with low/high) or real (w², undefined for layers that concatenate pixels with states)",
    type: "choice",
    choices: ["bounded", "real"],
    defaultChoice: "bounded",
  },
];

/** The relevance methods' validity: can the composite assign every layer a rule? */
function relevanceValidity(method: RelevanceMethod) {
  return (
    graph: ArchitectureGraph,
    params: Readonly<MethodParams>,
  ): Validity => {
    try {
      createPassPlan(graph, createComposite(method, params));
      return VALID;
    } catch (e) {
      if (e instanceof PreconditionError) {
        return { valid: false, reason: e.message };
      }
      throw e;
    }
  };
}

/** Guided backprop redefines the ReLU's gradient: every hidden layer must be ReLU. */
function reluValidity(graph: ArchitectureGraph): Validity {
  const domains = activationDomains(graph);
  for (const layer of [...graph.stepLayers, ...graph.headLayers]) {
    if (layer.kind !== "dense" && layer.kind !== "conv") continue;
    if (layer.activation === "relu" || layer.output === "logits") continue;
    if (domains.get(layer.output) !== "nonnegative") {
      return {
        valid: false,
        reason:
          `Cannot explain with "guided_backprop": hidden layer "${layer.name}" is not ReLU`,
      };
    }
  }
  return VALID;
}

const always = (): Validity => VALID;

/**
 * The table, in the API's method order. Defaults of the gradient methods
 * come from their own modules, so the two cannot drift apart.
 */
export const EXPLAINERS: readonly ExplainerEntry[] = Object.freeze(
  [
    {
      method: "sensitivity",
      displayName: "Sensitivity analysis",
      description:
        "(∂f/∂x)² per pixel, f the target logit (thesis eq. 2.26; Simonyan et al. 2013).",
      conservative: false,
      parameters: [],
      constraint: "",
      attributor: sensitivity,
      validity: always,
    },
    {
      method: "guided_backprop",
      displayName: "Guided backprop",
      description:
        "Squared input gradient with every ReLU passing only positive gradients where it is active (thesis eq. 2.29–2.30; Springenberg et al. 2014).",
      conservative: false,
      parameters: [{
        name: "gateGradient",
        description:
          "Gradient through the R-LSTM's sigmoid gates: zero (the thesis text) or keep (the released code)",
        type: "choice",
        choices: ["zero", "keep"],
        defaultChoice: "zero",
      }],
      constraint: "",
      attributor: guidedBackprop,
      validity: reluValidity,
    },
    {
      method: "gradient_x_input",
      displayName: "Gradient × input",
      description:
        "∂f/∂x ⊙ x, the simple Taylor decomposition (thesis eq. 2.40); equals LRP-0 on bias-free ReLU networks.",
      conservative: false,
      parameters: [],
      constraint: "",
      attributor: gradientXInput,
      validity: always,
    },
    {
      method: "lrp_alpha_beta",
      displayName: "LRP-αβ",
      description:
        "Layer-wise relevance propagation through time from relu(target logit): αβ on ReLU inputs, zᴮ on pixels, the mixed rule on [pixels ; states], the R-LSTM cell split (thesis eq. 2.34, 3.5–3.6; Bach et al. 2015). Presets α1β0, α1.5β0.5, α2β1.",
      conservative: true,
      parameters: [
        {
          name: "alpha",
          description:
            "Weight of positive contributions; alpha - beta = 1 (β + 1 when only beta is set)",
          type: "double",
          defaultValue: 1,
          min: 1,
          minInclusive: true,
        },
        {
          name: "beta",
          description:
            "Weight of negative contributions (α − 1 when only alpha is set)",
          type: "double",
          defaultValue: 0,
          min: 0,
          minInclusive: true,
        },
        ...BOX,
      ],
      constraint: "alpha - beta = 1; low < high",
      attributor: lrpAlphaBeta,
      validity: relevanceValidity("lrp_alpha_beta"),
    },
    {
      method: "lrp_epsilon",
      displayName: "LRP-ε",
      description:
        "Layer-wise relevance propagation through time from relu(target logit) with the ε-rule on every layer, biases absorbed; ε = 0 is LRP-0 (Bach et al. 2015).",
      conservative: true,
      parameters: [{
        name: "epsilon",
        description:
          "Added to every denominator with its sign; its share is absorbed",
        type: "double",
        defaultValue: 1e-9,
        min: 0,
        minInclusive: true,
      }],
      constraint: "",
      attributor: lrpEpsilon,
      validity: relevanceValidity("lrp_epsilon"),
    },
    {
      method: "deep_taylor",
      displayName: "Deep Taylor decomposition",
      description:
        "Relevance through time from relu(target logit): z⁺ on ReLU inputs, zᴮ on bounded pixels, w² on real-valued pixels, the mixed rule on [pixels ; states], the R-LSTM cell split (thesis Table 2.1; Montavon et al. 2017).",
      conservative: true,
      parameters: BOX,
      constraint: "low < high",
      attributor: deepTaylor,
      validity: relevanceValidity("deep_taylor"),
    },
    {
      method: "integrated_gradients",
      displayName: "Integrated Gradients",
      description:
        "(x − x̄) ⊙ the mean gradient along the straight path from a constant baseline x̄, midpoint Riemann sum; complete within the step error (Sundararajan et al. 2017).",
      conservative: true,
      parameters: [
        {
          name: "steps",
          description: "Number of path points (gradient evaluations)",
          type: "integer",
          defaultValue: INTEGRATED_GRADIENTS_DEFAULTS.steps,
          min: 1,
          minInclusive: true,
          max: MAX_POINTS,
          maxInclusive: true,
        },
        {
          name: "baseline",
          description:
            "The constant pixel value of the baseline image (−1: the background)",
          type: "double",
          defaultValue: INTEGRATED_GRADIENTS_DEFAULTS.baseline,
        },
      ],
      constraint: "",
      attributor: integratedGradients,
      validity: always,
    },
    {
      method: "smoothgrad",
      displayName: "SmoothGrad",
      description:
        "Sensitivity averaged over noisy copies of the input, x + N(0, noise²) (Smilkov et al. 2017).",
      conservative: false,
      parameters: [
        {
          name: "samples",
          description: "Number of noisy copies",
          type: "integer",
          defaultValue: SMOOTHGRAD_DEFAULTS.samples,
          min: 1,
          minInclusive: true,
          max: MAX_POINTS,
          maxInclusive: true,
        },
        {
          name: "noise",
          description:
            "Standard deviation of the Gaussian noise, in pixel units",
          type: "double",
          defaultValue: SMOOTHGRAD_DEFAULTS.noise,
          min: 0,
          minInclusive: true,
        },
        {
          name: "seed",
          description: "Seed of the noise, for reproducible explanations",
          type: "integer",
          defaultValue: SMOOTHGRAD_DEFAULTS.seed,
          min: 0,
          minInclusive: true,
          max: 2 ** 32 - 1,
          maxInclusive: true,
        },
      ],
      constraint: "",
      attributor: smoothgrad,
      validity: always,
    },
  ] satisfies ExplainerEntry[],
);

/**
 * Returns the table row of a method.
 *
 * @param method the registry key
 * @returns its entry
 * @throws {RangeError} if the method is unknown
 */
export function explainerFor(method: string): ExplainerEntry {
  const entry = EXPLAINERS.find((e) => e.method === method);
  if (entry === undefined) {
    throw new RangeError(
      `Cannot explain with "${method}": unknown method, expected one of ${
        EXPLAINERS.map((e) => `"${e.method}"`).join(", ")
      }`,
    );
  }
  return entry;
}

/**
 * A method's defaults as {@linkcode MethodParams}.
 *
 * @param method the registry key
 * @returns every parameter with its default
 * @throws {RangeError} if the method is unknown
 */
export function defaultParams(method: string): Readonly<MethodParams> {
  const out: Record<string, number | string> = {};
  for (const p of explainerFor(method).parameters) {
    const value = p.type === "choice" ? p.defaultChoice : p.defaultValue;
    if (value !== undefined) out[p.name] = value;
  }
  return Object.freeze(out) as Readonly<MethodParams>;
}
