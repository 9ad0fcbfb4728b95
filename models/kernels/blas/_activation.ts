/**
 * The activations of TF.js's fused kernels (`_FusedMatMul`, `FusedConv2D`)
 * applied in place, and the bias broadcast they start from.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

/** Activations applied here; `prelu` is left to the `wasm` kernel. */
const SUPPORTED = new Set([
  "linear",
  "relu",
  "relu6",
  "leakyrelu",
  "sigmoid",
  "elu",
]);

/** Whether {@linkcode applyActivation} handles `activation` (undefined means linear). */
export function activationSupported(activation: string | undefined): boolean {
  return activation === undefined || SUPPORTED.has(activation);
}

/**
 * Applies `activation` to every element of `values` in place, with the same
 * formulas as tfjs-core's `applyActivation`.
 */
export function applyActivation(
  values: Float32Array,
  activation: tf.fused.Activation | undefined,
  leakyreluAlpha = 0.2,
): void {
  const n = values.length;
  switch (activation ?? "linear") {
    case "linear":
      return;
    case "relu":
      for (let i = 0; i < n; i++) if (values[i]! < 0) values[i] = 0;
      return;
    case "relu6":
      for (let i = 0; i < n; i++) {
        values[i] = Math.min(Math.max(values[i]!, 0), 6);
      }
      return;
    case "leakyrelu":
      for (let i = 0; i < n; i++) {
        const v = values[i]!;
        if (v < 0) values[i] = leakyreluAlpha * v;
      }
      return;
    case "sigmoid":
      for (let i = 0; i < n; i++) values[i] = 1 / (1 + Math.exp(-values[i]!));
      return;
    case "elu":
      for (let i = 0; i < n; i++) {
        const v = values[i]!;
        if (v < 0) values[i] = Math.exp(v) - 1;
      }
      return;
    default:
      throw new RangeError(
        `Cannot apply activation "${activation}": not supported by the BLAS kernels`,
      );
  }
}

/**
 * Whether a bias of `biasShape` can be added to a [rows, n] output as one
 * value per column (shape [n], [1, n], …) or one value for all (size 1).
 */
export function biasSupported(
  biasShape: readonly number[],
  n: number,
): boolean {
  let size = 1;
  for (const d of biasShape) size *= d;
  if (size === 1) return true;
  return biasShape.length >= 1 && biasShape[biasShape.length - 1] === n &&
    size === n;
}

/** Fills `out` ([rows, n], row-major) with `bias` repeated over the rows. */
export function fillBias(
  out: Float32Array,
  bias: Float32Array,
  n: number,
): void {
  if (bias.length === 1) {
    out.fill(bias[0]!);
    return;
  }
  for (let offset = 0; offset < out.length; offset += n) out.set(bias, offset);
}
