/**
 * A slow, independent replica of the whole relevance pass for tests: plain
 * JavaScript over Float64Arrays, one sample at a time, with every
 * architecture's forward and backward pass wired by hand as thesis-code
 * §2 and §3.4 describe them (no graph, no tensors). Layers are edge lists
 * and rules are the plain-loop rule replicas of `../_replica.ts`.
 *
 * @module
 */
import type { WeightMap } from "../../arch/weights.ts";
import type { ModelSpec } from "../../arch/spec.ts";
import {
  avgPoolEdges,
  conv2dEdges,
  denseEdges,
  type Edges,
  replicaAlphaBeta,
  replicaEpsilon,
  replicaLstmCell,
  replicaWSquare,
  replicaZBox,
} from "../_replica.ts";

type Vec = Float64Array;

/** The method and its parameters (defaults as the composites'). */
export interface ReplicaMethod {
  readonly method: "deep_taylor" | "lrp_alpha_beta" | "lrp_epsilon";
  readonly alpha?: number;
  readonly beta?: number;
  readonly epsilon?: number;
  readonly low?: number;
  readonly high?: number;
  readonly stabilizer?: number;
  readonly inputDomain?: "bounded" | "real";
}

/** The replica's result for N samples. */
export interface ReplicaPassResult {
  /** [N, T, rows · columns]. */
  relevance: Float64Array;
  absorbed: Float64Array;
  initialState: Float64Array;
  start: Float64Array;
}

/** A linear layer: its edges and its effective bias per output channel. */
interface Linear {
  edges: Edges;
  bias: Vec;
}

function forward(l: Linear, x: ArrayLike<number>, relu: boolean): Vec {
  const e = l.edges;
  const z = new Float64Array(e.outputs);
  for (let k = 0; k < e.from.length; k++) {
    z[e.to[k]!]! += (x[e.from[k]!] as number) * e.weight[k]!;
  }
  for (let j = 0; j < e.outputs; j++) {
    z[j]! += l.bias[j % e.channels]!;
    if (relu) z[j] = Math.max(0, z[j]!);
  }
  return z;
}

type Role = "hidden" | "pixels" | "pool" | { pixel: (i: number) => boolean };

/** One rule application as the composite of `m` assigns it. */
function back(
  m: ReplicaMethod,
  l: Linear,
  x: Vec,
  r: Vec,
  role: Role,
): { relevance: Vec; absorbed: number } {
  const stab = m.stabilizer ?? 1e-9;
  const c = { edges: l.edges, batch: 1, x, r };
  const low = new Float64Array(l.edges.inputs).fill(m.low ?? -1);
  const high = new Float64Array(l.edges.inputs).fill(m.high ?? 1);
  const alpha = m.method === "lrp_alpha_beta" ? m.alpha ?? 1 : 1;
  const beta = m.method === "lrp_alpha_beta" ? m.beta ?? 0 : 0;
  let out;
  if (m.method === "lrp_epsilon") {
    out = role === "pool"
      ? replicaEpsilon(c, m.epsilon ?? 1e-9)
      : replicaEpsilon({ ...c, bias: l.bias }, m.epsilon ?? 1e-9);
  } else if (role === "pool") out = replicaEpsilon(c, stab);
  else if (role === "hidden") out = replicaAlphaBeta(c, alpha, beta, stab);
  else if (role === "pixels") {
    out = m.inputDomain === "real"
      ? replicaWSquare(c, stab)
      : replicaZBox(c, low, high, stab);
  } else {out = replicaZBox(c, low, high, stab, {
      pixel: role.pixel,
      alpha,
      beta,
    });}
  return { relevance: out.relevance, absorbed: out.absorbed[0]! };
}

function softplus(b: number): number {
  return Math.log1p(Math.exp(b));
}

function cat(a: Vec, b: Vec): Vec {
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Interleaves two images [P, ca] and [P, cb] into [P, ca + cb] (NHWC channel concat). */
function catChannels(a: Vec, ca: number, b: Vec, cb: number): Vec {
  const positions = a.length / ca;
  const out = new Float64Array(positions * (ca + cb));
  for (let p = 0; p < positions; p++) {
    for (let c = 0; c < ca; c++) out[p * (ca + cb) + c] = a[p * ca + c]!;
    for (let c = 0; c < cb; c++) out[p * (ca + cb) + ca + c] = b[p * cb + c]!;
  }
  return out;
}

function splitChannels(v: Vec, ca: number, cb: number): [Vec, Vec] {
  const positions = v.length / (ca + cb);
  const a = new Float64Array(positions * ca);
  const b = new Float64Array(positions * cb);
  for (let p = 0; p < positions; p++) {
    for (let c = 0; c < ca; c++) a[p * ca + c] = v[p * (ca + cb) + c]!;
    for (let c = 0; c < cb; c++) b[p * cb + c] = v[p * (ca + cb) + ca + c]!;
  }
  return [a, b];
}

function add(a: Vec, b: Vec): Vec {
  return a.map((v, i) => v + b[i]!);
}

function sum(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] as number;
  return s;
}

