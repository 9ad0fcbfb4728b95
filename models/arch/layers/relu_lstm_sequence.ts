/**
 * A whole R-LSTM recurrence as one differentiable op with a hand-written
 * backward pass through time, for training.
 *
 * Why: TensorFlow.js records every op of a step on its gradient tape and
 * clones each saved input (an `Identity` kernel, a copy on `wasm`), so a
 * taped R-LSTM step cost ~100 kernel launches forward and backward, and
 * launch overhead (~20–60 µs each), not arithmetic, dominated training. Here
 * only the recurrent products h·K and dz·Kᵀ run as kernels; the element-wise
 * cell (a few thousand units per step) runs in plain JavaScript on
 * `Float32Array`s, which is faster than launching its ~25 kernels. Nothing
 * inside is taped, and the backward pass reads plain arrays kept by the
 * forward pass (no tensor is closed over).
 *
 * Forward, with z_t = pre_t + h_{t−1}·K (h_{−1} = c_{−1} = 0), column blocks
 * i, f, o, g, gate masks m (naive gate dropout, or ones) and output masks
 * m_h (dropout on h, or ones):
 *   s = σ(z_{ifo}), [i, f, o] = m ⊙ s, g = ReLU(z_g),
 *   c_t = i ⊙ g + f ⊙ c_{t−1}, h_t = m_h ⊙ o ⊙ c_t.
 * Backward, given dh_t (from the head at T−1, from step t+1 otherwise):
 *   dh' = m_h ⊙ dh, dc = dh' ⊙ o + dc_{t+1} ⊙ f_{t+1},
 *   dz_i = dc ⊙ g ⊙ m_i s_i(1 − s_i), dz_f = dc ⊙ c_{t−1} ⊙ m_f s_f(1 − s_f),
 *   dz_o = dh' ⊙ c ⊙ m_o s_o(1 − s_o), dz_g = dc ⊙ i ⊙ [g > 0],
 *   dh_{t−1} = dz_t·Kᵀ, dK = Σ_t h_{t−1}ᵀ·dz_t, dpre_t = dz_t.
 *
 * Only the default cell is fused: a caller-supplied ReLU or zeroed gate
 * gradients (explainers) take the step-by-step path, which tests compare
 * this op against.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

type GradArgs = (tf.Tensor | tf.GradSaveFunc)[];

/**
 * Dropout masks of a recurrence as plain arrays, time-major, already scaled
 * by 1/keep.
 */
export interface ReluLstmSequenceMasks {
  /** [T·N, 3R] row-major: the i, f, o masks side by side. */
  gates?: Float32Array;
  /** [T·N, R] row-major: the mask of h. */
  h?: Float32Array;
}

/** Per-step values the backward pass needs, [N, ·] row-major each. */
interface Tape {
  /** σ(z_{ifo}) before masking, [N, 3R]. */
  s: Float32Array[];
  g: Float32Array[];
  c: Float32Array[];
  h: Float32Array[];
}

interface Shape {
  steps: number;
  n: number;
  r: number;
}

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** One step of the cell on plain arrays; z is [N, 4R], the result is h. */
function cellForward(
  z: Float32Array,
  cPrev: Float32Array | undefined,
  shape: Shape,
  step: number,
  masks: ReluLstmSequenceMasks,
  tape: Tape,
): Float32Array {
  const { n, r } = shape;
  const s = new Float32Array(n * 3 * r);
  const g = new Float32Array(n * r);
  const c = new Float32Array(n * r);
  const h = new Float32Array(n * r);
  const gateBase = step * n * 3 * r;
  const hBase = step * n * r;
  for (let row = 0; row < n; row++) {
    for (let u = 0; u < r; u++) {
      const zi = row * 4 * r + u;
      const si = row * 3 * r + u;
      const k = row * r + u;
      const sI = (s[si] = sigmoid(z[zi]!));
      const sF = (s[si + r] = sigmoid(z[zi + r]!));
      const sO = (s[si + 2 * r] = sigmoid(z[zi + 2 * r]!));
      const gate = masks.gates;
      const i = gate ? sI * gate[gateBase + si]! : sI;
      const f = gate ? sF * gate[gateBase + si + r]! : sF;
      const o = gate ? sO * gate[gateBase + si + 2 * r]! : sO;
      const gv = (g[k] = Math.max(0, z[zi + 3 * r]!));
      const cv = (c[k] = i * gv + (cPrev ? f * cPrev[k]! : 0));
      h[k] = o * cv * (masks.h ? masks.h[hBase + k]! : 1);
    }
  }
  tape.s.push(s);
  tape.g.push(g);
  tape.c.push(c);
  tape.h.push(h);
  return h;
}

/**
 * One step of the backward pass: writes dz_t into `dz` and returns
 * dc_t ⊙ f_t for step t−1 (the part of dc_{t−1} that flows through c).
 */
