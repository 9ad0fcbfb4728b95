/**
 * Guided backpropagation (thesis §2.2.3; thesis-code §3.2).
 *
 * @module
 */
import type { RnnModel } from "../../arch/rnn_model.ts";
import type { ExplainInput, Explanation } from "../explanation.ts";
import type { GradientOptions } from "./gradient_options.ts";
import { gradientAtInput, maxBatchOf } from "./_gradient_pass.ts";
import { finishExplanation } from "./_explanation.ts";
import { guidedRelu } from "./guided_relu.ts";
import { checkInput, checkUnusedParams } from "./_validate.ts";

/** The gate-gradient choices of guided backprop. */
const GATE_GRADIENTS = ["zero", "keep"] as const;

/**
 * Guided backprop: R_i = (∂*f/∂x_i)², where every ReLU (dense, convolution,
 * the R-LSTM candidate) passes back grad·[grad > 0]·[output > 0]
 * (thesis eq. 2.29–2.30, {@linkcode guidedRelu}) and f is the target logit.
 * Relevance is ≥ 0.
 *
 * Parameters: `gateGradient` (default `"zero"`): the R-LSTM's sigmoid gates
 * pass no gradient, as the thesis text says (§3.4.2); `"keep"` gives them
 * their ordinary gradient, as the released code did (thesis-code §3.2). The
 * two differ by 33–62% on trained R-LSTMs (thesis-code §8); models without
 * gates are unaffected.
 *
 * Summary: `inputRelevance` = ‖∇*f‖²; `startRelevance`,
 * `absorbedRelevance`, `initialStateRelevance` and `residual` are NaN (no
 * conservation).
 *
 * @see Springenberg et al. 2014, "Striving for Simplicity: The All
 *   Convolutional Net"
 * @param model the network
 * @param input N sequences [N, T, rows · columns]
 * @param options target, `params.gateGradient`, signal, `onStep`, `maxBatch`
 * @returns relevance [N, T, rows · columns] and per-sample summaries
 * @throws {RangeError|TypeError} if the input, `gateGradient` or `maxBatch`
 *   is invalid
 * @throws {PreconditionError} for the true-label target without labels
 * @throws {OutOfRangeError} for a class past the last class
 * @throws the signal's reason when aborted
 */
export async function guidedBackprop(
  model: RnnModel,
  input: ExplainInput,
  options: GradientOptions = {},
): Promise<Explanation> {
  checkUnusedParams("guided_backprop", options.params, ["gateGradient"]);
  const gateGradient = options.params?.gateGradient ?? "zero";
  if (!GATE_GRADIENTS.includes(gateGradient)) {
    throw new RangeError(
      `Cannot explain with gateGradient = ${
        JSON.stringify(gateGradient)
      }: gateGradient must be "zero" or "keep"`,
    );
  }
  maxBatchOf(options);
  checkInput(model, input);
  options.signal?.throwIfAborted();
  const { gradient, logits, targets } = await gradientAtInput(
    model,
    input,
    options,
    { square: true, forward: { relu: guidedRelu, gateGradient } },
  );
  options.signal?.throwIfAborted();
  return await finishExplanation(model, {
    method: "guided_backprop",
    params: { gateGradient },
    relevance: gradient,
    logits,
    targets,
  }, options);
}
