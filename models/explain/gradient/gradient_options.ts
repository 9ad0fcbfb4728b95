/**
 * Options shared by the gradient methods.
 *
 * @module
 */
import type { ExplainOptions } from "../explanation.ts";

/**
 * Default number of sequences in one gradient computation. Path points
 * (Integrated Gradients) and noisy copies (SmoothGrad) count as sequences.
 * Measured on ConvR-LSTM (T = 12, 28×7 steps, `wasm`): peak tensor memory
 * 212 MB at 64 rows against 827 MB at 256, at about the same rows per
 * second (Integrated Gradients of 8 samples: 1.3 s at 64, 1.1 s at 128,
 * 1.4 s at 256 on a busy machine).
 */
export const DEFAULT_MAX_BATCH = 64;

/** {@linkcode ExplainOptions} plus the batching limit of gradient methods. */
export interface GradientOptions extends ExplainOptions {
  /**
   * Largest number of sequences differentiated in one gradient computation;
   * larger requests are split into chunks (results do not depend on it).
   * @default {@linkcode DEFAULT_MAX_BATCH}
   */
  readonly maxBatch?: number;
}
