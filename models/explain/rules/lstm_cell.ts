/**
 * The R-LSTM cell rule ("signal take all"): the gates are held constant and
 * receive no relevance; the cell relevance is split between the previous
 * cell state and the candidate.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { checkNonNegative, divideStabilized } from "../core.ts";

/** The cell quantities of one step, each `[N, R]`; the caller keeps ownership. */
export interface LstmCellTensors {
  /** c_{t−1} (zeros at t = 1). */
  previousCell: tf.Tensor;
  /** The forget gate f_t. */
  forget: tf.Tensor;
  /**
   * c_t = i_t ⊙ g_t + f_t ⊙ c_{t−1}, as the forward trace computed it; the
   * input gate and candidate enter only through it.
   */
  cell: tf.Tensor;
  /**
   * R(c_t): the relevance handed back from step t + 1 through c_t plus all of
   * R(h_t), since h_t = o_t ⊙ c_t passes everything to c_t (o held constant).
   */
  relevance: tf.Tensor;
}

/** Options of {@linkcode lstmCellRelevance}. */
export interface LstmCellOptions {
  /**
   * ε in `p = f ⊙ c_{t−1} / (c_t + ε)`; c_t ≥ 0 in the R-LSTM, so the
   * denominator is `c_t + ε`.
   * @default 1e-10 (the thesis code's cell-state split)
   */
  stabilizer?: number;
  /**
   * Who takes the stabiliser's share `ε / (c_t + ε) · R(c_t)`:
   * `"candidate"` (the thesis code: R(g) = (1 − p) ⊙ R(c_t), nothing is
   * absorbed) or `"absorbed"` (R(g) = i⊙g / (c_t + ε) ⊙ R(c_t) and the share
   * is reported as absorbed).
   * @default "candidate"
   */
  stabilizerShare?: "candidate" | "absorbed";
}

/** The result of {@linkcode lstmCellRelevance}; the caller owns the tensors. */
export interface LstmCellResult {
  /** R(c_{t−1}) = p ⊙ R(c_t), `[N, R]`. */
  previousCell: tf.Tensor;
  /** R(g_t), to go through the candidate's dense layer (z⁺/αβ), `[N, R]`. */
  candidate: tf.Tensor;
  /** Per-sample absorbed relevance `[N]` (zero unless `stabilizerShare` is `"absorbed"`). */
  absorbed: tf.Tensor1D;
}

function validate(t: LstmCellTensors): void {
  const shape = t.cell.shape;
  for (const [name, x] of Object.entries(t) as [string, tf.Tensor][]) {
    if (x.dtype !== "float32") {
      throw new TypeError(
        `Cannot apply the LSTM cell rule: ${name} has dtype "${x.dtype}", expected "float32"`,
      );
    }
    if (
      x.rank < 1 || x.rank !== shape.length ||
      x.shape.some((d, i) => d !== shape[i])
    ) {
      throw new TypeError(
        `Cannot apply the LSTM cell rule: ${name} has shape [${
          x.shape.join(", ")
        }], expected the cell shape [${shape.join(", ")}]`,
      );
    }
  }
}

/**
 * The R-LSTM cell rule (thesis-code §3.4 "R-LSTM"; the thesis, section
 * 3.4.2): with `p = f_t ⊙ c_{t−1} / (c_t + ε)`,
 * `R(c_{t−1}) = p ⊙ R(c_t)` and `R(g_t) = (1 − p) ⊙ R(c_t)`. The gates i, f,
 * o are held constant and get no relevance. Since every R-LSTM quantity is
 * ≥ 0, p ∈ [0, 1]; at t = 1, c_0 = 0 gives p = 0.
 *
 * Conservation: `R(c_{t−1}) + R(g_t) + absorbed = R(c_t)` per unit, exactly
 * by construction in both `stabilizerShare` modes.
 *
 * @see Arras et al. 2017, "Explaining recurrent neural network predictions in sentiment analysis"
 * @param tensors c_{t−1}, f_t, c_t and R(c_t), all `[N, R]`
 * @param options the stabiliser and who takes its share
 * @returns R(c_{t−1}), R(g_t) and the absorbed relevance; caller owns the returned tensors
 * @throws {TypeError} if a dtype or shape differs from the cell's
 * @throws {RangeError} if the stabiliser is negative or not finite, or `stabilizerShare` is unknown
 */
export function lstmCellRelevance(
  tensors: LstmCellTensors,
  options: LstmCellOptions = {},
): LstmCellResult {
  const stabilizer = options.stabilizer ?? 1e-10;
  const mode = options.stabilizerShare ?? "candidate";
  checkNonNegative("lstmCell", "stabilizer", stabilizer);
  if (mode !== "candidate" && mode !== "absorbed") {
    throw new RangeError(
      `Cannot create rule "lstmCell": stabilizerShare must be "candidate" or "absorbed", got "${mode}"`,
    );
  }
  validate(tensors);
  return tf.tidy(() => {
    const { previousCell, forget, cell, relevance } = tensors;
    const kept = tf.mul(forget, previousCell);
    const s = divideStabilized(relevance, cell, stabilizer);
    const previous = tf.mul(s.quotient, kept);
    const axes = cell.shape.map((_, i) => i).slice(1);
    if (mode === "candidate") {
      return {
        previousCell: previous,
        candidate: tf.sub(relevance, previous),
        absorbed: tf.zeros([cell.shape[0] as number]) as tf.Tensor1D,
      };
    }
    return {
      previousCell: previous,
      candidate: tf.mul(s.quotient, tf.sub(cell, kept)),
      absorbed: tf.sum(s.absorbed, axes) as tf.Tensor1D,
    };
  });
}
