/**
 * One step of the R-LSTM cell (thesis §3.4.2; thesis-code §2.8).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** The quantities of one R-LSTM step, each [batch, R]. */
export interface ReluLstmStep {
  /** Input gate σ(z_i). */
  i: tf.Tensor2D;
  /** Forget gate σ(z_f). */
  f: tf.Tensor2D;
  /** Output gate σ(z_o). */
  o: tf.Tensor2D;
  /** Candidate ReLU(z_g). */
  g: tf.Tensor2D;
  /** Cell c = i⊙g + f⊙c_prev. */
  c: tf.Tensor2D;
  /** Output h = o⊙c (no tanh). */
  h: tf.Tensor2D;
}

/** Functions the cell applies; the defaults give the plain cell. */
export interface ReluLstmCellOptions {
  /**
   * The ReLU of the candidate (guided backprop passes its own).
   * @default tf.relu
   */
  relu?: (z: tf.Tensor) => tf.Tensor;
  /**
   * The gates' sigmoid (a gradient-free one when gate gradients are zeroed).
   * @default tf.sigmoid
   */
  sigmoid?: (z: tf.Tensor) => tf.Tensor;
  /**
   * Applied to a gate value after the sigmoid (naive gate dropout).
   * @default identity
   */
  dropGate?: (gate: "i" | "f" | "o", value: tf.Tensor2D) => tf.Tensor2D;
}

/**
 * Runs one step from the fused pre-activation z = [in; h_prev]·K + bias,
 * whose column blocks are i, f, o, g.
 *
 * @param z pre-activations [batch, 4R]
 * @param cPrev the previous cell state [batch, R], or `null` when it is zero
 * @param options the nonlinearities and gate dropout
 * @returns the step's quantities; caller owns the returned tensors (h, c
 *   before any output dropout)
 */
export function reluLstmCell(
  z: tf.Tensor2D,
  cPrev: tf.Tensor2D | null,
  options: ReluLstmCellOptions = {},
): ReluLstmStep {
  const relu = options.relu ?? tf.relu;
  const sigmoid = options.sigmoid ?? tf.sigmoid;
  const drop = options.dropGate ?? ((_gate, v) => v);
  return tf.tidy(() => {
    const r = z.shape[1] / 4;
    const gates = sigmoid(tf.slice(z, [0, 0], [-1, 3 * r])) as tf.Tensor2D;
    const [i0, f0, o0] = tf.split(gates, 3, 1) as tf.Tensor2D[];
    const i = drop("i", i0!);
    const f = drop("f", f0!);
    const o = drop("o", o0!);
    const g = relu(tf.slice(z, [0, 3 * r], [-1, r])) as tf.Tensor2D;
    const ig = tf.mul(i, g);
    const c =
      (cPrev === null ? ig : tf.add(ig, tf.mul(f, cPrev))) as tf.Tensor2D;
    const h = tf.mul(o, c) as tf.Tensor2D;
    return { i, f, o, g, c, h };
  });
}
