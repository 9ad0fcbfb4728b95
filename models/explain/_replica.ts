/**
 * Slow, independent replicas of the LRP rules for tests: plain JavaScript
 * loops over Float64Arrays, written from the rule formulas (thesis §2.2,
 * eq. 3.5–3.6, thesis-code §3.3–3.4), not from the tensor engine.
 *
 * Every linear layer is first written out as its list of connections
 * ("edges" i → j with weight w_ij): all pairs for dense, the in-bounds taps of
 * each window for conv2d (explicit `SAME` padding loops), the valid elements
 * of each window for the pooling map. Every rule is then a loop over edges.
 * Indices are per sample and row-major (NHWC for images).
 *
 * @module
 */

/** A linear layer written out as its connections, for one sample. */
export interface Edges {
  /** Inputs per sample (I, or H·W·C). */
  inputs: number;
  /** Outputs per sample (J, or H·W·co, or Ho·Wo·C). */
  outputs: number;
  /** Output channels; the bias of output j is `bias[j % channels]`. */
  channels: number;
  /** Input index of each edge. */
  from: number[];
  /** Output index of each edge. */
  to: number[];
  /** Weight of each edge. */
  weight: number[];
}

/** The dense layer `x [I] · W [I, J]` (W row-major). */
export function denseEdges(w: ArrayLike<number>, i: number, j: number): Edges {
  const e: Edges = {
    inputs: i,
    outputs: j,
    channels: j,
    from: [],
    to: [],
    weight: [],
  };
  for (let a = 0; a < i; a++) {
    for (let b = 0; b < j; b++) {
      e.from.push(a);
      e.to.push(b);
      e.weight.push(w[a * j + b] as number);
    }
  }
  return e;
}

/**
 * The convolution of an `[h, wd, ci]` image with W `[kh, kw, ci, co]`,
 * stride 1, TensorFlow `SAME` padding: `floor((k − 1) / 2)` zeros before,
 * the rest after. Padded taps are not edges.
 */
export function conv2dEdges(
  w: ArrayLike<number>,
  image: readonly [number, number, number],
  kernel: readonly [number, number, number],
): Edges {
  const [h, wd, ci] = image;
  const [kh, kw, co] = kernel;
  const top = Math.floor((kh - 1) / 2);
  const left = Math.floor((kw - 1) / 2);
  const e: Edges = {
    inputs: h * wd * ci,
    outputs: h * wd * co,
    channels: co,
    from: [],
    to: [],
    weight: [],
  };
  for (let oy = 0; oy < h; oy++) {
    for (let ox = 0; ox < wd; ox++) {
      for (let fy = 0; fy < kh; fy++) {
        for (let fx = 0; fx < kw; fx++) {
          const iy = oy + fy - top;
          const ix = ox + fx - left;
          if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
          for (let c = 0; c < ci; c++) {
            for (let o = 0; o < co; o++) {
              e.from.push((iy * wd + ix) * ci + c);
              e.to.push((oy * wd + ox) * co + o);
              e.weight.push(w[((fy * kw + fx) * ci + c) * co + o] as number);
            }
          }
        }
      }
    }
  }
  return e;
}

/**
 * The thesis pooling of an `[h, wd, c]` image: 2×2 windows, stride 2, the
 * bottom/right windows cut by the image edge; each window's valid elements
 * are averaged and the average multiplied by `scale`.
 */
export function avgPoolEdges(
  image: readonly [number, number, number],
  scale: number,
): Edges {
  const [h, wd, c] = image;
  const ho = Math.ceil(h / 2);
  const wo = Math.ceil(wd / 2);
  const e: Edges = {
    inputs: h * wd * c,
    outputs: ho * wo * c,
    channels: c,
    from: [],
    to: [],
    weight: [],
  };
  for (let oy = 0; oy < ho; oy++) {
    for (let ox = 0; ox < wo; ox++) {
      const cells: [number, number][] = [];
      for (let dy = 0; dy < 2; dy++) {
        for (let dx = 0; dx < 2; dx++) {
          const y = 2 * oy + dy;
          const x = 2 * ox + dx;
          if (y < h && x < wd) cells.push([y, x]);
        }
      }
      for (const [y, x] of cells) {
        for (let k = 0; k < c; k++) {
          e.from.push((y * wd + x) * c + k);
          e.to.push((oy * wo + ox) * c + k);
          e.weight.push(scale / cells.length);
        }
      }
    }
  }
  return e;
}

