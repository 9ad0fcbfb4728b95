/**
 * SmoothGrad (Smilkov et al. 2017), beyond the thesis.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { RnnModel } from "../../arch/rnn_model.ts";
import type { ExplainInput, Explanation } from "../explanation.ts";
import type { GradientOptions } from "./gradient_options.ts";
import {
  logitsAndTargets,
  maxBatchOf,
  runGradientPass,
} from "./_gradient_pass.ts";
import { finishExplanation } from "./_explanation.ts";
import { gaussianNoise } from "./_noise.ts";
import {
  checkInput,
  checkUnusedParams,
  integerParam,
  MAX_POINTS,
  numberParam,
} from "./_validate.ts";

/** Defaults of {@linkcode smoothgrad}. */
export const SMOOTHGRAD_DEFAULTS: Readonly<
  { samples: number; noise: number; seed: number }
> = Object.freeze({ samples: 16, noise: 0.2, seed: 0 });

/** The noisy rows x + ε_k of copies first … first + count − 1. */
function noisyRows(
  x: tf.Tensor3D,
  first: number,
  count: number,
  noise: number,
  seed: number,
): tf.Tensor {
  const [samples, t, d] = x.shape;
  const size = t * d;
  const eps = new Float32Array(count * size);
  for (let j = 0; j < count; j++) {
    eps.set(gaussianNoise(seed, first + j, size, noise), j * size);
  }
  const rows = tf.add(
    tf.reshape(x, [samples, 1, t, d]),
    tf.tensor4d(eps, [1, count, t, d]),
  );
  return tf.reshape(rows, [samples * count, t, d]);
}

/**
 * SmoothGrad of the sensitivity map: R_i = (1/S) Σ_k (∂f/∂x_i(x + ε_k))²,
 * ε_k ~ N(0, noise²) per pixel, f the target logit. Smilkov et al. average
 * gradient maps over noisy copies of the input; we average the *squared*
 * gradient (the "SmoothGrad-squared" variant of Hooker et al. 2019), so
 * SmoothGrad smooths this project's sensitivity map (thesis eq. 2.26), is
 * ≥ 0 like it, and equals it when noise = 0.
 *
 * Parameters: `samples` S (default 16, an integer in [1, 1024]; Smilkov et
 * al. saw little change beyond ~50); `noise` (default 0.2 = 10% of the
 * [−1, 1] pixel range, within the 10–20% Smilkov et al. recommend; ≥ 0);
 * `seed` (default 0, an integer in [0, 2³² − 1]). The k-th noise draw
 * depends on (seed, k) only and is shared by all samples of a call, so a
 * sample's explanation does not depend on the batch it is explained in.
 *
 * Summary: `inputRelevance` = Σ_i R_i; `startRelevance`,
 * `absorbedRelevance`, `initialStateRelevance` and `residual` are NaN (no
 * conservation).
 *
 * @see Smilkov et al. 2017, "SmoothGrad: removing noise by adding noise";
 *   Hooker et al. 2019, "A Benchmark for Interpretability Methods in Deep
 *   Neural Networks"
 * @param model the network
 * @param input N sequences [N, T, rows · columns]
 * @param options target, `params.samples`/`noise`/`seed`, signal, `onStep`,
 *   `maxBatch`
 * @returns relevance [N, T, rows · columns] and per-sample summaries
 * @throws {RangeError|TypeError} if the input, a parameter or `maxBatch` is
 *   invalid, or a parameter other than `samples`/`noise`/`seed` is set
 * @throws {PreconditionError} for the true-label target without labels
 * @throws {OutOfRangeError} for a class past the last class
 * @throws the signal's reason when aborted
 */
export async function smoothgrad(
  model: RnnModel,
  input: ExplainInput,
  options: GradientOptions = {},
): Promise<Explanation> {
  const params = options.params;
  checkUnusedParams("smoothgrad", params, ["samples", "noise", "seed"]);
  const defaults = SMOOTHGRAD_DEFAULTS;
  const samples = integerParam(
    "samples",
    params?.samples,
    defaults.samples,
    1,
    MAX_POINTS,
  );
  const noise = numberParam("noise", params?.noise, defaults.noise, 0);
  const seed = integerParam(
    "seed",
    params?.seed,
    defaults.seed,
    0,
    2 ** 32 - 1,
  );
  maxBatchOf(options);
  checkInput(model, input);
  options.signal?.throwIfAborted();
  const { logits, targets } = await logitsAndTargets(model, input, options);
  const { sums } = await runGradientPass(model, input, targets, {
    points: samples,
    rows: (x, first, count) => noisyRows(x, first, count, noise, seed),
    square: true,
  }, options);
  options.signal?.throwIfAborted();
  const relevance = sums;
  for (let i = 0; i < relevance.length; i++) relevance[i]! /= samples;
  return await finishExplanation(model, {
    method: "smoothgrad",
    params: { samples, noise, seed },
    relevance,
    logits,
    targets,
  }, options);
}
