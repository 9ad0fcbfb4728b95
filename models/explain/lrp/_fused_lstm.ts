/**
 * The batched (no-callback) relevance pass of the R-LSTM family (R-LSTM,
 * ConvR-LSTM) with the step loop cut down to what is truly recurrent.
 *
 * Everything a step's rules divide by depends on the forward trace only:
 * the cell split's share `p_t = f_t ⊙ c_{t−1} / (c_t + ε)` and the
 * candidate rule's normalisers. Every rule's divide step is linear in the
 * upper relevance, element by element (each output gradient is
 * `s_k = R ⊙ a_k` and the absorbed share `R ⊙ a_abs`, with a_k, a_abs
 * functions of the term outputs z), so the factors are the divide step
 * applied to R = 1. They, and the candidate's forward, are computed once
 * over all T·N rows before the loop. Each step then runs a handful of small
 * ops: R(c_t) + R(h_t), the split, and the h_{t−1} rows of the candidate's
 * transpose. The rows of the static inputs (`in1`) and the absorbed shares
 * follow once after the loop, over all T·N rows.
 *
 * Same rules and products as `layerRelevance` applied step by step; only
 * the grouping differs (tested against the plain replica). Streaming (with
 * `onStep`), each step's static input rows follow right after the step
 * instead, so its pixels are handed out before the earlier steps exist.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { LayerWeights, ModelTrace } from "../../arch/rnn_model.ts";
import {
  absorbedOf,
  lstmCellRelevance,
  type RuleContext,
} from "../rules/mod.ts";
import { forwardTerms } from "../_stacked_terms.ts";
import { FAST_DENSE } from "./_linear_maps.ts";
import type { ActivationMap, RelevanceMap } from "./layer_relevance.ts";
import type { LstmOp, PassPlan } from "./pass_plan.ts";

/**
 * Returns the plan's one recurrent layer when the fused pass applies: the
 * loop is a single R-LSTM cell reading static inputs and its own h_{t−1}, its
 * two states are its own h and c, the head reads only h, and the cell split
 * gives the stabiliser's share to the candidate (the default).
 *
 * @param plan the pass plan
 * @returns the R-LSTM op, or undefined
 */
export function fusableLstm(plan: PassPlan): LstmOp | undefined {
  const [op, ...rest] = plan.loop;
  if (op?.kind !== "lstm" || rest.length > 0) return undefined;
  if ((op.cell.stabilizerShare ?? "candidate") !== "candidate") {
    return undefined;
  }
  const { layer } = op;
  const state = layer.inputs.at(-1)!.from;
  const states = plan.graph.states;
  const ownStates = states.length === 2 &&
    states.some((s) => s.name === state && s.source === layer.outputs.h) &&
    states.some((s) =>
      s.name === layer.cellInput && s.source === layer.outputs.c
    );
  const staticInputs = layer.inputs.slice(0, -1).every((i) =>
    plan.staticNames.has(i.from)
  );
  const heads = new Set(plan.graph.headLayers.map((l) => l.output));
  const headReadsH = plan.graph.headLayers.every((l) =>
    l.inputs.every((i) => i.from === layer.outputs.h || heads.has(i.from))
  );
  return ownStates && staticInputs && headReadsH ? op : undefined;
}

/** The trace-only factors of a fused pass; {@linkcode disposeFusedLstm} frees them. */
export interface FusedLstm {
  /** Terms of the candidate rule (their gradients sit side by side). */
  readonly terms: number;
  /** Per step: p_t [N, R], the share of R(c_t) that c_{t−1} keeps. */
  readonly keep: readonly tf.Tensor[];
  /** Per step: the signed gradient factors [N, terms · R]. */
  readonly factors: readonly tf.Tensor[];
  /** The same, time-major [T·N, terms · R]. */
  readonly factorsAll: tf.Tensor;
  /** The candidate rule's absorbed factor, time-major [T·N, R]. */
  readonly absorbedAll: tf.Tensor;
  /** Per candidate input (in order): its rows of the stacked kernels, transposed [terms · R, size]. */
  readonly kernels: readonly tf.Tensor[];
}