class Weights {
  constructor(readonly map: WeightMap) {}
  data(name: string): Float32Array {
    const w = this.map[name];
    if (w === undefined) throw new Error(`replica: no weight "${name}"`);
    return w.data;
  }
  bias(layer: string, units: number): Vec {
    const b = this.map[`${layer}.bias`];
    return b === undefined
      ? new Float64Array(units)
      : Float64Array.from(b.data, (v) => -softplus(v));
  }
  dense(layer: string): Linear {
    const [i, j] = this.map[`${layer}.kernel`]!.shape as [number, number];
    return {
      edges: denseEdges(this.data(`${layer}.kernel`), i, j),
      bias: this.bias(layer, j),
    };
  }
  conv(layer: string, image: [number, number, number]): Linear {
    const [kh, kw, , co] = this.map[`${layer}.kernel`]!.shape as number[];
    return {
      edges: conv2dEdges(this.data(`${layer}.kernel`), image, [kh!, kw!, co!]),
      bias: this.bias(layer, co!),
    };
  }
}

/** The convolutional front end (plain or Conv⁺ literal) of one sample. */
class ConvFrontEnd {
  readonly conv1: Linear;
  readonly conv2: Linear;
  readonly pool1: Linear;
  readonly pool2: Linear;
  readonly f1: number;
  readonly f2: number;
  readonly acts: {
    conv1: Vec;
    conv2: Vec;
    conv1Input: Vec;
    conv2Input: Vec;
  }[] = [];
  constructor(w: Weights, spec: ModelSpec, readonly literal: boolean) {
    const { rows, columns } = spec;
    this.f1 = w.map["conv1.kernel"]!.shape[3]!;
    this.f2 = w.map["conv2.kernel"]!.shape[3]!;
    const h2 = Math.ceil(rows / 2);
    const w2 = Math.ceil(columns / 2);
    this.conv1 = w.conv("conv1", [rows, columns, literal ? 1 + this.f1 : 1]);
    this.pool1 = {
      edges: avgPoolEdges([rows, columns, this.f1], 2),
      bias: new Float64Array(this.f1),
    };
    this.conv2 = w.conv("conv2", [
      h2,
      w2,
      literal ? this.f1 + this.f2 : this.f1,
    ]);
    this.pool2 = {
      edges: avgPoolEdges([h2, w2, this.f2], 2),
      bias: new Float64Array(this.f2),
    };
  }
  /** in1 of step t (the flat pool2 is the features). */
  forward(x: Vec): Vec {
    const prev = this.acts.at(-1);
    const c1In = this.literal
      ? catChannels(
        x,
        1,
        prev?.conv1 ?? new Float64Array(x.length * this.f1),
        this.f1,
      )
      : x;
    const conv1 = forward(this.conv1, c1In, true);
    const pool1 = forward(this.pool1, conv1, false);
    const c2In = this.literal
      ? catChannels(
        pool1,
        this.f1,
        prev?.conv2 ?? new Float64Array((pool1.length / this.f1) * this.f2),
        this.f2,
      )
      : pool1;
    const conv2 = forward(this.conv2, c2In, true);
    const flat = forward(this.pool2, conv2, false);
    this.acts.push({ conv1, conv2, conv1Input: c1In, conv2Input: c2In });
    return flat;
  }
}

