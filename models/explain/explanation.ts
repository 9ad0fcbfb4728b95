/**
 * The shared vocabulary of every explanation method: method names, targets,
 * parameters, per-step output and the summary. Attributors (LRP/deep Taylor
 * relevance passes and gradient methods) take and return these plain types,
 * so nothing outside `models/` sees a tensor.
 *
 * @module
 */
import { OutOfRangeError, PreconditionError } from "../errors.ts";

/** Registry keys of the explanation methods (snake_case, as in the proto enum). */
export type MethodName =
  | "sensitivity"
  | "guided_backprop"
  | "gradient_x_input"
  | "lrp_alpha_beta"
  | "lrp_epsilon"
  | "deep_taylor"
  | "integrated_gradients"
  | "smoothgrad";

/** Every method name, in the order the API lists them. */
export const METHOD_NAMES: readonly MethodName[] = [
  "sensitivity",
  "guided_backprop",
  "gradient_x_input",
  "lrp_alpha_beta",
  "lrp_epsilon",
  "deep_taylor",
  "integrated_gradients",
  "smoothgrad",
];

/**
 * Which logit is explained. The thesis explains the true class (LRP and deep
 * Taylor start from relu(true-class logit), gradient methods differentiate
 * the true-class logit).
 */
export type Target =
  | { readonly kind: "true_label" }
  | { readonly kind: "predicted" }
  | { readonly kind: "class"; readonly index: number };

/**
 * Method parameters. Unset fields take the method's documented defaults; an
 * {@linkcode Explanation} echoes the values actually used.
 */
export interface MethodParams {
  /** LRP-αβ α (α − β = 1, α ≥ 1). */
  alpha?: number;
  /** LRP-αβ β ≥ 0. */
  beta?: number;
  /** LRP-ε ε ≥ 0. */
  epsilon?: number;
  /** zᴮ lower input bound (pixels: −1). */
  low?: number;
  /** zᴮ upper input bound (pixels: +1). */
  high?: number;
  /** Denominator stabiliser of the z-rules (thesis-code: 1e-9). */
  stabilizer?: number;
  /** Input domain of the first layer for deep Taylor: `bounded` → zᴮ, `real` → w². */
  inputDomain?: "bounded" | "real";
  /** Guided backprop through sigmoid gates: `zero` (thesis text) or `keep` (released code). */
  gateGradient?: "zero" | "keep";
  /** Integrated Gradients: number of Riemann steps. */
  steps?: number;
  /** Integrated Gradients: the constant baseline pixel value (pixels: −1, the background). */
  baseline?: number;
  /** SmoothGrad: number of noisy samples. */
  samples?: number;
  /** SmoothGrad: noise standard deviation, in input units. */
  noise?: number;
  /** SmoothGrad: seed of the noise. */
  seed?: number;
}

/** Sequences to explain: [count, T, rows · columns], each step row-major. */
export interface ExplainInput {
  readonly x: Float32Array;
  readonly count: number;
  /** True labels, required for the `true_label` target. */
  readonly labels?: Uint8Array;
}

/** Relevance of one time step for every sample, handed out as soon as it exists. */
export interface StepRelevance {
  /** Time step index t, 0-based; produced from T − 1 down to 0. */
  readonly step: number;
  /** [count, rows · columns]. */
  readonly relevance: Float32Array;
  /** Σ of each sample's relevance at this step, [count]. */
  readonly sums: Float64Array;
}

/** Per-sample summary of one explanation (what the API's summary carries). */
export interface ExplanationSummary {
  /** argmax of the 10 real logits. */
  readonly predictedClass: number;
  /** The explained class. */
  readonly targetClass: number;
  /** The explained class's logit. */
  readonly targetLogit: number;
  /** Relevance the explanation started from (LRP: relu(target logit)). */
  readonly startRelevance: number;
  /** Σ of input relevance over all steps. */
  readonly inputRelevance: number;
  /** Relevance absorbed by biases and stabilisers. */
  readonly absorbedRelevance: number;
  /** Relevance left at the initial recurrent state (zeros at t = 0). */
  readonly initialStateRelevance: number;
  /** start − (input + absorbed + initial state); ~0 for conservative methods, NaN where conservation does not apply. */
  readonly residual: number;
}