/** What a replica returns: input relevance `[N·inputs]` and absorbed `[N]`. */
export interface ReplicaResult {
  relevance: Float64Array;
  absorbed: Float64Array;
}

/** Per-edge contribution `c_ij` of sample n (edge index k). */
type Contribution = (k: number, n: number) => number;

/**
 * The general proportional rule, eq. 2.31 with δ_{i←j} = c_ij / d_j:
 * `d_j = Σ_i c_ij + b_j + ε·sign⁺(Σ_i c_ij + b_j)`,
 * `R_i = Σ_j c_ij / d_j · share_j R_j`, and `(b_j + ε·sign⁺) / d_j · share_j R_j`
 * absorbed; a zero `d_j` (only when ε = 0) passes nothing and absorbs
 * `share_j R_j`.
 */
function proportional(
  e: Edges,
  n: number,
  r: ArrayLike<number>,
  contribution: Contribution,
  epsilon: number,
  out: ReplicaResult,
  options: { bias?: ArrayLike<number>; share?: (j: number) => number } = {},
): void {
  const z = new Float64Array(e.outputs);
  for (let k = 0; k < e.from.length; k++) {
    z[e.to[k] as number] += contribution(k, n);
  }
  const s = new Float64Array(e.outputs);
  for (let j = 0; j < e.outputs; j++) {
    const b = options.bias ? options.bias[j % e.channels] as number : 0;
    const zb = (z[j] as number) + b;
    const stab = zb >= 0 ? epsilon : -epsilon;
    const d = zb + stab;
    const q = (options.share ? options.share(j) : 1) *
      (r[n * e.outputs + j] as number);
    if (d === 0) {
      out.absorbed[n] += q;
      continue;
    }
    s[j] = q / d;
    out.absorbed[n] += (b + stab) * q / d;
  }
  for (let k = 0; k < e.from.length; k++) {
    out.relevance[n * e.inputs + (e.from[k] as number)] += contribution(k, n) *
      (s[e.to[k] as number] as number);
  }
}

function result(e: Edges, batch: number): ReplicaResult {
  return {
    relevance: new Float64Array(batch * e.inputs),
    absorbed: new Float64Array(batch),
  };
}

/** One layer application: the layer, its input `[N·inputs]` and the upper relevance `[N·outputs]`. */
export interface ReplicaCase {
  edges: Edges;
  batch: number;
  x: ArrayLike<number>;
  r: ArrayLike<number>;
  /** Per output channel, for LRP-ε. */
  bias?: ArrayLike<number>;
}

function xOf(c: ReplicaCase, n: number, k: number): number {
  return c.x[n * c.edges.inputs + (c.edges.from[k] as number)] as number;
}

/** LRP-ε: `R_i = Σ_j x_i w_ij R_j / (z_j + b_j + ε·sign⁺)`. */
export function replicaEpsilon(c: ReplicaCase, epsilon: number): ReplicaResult {
  const out = result(c.edges, c.batch);
  for (let n = 0; n < c.batch; n++) {
    proportional(
      c.edges,
      n,
      c.r,
      (k) => xOf(c, n, k) * (c.edges.weight[k] as number),
      epsilon,
      out,
      c.bias ? { bias: c.bias } : {},
    );
  }
  return out;
}

/**
 * LRP-αβ with separately normalised parts and the documented empty-part
 * convention: α / −β where z⁺_j > 0 and z⁻_j < 0, else z⁺ alone.
 */
export function replicaAlphaBeta(
  c: ReplicaCase,
  alpha: number,
  beta: number,
  epsilon: number,
): ReplicaResult {
  const e = c.edges;
  const out = result(e, c.batch);
  for (let n = 0; n < c.batch; n++) {
    const plus = (k: number) =>
      xOf(c, n, k) * Math.max(e.weight[k] as number, 0);
    const minus = (k: number) =>
      xOf(c, n, k) * Math.min(e.weight[k] as number, 0);
    const zp = new Float64Array(e.outputs);
    const zm = new Float64Array(e.outputs);
    for (let k = 0; k < e.from.length; k++) {
      zp[e.to[k] as number] += plus(k);
      zm[e.to[k] as number] += minus(k);
    }
    const both = (j: number) => (zp[j] as number) > 0 && (zm[j] as number) < 0;
    proportional(e, n, c.r, plus, epsilon, out, {
      share: (j) => both(j) ? alpha : 1,
    });
    proportional(e, n, c.r, minus, epsilon, out, {
      share: (j) => both(j) ? -beta : 0,
    });
  }
  return out;
}

