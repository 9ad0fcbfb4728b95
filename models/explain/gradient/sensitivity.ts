/**
 * Sensitivity analysis (thesis §2.2.2; thesis-code §3.1–3.2).
 *
 * @module
 */
import type { RnnModel } from "../../arch/rnn_model.ts";
import type { ExplainInput, Explanation } from "../explanation.ts";
import type { GradientOptions } from "./gradient_options.ts";
import { gradientAtInput, maxBatchOf } from "./_gradient_pass.ts";
import { finishExplanation } from "./_explanation.ts";
import { checkInput, checkUnusedParams } from "./_validate.ts";

/**
 * Sensitivity analysis: R_i = (∂f/∂x_i)², f the target logit (not
 * rectified; thesis eq. 2.26). One batched gradient computation for all N
 * samples; each step's relevance is handed to `onStep` from T − 1 down to 0
 * once the gradient exists. Relevance is ≥ 0 and Σ_i R_i = ‖∇f‖²
 * (eq. 2.27).
 *
 * Summary: `inputRelevance` = ‖∇f‖²; sensitivity redistributes no start
 * quantity, so `startRelevance`, `absorbedRelevance`,
 * `initialStateRelevance` and `residual` are NaN.
 *
 * Takes no parameters: any set in `options.params` is refused.
 *
 * @see Simonyan et al. 2013, "Deep Inside Convolutional Networks"
 * @param model the network
 * @param input N sequences [N, T, rows · columns] (and labels for the
 *   default true-label target)
 * @param options target, signal, `onStep`, `maxBatch`
 * @returns relevance [N, T, rows · columns] and per-sample summaries
 * @throws {RangeError|TypeError} if the input or `maxBatch` is invalid
 * @throws {PreconditionError} for the true-label target without labels
 * @throws {OutOfRangeError} for a class past the last class
 * @throws the signal's reason when aborted
 */
export async function sensitivity(
  model: RnnModel,
  input: ExplainInput,
  options: GradientOptions = {},
): Promise<Explanation> {
  checkUnusedParams("sensitivity", options.params, []);
  maxBatchOf(options);
  checkInput(model, input);
  options.signal?.throwIfAborted();
  const { gradient, logits, targets } = await gradientAtInput(
    model,
    input,
    options,
    { square: true },
  );
  options.signal?.throwIfAborted();
  return await finishExplanation(model, {
    method: "sensitivity",
    params: {},
    relevance: gradient,
    logits,
    targets,
  }, options);
}