/** Runs the replica for one sample; returns per-step pixel relevance etc. */
function samplePass(
  spec: ModelSpec,
  w: Weights,
  x: Float32Array,
  target: number,
  m: ReplicaMethod,
): { pixels: Vec[]; absorbed: number; initial: number; start: number } {
  const { architecture: arch, steps, rows, columns } = spec;
  const d = rows * columns;
  const xs = Array.from(
    { length: steps },
    (_, t) => Float64Array.from(x.subarray(t * d, (t + 1) * d)),
  );
  const conv = arch.startsWith("conv")
    ? new ConvFrontEnd(w, spec, arch.startsWith("conv_plus"))
    : undefined;
  const lstm = arch.endsWith("r_lstm");
  const in1 = arch === "shallow" ? undefined : w.dense("in1");
  const in2 = arch === "deep_v2" ? w.dense("in2") : undefined;
  // Forward: features per step, then the recurrent core.
  const feats: Vec[] = [];
  const in1s: Vec[] = [];
  const in2s: Vec[] = [];
  for (const xt of xs) {
    const f = conv === undefined ? xt : conv.forward(xt);
    feats.push(f);
    if (in1 === undefined) continue;
    in1s.push(forward(in1, f, true));
    if (in2 !== undefined) in2s.push(forward(in2, in1s.at(-1)!, true));
  }
  const core = in2 !== undefined ? in2s : in1 !== undefined ? in1s : xs;
  let absorbed = 0;
  const pixels: Vec[] = Array.from(
    { length: steps },
    () => new Float64Array(d),
  );
  // Relevance of the core's per-step input (in1/in2, or x for Shallow).
  const rCore: Vec[] = Array.from(
    { length: steps },
    (_, t) => new Float64Array(core[t]!.length),
  );
  let initial = 0;
  let start = 0;
  if (lstm) {
    const kernel = w.map["lstm.kernel"]!;
    const [fanIn, four] = kernel.shape as [number, number];
    const r = four / 4;
    const gateBias = w.data("lstm.gate_bias");
    const gk = new Float32Array(fanIn * r);
    for (let i = 0; i < fanIn; i++) {
      for (let j = 0; j < r; j++) {
        gk[i * r + j] = kernel.data[i * four + 3 * r + j]!;
      }
    }
    const candidate: Linear = {
      edges: denseEdges(gk, fanIn, r),
      bias: w.map["lstm.candidate_bias"] === undefined
        ? new Float64Array(r)
        : Float64Array.from(w.data("lstm.candidate_bias"), (v) => -softplus(v)),
    };
    const hs: Vec[] = [new Float64Array(r)];
    const cs: Vec[] = [new Float64Array(r)];
    const fs: Vec[] = [];
    const xrs: Vec[] = [];
    for (let t = 0; t < steps; t++) {
      const xr = cat(core[t]!, hs[t]!);
      xrs.push(xr);
      const z = new Float64Array(four);
      for (let i = 0; i < fanIn; i++) {
        for (let j = 0; j < four; j++) {
          z[j]! += xr[i]! * kernel.data[i * four + j]!;
        }
      }
      const sig = (v: number) => 1 / (1 + Math.exp(-v));
      const gate = (k: number) =>
        Float64Array.from(
          { length: r },
          (_, j) => sig(z[k * r + j]! + gateBias[k * r + j]!),
        );
      const [ig, fg, og] = [gate(0), gate(1), gate(2)];
      const g = Float64Array.from(
        { length: r },
        (_, j) => Math.max(0, z[3 * r + j]! + candidate.bias[j]!),
      );
      const c = Float64Array.from(
        { length: r },
        (_, j) => ig[j]! * g[j]! + fg[j]! * cs[t]![j]!,
      );
      fs.push(fg);
      cs.push(c);
      hs.push(Float64Array.from({ length: r }, (_, j) => og[j]! * c[j]!));
    }
    const out = w.dense("out2");
    const logits = forward(out, hs[steps]!, false);
    start = Math.max(0, logits[target]!);
    const rLogits = new Float64Array(10);
    rLogits[target] = start;
    const head = back(m, out, hs[steps]!, rLogits, "hidden");
    absorbed += head.absorbed;
    let rc = head.relevance; // all of R(h) goes to c
    for (let t = steps - 1; t >= 0; t--) {
      const split = replicaLstmCell(
        r,
        {
          previousCell: cs[t]!,
          forget: fs[t]!,
          cell: cs[t + 1]!,
          relevance: rc,
        },
        1e-10,
        "candidate",
      );
      absorbed += split.absorbed[0]!;
      const res = back(m, candidate, xrs[t]!, split.candidate, "hidden");
      absorbed += res.absorbed;
      rCore[t] = res.relevance.slice(0, core[t]!.length);
      rc = add(split.previousCell, res.relevance.slice(core[t]!.length));
    }
    initial = sum(rc);
  } else {
    const hidden = w.dense("hidden");
    const recur = w.dense("recur");
    const units = recur.edges.outputs;
    const rs: Vec[] = [new Float64Array(units)];
    const has: Vec[] = [];
    const xrs: Vec[] = [];
    for (let t = 0; t < steps; t++) {
      const xr = cat(core[t]!, rs[t]!);
      xrs.push(xr);
      has.push(forward(hidden, xr, true));
      rs.push(forward(recur, has[t]!, true));
    }
    const last = has[steps - 1]!;
    const rLogits = new Float64Array(10);
    let rHidden: Vec;
    if (arch === "shallow") {
      const out = w.dense("out");
      const logits = forward(out, last, false);
      start = Math.max(0, logits[target]!);
      rLogits[target] = start;
      const head = back(m, out, last, rLogits, "hidden");
      absorbed += head.absorbed;
      rHidden = head.relevance;
    } else {
      const out1 = w.dense("out1");
      const out2 = w.dense("out2");
      const o = forward(out1, last, true);
      const logits = forward(out2, o, false);
      start = Math.max(0, logits[target]!);
      rLogits[target] = start;
      const h2 = back(m, out2, o, rLogits, "hidden");
      const h1 = back(m, out1, last, h2.relevance, "hidden");
      absorbed += h2.absorbed + h1.absorbed;
      rHidden = h1.relevance;
    }
    for (let t = steps - 1; t >= 0; t--) {
      const n = core[t]!.length;
      const role: Role = arch === "shallow"
        ? { pixel: (i) => i < n }
        : "hidden";
      const res = back(m, hidden, xrs[t]!, rHidden, role);
      absorbed += res.absorbed;
      rCore[t] = res.relevance.slice(0, n);
      const rPrev = res.relevance.slice(n);
      if (t === 0) {
        initial += sum(rPrev);
        break;
      }
      const rr = back(m, recur, has[t - 1]!, rPrev, "hidden");
      absorbed += rr.absorbed;
      rHidden = rr.relevance;
    }
  }
  // Down from the core's input to the pixels, step by step (T − 1 … 0).
  let carry1: Vec | undefined;
  let carry2: Vec | undefined;
  for (let t = steps - 1; t >= 0; t--) {
    if (arch === "shallow") {
      pixels[t] = rCore[t]!;
      continue;
    }
    let r = rCore[t]!;
    if (in2 !== undefined) {
      const b2 = back(m, in2, in1s[t]!, r, "hidden");
      absorbed += b2.absorbed;
      r = b2.relevance;
    }
    const b1 = back(
      m,
      in1!,
      feats[t]!,
      r,
      conv === undefined ? "pixels" : "hidden",
    );
    absorbed += b1.absorbed;
    if (conv === undefined) {
      pixels[t] = b1.relevance;
      continue;
    }
    const a = conv.acts[t]!;
    const p2 = back(m, conv.pool2, a.conv2, b1.relevance, "pool");
    absorbed += p2.absorbed;
    const rConv2 = carry2 === undefined
      ? p2.relevance
      : add(p2.relevance, carry2);
    const c2 = back(m, conv.conv2, a.conv2Input, rConv2, "hidden");
    absorbed += c2.absorbed;
    let rPool1 = c2.relevance;
    if (conv.literal) {
      [rPool1, carry2] = splitChannels(c2.relevance, conv.f1, conv.f2);
    }
    const p1 = back(m, conv.pool1, a.conv1, rPool1, "pool");
    absorbed += p1.absorbed;
    const rConv1 = carry1 === undefined
      ? p1.relevance
      : add(p1.relevance, carry1);
    const role: Role = conv.literal
      ? { pixel: (i) => i % (1 + conv.f1) === 0 }
      : "pixels";
    const c1 = back(m, conv.conv1, a.conv1Input, rConv1, role);
    absorbed += c1.absorbed;
    if (conv.literal) {
      [pixels[t], carry1] = splitChannels(c1.relevance, 1, conv.f1);
    } else pixels[t] = c1.relevance;
  }
  initial += (carry1 ? sum(carry1) : 0) + (carry2 ? sum(carry2) : 0);
  return { pixels, absorbed, initial, start };
}