/**
 * z^B with per-input bounds `low[i]`, `high[i]` (per sample input index):
 * contributions `x_i w_ij − l_i w⁺_ij − h_i w⁻_ij`. With `pixel` given, only
 * inputs where it is true are box inputs; the others contribute
 * `x_i (α w⁺_ij − β w⁻_ij)` to the same denominator (eq. 3.5–3.6).
 */
export function replicaZBox(
  c: ReplicaCase,
  low: ArrayLike<number>,
  high: ArrayLike<number>,
  epsilon: number,
  mixed?: { pixel: (i: number) => boolean; alpha: number; beta: number },
): ReplicaResult {
  const e = c.edges;
  const out = result(e, c.batch);
  for (let n = 0; n < c.batch; n++) {
    const contribution = (k: number) => {
      const i = e.from[k] as number;
      const w = e.weight[k] as number;
      const x = xOf(c, n, k);
      const wp = Math.max(w, 0);
      const wm = Math.min(w, 0);
      if (mixed !== undefined && !mixed.pixel(i)) {
        return x * (mixed.alpha * wp - mixed.beta * wm);
      }
      return x * w - (low[i] as number) * wp - (high[i] as number) * wm;
    };
    proportional(e, n, c.r, contribution, epsilon, out);
  }
  return out;
}

/** The w² rule: contributions `w_ij²`. */
export function replicaWSquare(c: ReplicaCase, epsilon: number): ReplicaResult {
  const out = result(c.edges, c.batch);
  for (let n = 0; n < c.batch; n++) {
    proportional(
      c.edges,
      n,
      c.r,
      (k) => (c.edges.weight[k] as number) ** 2,
      epsilon,
      out,
    );
  }
  return out;
}

/** The flat rule: contributions 1 on every connection. */
export function replicaFlat(c: ReplicaCase, epsilon: number): ReplicaResult {
  const out = result(c.edges, c.batch);
  for (let n = 0; n < c.batch; n++) {
    proportional(c.edges, n, c.r, () => 1, epsilon, out);
  }
  return out;
}

/** What the LSTM cell replica returns, each `[N·R]` except absorbed `[N]`. */
export interface CellReplicaResult {
  previousCell: Float64Array;
  candidate: Float64Array;
  absorbed: Float64Array;
}

/**
 * The R-LSTM cell split: `p = f c_{t−1} / (c_t + ε)`,
 * `R(c_{t−1}) = p R`, and either `R(g) = (1 − p) R` ("candidate") or
 * `R(g) = (c_t − f c_{t−1}) / (c_t + ε) R` with `ε / (c_t + ε) R` absorbed.
 */
export function replicaLstmCell(
  units: number,
  c: {
    previousCell: ArrayLike<number>;
    forget: ArrayLike<number>;
    cell: ArrayLike<number>;
    relevance: ArrayLike<number>;
  },
  epsilon: number,
  mode: "candidate" | "absorbed",
): CellReplicaResult {
  const size = c.cell.length;
  const out: CellReplicaResult = {
    previousCell: new Float64Array(size),
    candidate: new Float64Array(size),
    absorbed: new Float64Array(size / units),
  };
  for (let k = 0; k < size; k++) {
    const cell = c.cell[k] as number;
    const kept = (c.forget[k] as number) * (c.previousCell[k] as number);
    const r = c.relevance[k] as number;
    const d = cell + (cell >= 0 ? epsilon : -epsilon);
    const p = d === 0 ? 0 : kept / d;
    out.previousCell[k] = p * r;
    if (mode === "candidate") {
      out.candidate[k] = (1 - p) * r;
    } else if (d === 0) {
      out.absorbed[Math.floor(k / units)] += r;
    } else {
      const stab = cell >= 0 ? epsilon : -epsilon;
      out.candidate[k] = (cell - kept) / d * r;
      out.absorbed[Math.floor(k / units)] += stab / d * r;
    }
  }
  return out;
}