function cellBackward(
  dh: Float32Array,
  dcNext: Float32Array | undefined,
  shape: Shape,
  step: number,
  masks: ReluLstmSequenceMasks,
  tape: Tape,
  dz: Float32Array,
): Float32Array {
  const { n, r } = shape;
  const s = tape.s[step]!;
  const g = tape.g[step]!;
  const c = tape.c[step]!;
  const cPrev = step > 0 ? tape.c[step - 1] : undefined;
  const carry = new Float32Array(n * r);
  const gateBase = step * n * 3 * r;
  const hBase = step * n * r;
  const gate = masks.gates;
  for (let row = 0; row < n; row++) {
    for (let u = 0; u < r; u++) {
      const k = row * r + u;
      const si = row * 3 * r + u;
      const zi = row * 4 * r + u;
      const mI = gate ? gate[gateBase + si]! : 1;
      const mF = gate ? gate[gateBase + si + r]! : 1;
      const mO = gate ? gate[gateBase + si + 2 * r]! : 1;
      const sI = s[si]!;
      const sF = s[si + r]!;
      const sO = s[si + 2 * r]!;
      const dhm = dh[k]! * (masks.h ? masks.h[hBase + k]! : 1);
      const dc = dhm * sO * mO + (dcNext ? dcNext[k]! : 0);
      dz[zi] = dc * g[k]! * mI * sI * (1 - sI);
      dz[zi + r] = cPrev ? dc * cPrev[k]! * mF * sF * (1 - sF) : 0;
      dz[zi + 2 * r] = dhm * c[k]! * mO * sO * (1 - sO);
      dz[zi + 3 * r] = g[k]! > 0 ? dc * sI * mI : 0;
      carry[k] = dc * sF * mF;
    }
  }
  return carry;
}

/** h·K on the backend, returned as plain values. */
function product(
  values: Float32Array,
  rows: number,
  kernel: tf.Tensor2D,
): Float32Array {
  const out = tf.tidy(() =>
    tf.matMul(tf.tensor2d(values, [rows, kernel.shape[0]]), kernel)
  );
  try {
    return out.dataSync() as Float32Array;
  } finally {
    out.dispose();
  }
}

function forward(
  pre: Float32Array,
  kernel: tf.Tensor2D,
  shape: Shape,
  masks: ReluLstmSequenceMasks,
): { h: Float32Array; tape: Tape } {
  const { steps, n, r } = shape;
  const tape: Tape = { s: [], g: [], c: [], h: [] };
  let h: Float32Array | undefined;
  for (let t = 0; t < steps; t++) {
    const z = pre.slice(t * n * 4 * r, (t + 1) * n * 4 * r);
    if (h !== undefined) {
      const hk = product(h, n, kernel);
      for (let j = 0; j < z.length; j++) z[j] += hk[j]!;
    }
    h = cellForward(z, tape.c.at(-1), shape, t, masks, tape);
  }
  return { h: h!, tape };
}

function backward(
  dy: Float32Array,
  kernelT: tf.Tensor2D,
  shape: Shape,
  masks: ReluLstmSequenceMasks,
  tape: Tape,
): { dPre: tf.Tensor2D; dKernel: tf.Tensor2D } {
  const { steps, n, r } = shape;
  const dz = new Float32Array(steps * n * 4 * r);
  let dh = dy;
  let carry: Float32Array | undefined;
  for (let t = steps - 1; t >= 0; t--) {
    const dzT = dz.subarray(t * n * 4 * r, (t + 1) * n * 4 * r);
    carry = cellBackward(dh, carry, shape, t, masks, tape, dzT);
    if (t > 0) dh = product(dzT, n, kernelT);
  }
  const dPre = tf.tensor2d(dz, [steps * n, 4 * r]);
  if (steps === 1) return { dPre, dKernel: tf.zeros([r, 4 * r]) };
  // dK = Σ_t h_{t−1}ᵀ dz_t as one product: [R, (T−1)·N] · [(T−1)·N, 4R].
  const hPrevT = new Float32Array(r * (steps - 1) * n);
  for (let t = 0; t < steps - 1; t++) {
    const h = tape.h[t]!;
    for (let row = 0; row < n; row++) {
      for (let u = 0; u < r; u++) {
        hPrevT[u * (steps - 1) * n + t * n + row] = h[row * r + u]!;
      }
    }
  }
  const dKernel: tf.Tensor2D = tf.matMul(
    tf.tensor2d(hPrevT, [r, (steps - 1) * n]),
    tf.tensor2d(dz.subarray(n * 4 * r), [(steps - 1) * n, 4 * r]),
  );
  return { dPre, dKernel };
}

/**
 * Runs an R-LSTM over all steps and returns the last output h_{T−1}.
 *
 * @param pre the non-recurrent part of every step's pre-activation,
 *   time-major [T·N, 4R] (input·K_in plus the biases)
 * @param kernel the recurrent rows of the fused kernel, [R, 4R]
 * @param steps T
 * @param masks dropout masks, when training with dropout
 * @returns h_{T−1} [N, R]; caller owns the returned tensor
 */
export function reluLstmSequence(
  pre: tf.Tensor2D,
  kernel: tf.Tensor2D,
  steps: number,
  masks: ReluLstmSequenceMasks = {},
): tf.Tensor2D {
  const r = kernel.shape[0];
  const shape: Shape = { steps, n: pre.shape[0] / steps, r };
  const op = tf.customGrad((...args: GradArgs) => {
    const [p, k, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    const { h, tape } = forward(p.dataSync() as Float32Array, k, shape, masks);
    save([k]);
    return {
      value: tf.tensor2d(h, [shape.n, r]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const kernelT = tf.transpose(saved[0] as tf.Tensor2D);
        const { dPre, dKernel } = backward(
          dy.dataSync() as Float32Array,
          kernelT,
          shape,
          masks,
          tape,
        );
        return [dPre, dKernel];
      },
    };
  });
  return (op as (p: tf.Tensor2D, k: tf.Tensor2D) => tf.Tensor2D)(pre, kernel);
}