/** Frees the tensors of a {@linkcode FusedLstm}. */
export function disposeFusedLstm(fused: FusedLstm): void {
  tf.dispose([
    ...fused.keep,
    ...fused.factors,
    fused.factorsAll,
    fused.absorbedAll,
    ...fused.kernels,
  ]);
}

function stacked(trace: ModelTrace, name: string): tf.Tensor {
  return tf.concat(
    trace.steps.map((s) => {
      const t = s[name];
      if (t === undefined) {
        throw new Error(
          `Cannot propagate relevance: activation "${name}" is not in the trace`,
        );
      }
      return t;
    }),
    0,
  );
}

function staticRows(
  trace: ModelTrace,
  name: string,
  size: number,
): tf.Tensor {
  const t = trace.statics[name];
  if (t === undefined) {
    throw new Error(
      `Cannot propagate relevance: static activation "${name}" is not in the trace`,
    );
  }
  return t.rank === 2 ? t : tf.reshape(t, [t.shape[0]!, size]);
}

/**
 * `[r | … | r] ⊙ factors` for m copies of `r` [N, R] side by side, by
 * broadcasting over a middle axis of m instead of concatenating the copies
 * (an R-LSTM LRP-α1.5β0.5 pass at batch 50 on blas, interleaved: 13.7 →
 * 13.2 ms).
 */
function timesEachTerm(
  r: tf.Tensor,
  factors: tf.Tensor,
  m: number,
): tf.Tensor {
  if (m === 1) return tf.mul(r, factors);
  const n = r.shape[0]!;
  return tf.reshape(
    tf.mul(tf.reshape(r, [n, 1, -1]), tf.reshape(factors, [n, m, -1])),
    [n, -1],
  );
}

/**
 * Computes the trace-only factors over all T·N rows (batchStatics trace).
 *
 * @param op the fusable R-LSTM op ({@linkcode fusableLstm})
 * @param trace the batched trace
 * @param weights the layer's weights
 * @returns the factors (caller owns them), or undefined when the candidate
 *   rule has a term that does not read the layer input (then use the
 *   step-by-step engine)
 */
export function prepareFusedLstm(
  op: LstmOp,
  trace: ModelTrace,
  weights: LayerWeights,
): FusedLstm | undefined {
  const candidate = weights.gates?.g;
  if (candidate === undefined) {
    throw new Error(
      `Cannot propagate relevance: layer "${op.layer.name}" has no candidate weights`,
    );
  }
  const steps = trace.steps.length;
  const state = op.layer.inputs.at(-1)!.from;
  return tf.tidy(() => {
    const input = tf.concat(
      op.inputs.map((i) =>
        i.from === state
          ? stacked(trace, state)
          : staticRows(trace, i.from, i.size)
      ),
      1,
    );
    const rule = op.candidate;
    const context: RuleContext = {
      layer: FAST_DENSE,
      input,
      weight: candidate.kernel,
      bias: rule.usesBias ? candidate.bias : null,
      // R(g) is not zero where g is: the cell split does not multiply by g.
      output: null,
      activeOnly: false,
      derive: (_key, make) => make(),
    };
    const terms = rule.terms(context);
    if (terms.some((t) => t.input !== input || t.weight === null)) {
      return undefined;
    }
    const outputs = forwardTerms(FAST_DENSE, terms, input, undefined);
    // The divide step at R = 1: the factors of R (linear, element by element).
    const normalized = rule.normalize(
      tf.onesLike(outputs[0]!),
      outputs,
      context,
    );
    const { gradients } = normalized;
    const signed = gradients.map((g, k) =>
      terms[k]!.coefficient === 1 ? g : tf.neg(g)
    );
    const factorsAll = signed.length === 1 ? signed[0]! : tf.concat(signed, 1);
    const kernel = terms.length === 1
      ? terms[0]!.weight!
      : tf.concat(terms.map((t) => t.weight!), 1);
    // Per input its rows, then transposed.
    const kernels = tf.split(kernel, op.inputs.map((i) => i.size)).map((k) =>
      tf.transpose(k)
    );
    const cell = stacked(trace, op.layer.outputs.c);
    const keep = lstmCellRelevance({
      previousCell: stacked(trace, op.layer.cellInput),
      forget: stacked(trace, op.layer.outputs.f),
      cell,
      relevance: tf.onesLike(cell),
    }, op.cell).previousCell;
    return {
      terms: terms.length,
      keep: tf.split(keep, steps),
      factors: tf.split(factorsAll, steps),
      factorsAll,
      absorbedAll: absorbedOf(normalized),
      kernels,
    };
  });
}

