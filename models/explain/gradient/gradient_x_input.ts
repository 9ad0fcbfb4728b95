/**
 * Gradient × input, the thesis's simple Taylor decomposition (thesis
 * §2.2.5; thesis-code §3.2).
 *
 * @module
 */
import type { RnnModel } from "../../arch/rnn_model.ts";
import { NUM_CLASSES } from "../../arch/spec.ts";
import type { ExplainInput, Explanation } from "../explanation.ts";
import type { GradientOptions } from "./gradient_options.ts";
import { gradientAtInput, maxBatchOf } from "./_gradient_pass.ts";
import { finishExplanation } from "./_explanation.ts";
import { checkInput, checkUnusedParams } from "./_validate.ts";

/**
 * Gradient × input: R_i = ∂f/∂x_i · x_i, f the target logit (thesis
 * eq. 2.40). Relevance is signed.
 *
 * Summary: `startRelevance` = f(x), the target logit; `inputRelevance` =
 * Σ_i R_i; the method does not track bias terms, so `absorbedRelevance` and
 * `initialStateRelevance` are 0 and `residual` = f(x) − Σ_i R_i holds
 * everything the inputs do not explain: bias contributions and, in the
 * R-LSTM family, the gates' nonlinearity. For bias-free ReLU networks
 * (bias mode `none`, no gates) f is positively homogeneous in x, so by
 * Euler's theorem the residual is 0 up to rounding (thesis eq. 2.39).
 *
 * Takes no parameters: any set in `options.params` is refused.
 *
 * @see Shrikumar et al. 2016; Ancona et al. 2018 (gradient × input)
 * @param model the network
 * @param input N sequences [N, T, rows · columns]
 * @param options target, signal, `onStep`, `maxBatch`
 * @returns relevance [N, T, rows · columns] and per-sample summaries
 * @throws {RangeError|TypeError} if the input or `maxBatch` is invalid
 * @throws {PreconditionError} for the true-label target without labels
 * @throws {OutOfRangeError} for a class past the last class
 * @throws the signal's reason when aborted
 */
export async function gradientXInput(
  model: RnnModel,
  input: ExplainInput,
  options: GradientOptions = {},
): Promise<Explanation> {
  checkUnusedParams("gradient_x_input", options.params, []);
  maxBatchOf(options);
  checkInput(model, input);
  options.signal?.throwIfAborted();
  const { gradient, logits, targets } = await gradientAtInput(
    model,
    input,
    options,
    { square: false },
  );
  options.signal?.throwIfAborted();
  const relevance = gradient;
  for (let i = 0; i < relevance.length; i++) relevance[i]! *= input.x[i]!;
  return await finishExplanation(model, {
    method: "gradient_x_input",
    params: {},
    relevance,
    logits,
    targets,
    conservation: (n) => ({
      start: logits[n * NUM_CLASSES + targets[n]!]!,
      absorbed: 0,
      initialState: 0,
    }),
  }, options);
}
