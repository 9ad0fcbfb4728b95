/**
 * Integrated Gradients (Sundararajan et al. 2017), beyond the thesis.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { RnnModel } from "../../arch/rnn_model.ts";
import { NUM_CLASSES } from "../../arch/spec.ts";
import type { ExplainInput, Explanation } from "../explanation.ts";
import type { GradientOptions } from "./gradient_options.ts";
import {
  forwardLogits,
  logitsAndTargets,
  maxBatchOf,
  runGradientPass,
} from "./_gradient_pass.ts";
import { finishExplanation } from "./_explanation.ts";
import {
  checkInput,
  checkUnusedParams,
  integerParam,
  MAX_POINTS,
  numberParam,
} from "./_validate.ts";

/** Defaults of {@linkcode integratedGradients}. */
export const INTEGRATED_GRADIENTS_DEFAULTS: Readonly<
  { steps: number; baseline: number }
> = Object.freeze({ steps: 32, baseline: -1 });

/** The path rows x̄ + α_k (x − x̄) of points first … first + count − 1. */
function pathRows(
  x: tf.Tensor3D,
  first: number,
  count: number,
  steps: number,
  baseline: number,
): tf.Tensor {
  const [samples, t, d] = x.shape;
  const alphas = new Float32Array(count);
  for (let j = 0; j < count; j++) alphas[j] = (first + j + 0.5) / steps;
  const base = tf.scalar(baseline);
  const delta = tf.reshape(tf.sub(x, base), [samples, 1, t, d]);
  const path = tf.add(
    base,
    tf.mul(tf.tensor4d(alphas, [1, count, 1, 1]), delta),
  );
  return tf.reshape(path, [samples * count, t, d]);
}

/**
 * Integrated Gradients: R_i = (x_i − x̄_i) · ∫₀¹ ∂f/∂x_i(x̄ + α(x − x̄)) dα,
 * f the target logit, x̄ a constant baseline. The integral is the midpoint
 * Riemann sum over `steps` points α_k = (k + ½)/steps, k = 0 … steps − 1
 * (every point is a gradient evaluation; the endpoints are not on the
 * grid). All path points of all samples are differentiated in batches of
 * up to `maxBatch` rows. Relevance is signed.
 *
 * Parameters: `steps` (default 32, an integer in [1, 1024]) and `baseline`
 * (default −1, the pixel background of [−1, 1] inputs; any finite number).
 *
 * Summary: `startRelevance` = f(x) − f(x̄) for the target class;
 * `inputRelevance` = Σ_i R_i; `absorbedRelevance` and
 * `initialStateRelevance` are 0; `residual` = start − Σ_i R_i is the
 * completeness error of the Riemann sum. It shrinks as `steps` grows: along
 * the path a ReLU network's gradient is piecewise constant (with sigmoid
 * gates, smooth between kinks), so each kink crossed costs at most one
 * step's share of the jump.
 *
 * @see Sundararajan et al. 2017, "Axiomatic Attribution for Deep Networks"
 * @param model the network
 * @param input N sequences [N, T, rows · columns]
 * @param options target, `params.steps`/`baseline`, signal, `onStep`,
 *   `maxBatch`
 * @returns relevance [N, T, rows · columns] and per-sample summaries
 * @throws {RangeError|TypeError} if the input, a parameter or `maxBatch` is
 *   invalid, or a parameter other than `steps`/`baseline` is set
 * @throws {PreconditionError} for the true-label target without labels
 * @throws {OutOfRangeError} for a class past the last class
 * @throws the signal's reason when aborted
 */
export async function integratedGradients(
  model: RnnModel,
  input: ExplainInput,
  options: GradientOptions = {},
): Promise<Explanation> {
  const params = options.params;
  checkUnusedParams("integrated_gradients", params, ["steps", "baseline"]);
  const defaults = INTEGRATED_GRADIENTS_DEFAULTS;
  const steps = integerParam(
    "steps",
    params?.steps,
    defaults.steps,
    1,
    MAX_POINTS,
  );
  const baseline = numberParam("baseline", params?.baseline, defaults.baseline);
  maxBatchOf(options);
  checkInput(model, input);
  options.signal?.throwIfAborted();
  const { logits, targets } = await logitsAndTargets(model, input, options);
  // The baseline is the same constant sequence for every sample: one row.
  const size = input.x.length / input.count;
  const baseLogits = await forwardLogits(
    model,
    new Float32Array(size).fill(baseline),
    1,
    options,
  );
  const { sums } = await runGradientPass(model, input, targets, {
    points: steps,
    rows: (x, first, count) => pathRows(x, first, count, steps, baseline),
    square: false,
  }, options);
  options.signal?.throwIfAborted();
  const relevance = sums;
  for (let i = 0; i < relevance.length; i++) {
    relevance[i] = (input.x[i]! - baseline) * relevance[i]! / steps;
  }
  return await finishExplanation(model, {
    method: "integrated_gradients",
    params: { steps, baseline },
    relevance,
    logits,
    targets,
    conservation: (n) => ({
      start: logits[n * NUM_CLASSES + targets[n]!]! - baseLogits[targets[n]!]!,
      absorbed: 0,
      initialState: 0,
    }),
  }, options);
}
