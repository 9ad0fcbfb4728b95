/**
 * Options shared by the gradient methods.
 *
 * @module
 */
import type { ExplainOptions } from "../explanation.ts";

/**
 * Default number of sequences in one gradient computation. Path points
 * (Integrated Gradients) and noisy copies (SmoothGrad) count as sequences.
 * 256 sequences of the largest default model (ConvR-LSTM, T = 12, 28×7
 * steps) stay well inside the `wasm` backend's memory.
 */
export const DEFAULT_MAX_BATCH = 256;

/** {@linkcode ExplainOptions} plus the batching limit of gradient methods. */
export interface GradientOptions extends ExplainOptions {
  /**
   * Largest number of sequences differentiated in one gradient computation;
   * larger requests are split into chunks (results do not depend on it).
   * @default {@linkcode DEFAULT_MAX_BATCH}
   */
  readonly maxBatch?: number;
}