/**
 * Runs the replica on N samples.
 *
 * @param spec the model spec (architecture, steps, rows, columns)
 * @param weights the model's weights (`RnnModel.exportWeights()`)
 * @param x [N, T, rows · columns]
 * @param targets the explained class per sample
 * @param method the method and its parameters
 */
export function replicaPass(
  spec: ModelSpec,
  weights: WeightMap,
  x: Float32Array,
  targets: ArrayLike<number>,
  method: ReplicaMethod,
): ReplicaPassResult {
  const { steps, rows, columns } = spec;
  const d = rows * columns;
  const n = targets.length;
  const w = new Weights(weights);
  const out: ReplicaPassResult = {
    relevance: new Float64Array(n * steps * d),
    absorbed: new Float64Array(n),
    initialState: new Float64Array(n),
    start: new Float64Array(n),
  };
  for (let s = 0; s < n; s++) {
    const r = samplePass(
      spec,
      w,
      x.subarray(s * steps * d, (s + 1) * steps * d),
      targets[s]!,
      method,
    );
    r.pixels.forEach((p, t) => out.relevance.set(p, (s * steps + t) * d));
    out.absorbed[s] = r.absorbed;
    out.initialState[s] = r.initial;
    out.start[s] = r.start;
  }
  return out;
}
