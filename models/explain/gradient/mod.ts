/**
 * Gradient-based explanation methods, each batched over N sequences (one
 * gradient computation for all of them, chunked only above `maxBatch`
 * rows), streamed step by step from T − 1 down to 0, and free of tensor
 * leaks on every path.
 *
 * | method | relevance | parameters (defaults) |
 * | --- | --- | --- |
 * | {@linkcode sensitivity} | (∂f/∂x)² | — |
 * | {@linkcode guidedBackprop} | (∂*f/∂x)², guided ReLUs | `gateGradient` (`"zero"`) |
 * | {@linkcode gradientXInput} | ∂f/∂x ⊙ x | — |
 * | {@linkcode integratedGradients} | (x − x̄) ⊙ mean ∂f/∂x on the path | `steps` (32, midpoint), `baseline` (−1) |
 * | {@linkcode smoothgrad} | mean (∂f/∂x)² at x + ε | `samples` (16), `noise` (0.2), `seed` (0) |
 *
 * f is the target logit, not rectified (thesis-code §3.1). Every method has
 * the signature `(model, input, options) => Promise<Explanation>`.
 *
 * @example
 * ```ts
 * const explanation = await sensitivity(model, { x, count: 2, labels }, {
 *   onStep: ({ step, sums }) => console.log(step, sums),
 * });
 * ```
 *
 * @module
 */
export { DEFAULT_MAX_BATCH, type GradientOptions } from "./gradient_options.ts";
export { guidedRelu } from "./guided_relu.ts";
export { sensitivity } from "./sensitivity.ts";
export { guidedBackprop } from "./guided_backprop.ts";
export { gradientXInput } from "./gradient_x_input.ts";
export {
  INTEGRATED_GRADIENTS_DEFAULTS,
  integratedGradients,
} from "./integrated_gradients.ts";
export { smoothgrad, SMOOTHGRAD_DEFAULTS } from "./smoothgrad.ts";