/**
 * One step of the fused loop: R(c_t) + R(h_t) split between c_{t−1} and the
 * candidate, and the candidate's share carried to h_{t−1}.
 *
 * @param fused the factors
 * @param op the R-LSTM op
 * @param acts step t's activations (h_{t−1})
 * @param incoming relevance of step t's h and c
 * @param t the step
 * @returns relevance of h and c (the sources of step t − 1's states) and
 *   R(g_t); caller owns the returned tensors
 */
export function fusedLstmStep(
  fused: FusedLstm,
  op: LstmOp,
  acts: ActivationMap,
  incoming: RelevanceMap,
  t: number,
): { carry: RelevanceMap; candidate: tf.Tensor } {
  const { outputs } = op.layer;
  const state = op.layer.inputs.at(-1)!.from;
  return tf.tidy(() => {
    const hPrev = acts[state]!;
    const fromH = incoming[outputs.h];
    const fromC = incoming[outputs.c];
    const r = fromH === undefined
      ? fromC ?? tf.zerosLike(hPrev)
      : fromC === undefined
      ? fromH
      : tf.add(fromH, fromC);
    const previous = tf.mul(r, fused.keep[t]!);
    const candidate = tf.sub(r, previous);
    const s = timesEachTerm(candidate, fused.factors[t]!, fused.terms);
    const k = op.inputs.findIndex((i) => i.from === state);
    const toState = tf.mul(hPrev, tf.matMul(s, fused.kernels[k]!));
    return {
      carry: { [outputs.h]: toState, [outputs.c]: previous },
      candidate,
    };
  });
}

/**
 * The candidate's static inputs' relevance and the absorbed shares: after
 * the loop once over all T·N rows, or (streaming) over one step's N rows
 * right after that step.
 *
 * @param fused the factors
 * @param op the R-LSTM op
 * @param trace the batched trace
 * @param candidates R(g_t) per step, t = 0 … T − 1; or, with `step`, the
 *   one step's R(g_t)
 * @param step the step whose rows `candidates` holds (streaming)
 * @default step all steps
 * @returns relevance of each static input (time-major over all rows, or
 *   the step's rows), and the absorbed relevance per sample [N]; caller
 *   owns the returned tensors
 */
export function fusedLstmInputs(
  fused: FusedLstm,
  op: LstmOp,
  trace: ModelTrace,
  candidates: readonly tf.Tensor[],
  step?: number,
): { statics: RelevanceMap; absorbed: tf.Tensor1D } {
  const state = op.layer.inputs.at(-1)!.from;
  const steps = candidates.length;
  return tf.tidy(() => {
    const all = steps === 1 ? candidates[0]! : tf.concat([...candidates], 0);
    const n = all.shape[0]!;
    // The rows of `step` only, or all of them.
    const rowsOf = (t: tf.Tensor) =>
      step === undefined ? t : tf.slice(t, step * n, n);
    const factors = step === undefined
      ? fused.factorsAll
      : fused.factors[step]!;
    const s = timesEachTerm(all, factors, fused.terms);
    const statics: RelevanceMap = {};
    op.inputs.forEach((i, k) => {
      if (i.from === state) return;
      const x = trace.statics[i.from]!;
      const rows = rowsOf(staticRows(trace, i.from, i.size));
      const r = tf.mul(rows, tf.matMul(s, fused.kernels[k]!));
      statics[i.from] = x.rank === 2
        ? r
        : tf.reshape(r, [n, ...x.shape.slice(1)]);
    });
    const perRow = tf.sum(tf.mul(all, rowsOf(fused.absorbedAll)), 1);
    const absorbed = steps === 1
      ? perRow
      : tf.sum(tf.reshape(perRow, [steps, -1]), 0);
    return { statics, absorbed: absorbed as tf.Tensor1D };
  });
}