/** Options of an attributor call. */
export interface ExplainOptions {
  /** @default { kind: "true_label" } */
  readonly target?: Target;
  readonly params?: MethodParams;
  /** Checked between time steps; an abort rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * How a long pass lets other work run (at most every 10 ms, right before
   * it checks `signal`). The default, a macrotask (`setTimeout(0)`, about
   * 2 ms in Deno), lets abort events, timers and I/O through. A caller that
   * learns of cancellation without its event loop (a compute worker reading
   * a shared cancel flag, which aborts `signal` here) passes a cheaper one.
   * @default a `setTimeout(0)` round trip
   */
  readonly yieldToEventLoop?: () => void | Promise<void>;
  /**
   * Receives each step's relevance as soon as it is computed (T − 1 down to
   * 0). With it, the LRP / deep Taylor passes finish each step's input
   * layers right after the step (streaming); without it they walk the input
   * layers once over all steps at the end (cheaper, for batch work). The
   * gradient methods hand out the steps once the gradient exists.
   */
  readonly onStep?: (step: StepRelevance) => void;
}

/** A finished explanation of `count` sequences. */
export interface Explanation {
  readonly method: MethodName;
  /** The parameters used, defaults filled in. */
  readonly params: Readonly<MethodParams>;
  /** [count, T, rows · columns]. */
  readonly relevance: Float32Array;
  readonly summaries: readonly ExplanationSummary[];
}

/**
 * Resolves the explained class of every sample.
 *
 * @param logits [count, 10] row-major
 * @throws {PreconditionError} when the target is the true label and no labels were given
 * @throws {OutOfRangeError} when an explicit class is past the last class
 */
export function resolveTargets(
  logits: Float32Array,
  count: number,
  target: Target,
  labels?: Uint8Array,
  classes = 10,
): Int32Array {
  const out = new Int32Array(count);
  if (target.kind === "class") {
    if (
      !Number.isInteger(target.index) || target.index < 0 ||
      target.index >= classes
    ) {
      throw new OutOfRangeError(
        `Cannot explain class ${target.index}: classes run from 0 to ${
          classes - 1
        }`,
      );
    }
    return out.fill(target.index);
  }
  if (target.kind === "true_label") {
    if (labels === undefined || labels.length !== count) {
      throw new PreconditionError(
        `Cannot explain the true label: ${
          labels === undefined
            ? "no labels were given"
            : `${labels.length} labels for ${count} samples`
        }`,
      );
    }
    for (let n = 0; n < count; n++) out[n] = labels[n];
    return out;
  }
  for (let n = 0; n < count; n++) out[n] = argmax(logits, n * classes, classes);
  return out;
}

/** Index of the largest of `length` values starting at `offset`. */
export function argmax(
  values: ArrayLike<number>,
  offset: number,
  length: number,
): number {
  let best = 0;
  for (let k = 1; k < length; k++) {
    if (values[offset + k] > values[offset + best]) best = k;
  }
  return best;
}

/** What {@linkcode yieldIfDue} reads of a pass's options. */
export type YieldOptions = Pick<ExplainOptions, "signal" | "yieldToEventLoop">;

function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Yields to the event loop (`options.yieldToEventLoop`, by default a
 * macrotask) when more than `budgetMs` passed since `since`, so that abort
 * messages and streams stay responsive during long passes without paying a
 * macrotask per step; then checks the signal.
 *
 * @param since the time of the last yield (`performance.now()`)
 * @param options the pass's signal and way of yielding
 * @param budgetMs the most milliseconds between two yields
 * @returns the time of the last yield
 */
export async function yieldIfDue(
  since: number,
  options: YieldOptions = {},
  budgetMs = 10,
): Promise<number> {
  let now = performance.now();
  if (now - since > budgetMs) {
    await (options.yieldToEventLoop ?? macrotask)();
    now = performance.now();
  }
  options.signal?.throwIfAborted();
  return now;
}
