/**
 * One layer of a relevance pass, per layer kind: take the relevance of the
 * layer's outputs, apply the planned rule, add the result to the relevance
 * of its inputs (split where the input is a concatenation).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type LayerWeights, linearOutputName } from "../../arch/rnn_model.ts";
import type { ArchitectureGraph } from "../../arch/graph.ts";
import {
  applyRule,
  lstmCellRelevance,
  type WeightCache,
} from "../rules/mod.ts";
import { FAST_CONV2D, FAST_DENSE } from "./_linear_maps.ts";
import type { InputPart, LayerOp } from "./pass_plan.ts";

/** Relevance by activation name, [N, ...shape] each. */
export type RelevanceMap = Record<string, tf.Tensor>;

/** Activations by activation name, [N, ...shape] each (a trace's step). */
export type ActivationMap = Readonly<Record<string, tf.Tensor>>;

/** Adds `r` to the relevance of `name`. */
export function addRelevance(
  rel: RelevanceMap,
  name: string,
  r: tf.Tensor,
): void {
  const old = rel[name];
  rel[name] = old === undefined ? r : tf.add(old, r);
}

function activation(acts: ActivationMap, name: string): tf.Tensor {
  const t = acts[name];
  if (t === undefined) {
    throw new Error(
      `Cannot propagate relevance: activation "${name}" is not in the trace`,
    );
  }
  return t;
}

function weightsOf(
  weights: ReadonlyMap<string, LayerWeights>,
  name: string,
): LayerWeights {
  const w = weights.get(name);
  if (w === undefined) {
    throw new Error(
      `Cannot propagate relevance: no weights for layer "${name}"`,
    );
  }
  return w;
}

/** The concatenated input: dense inputs flattened to [N, size], conv inputs along channels. */
function concatenate(
  acts: ActivationMap,
  inputs: readonly InputPart[],
  conv: boolean,
): tf.Tensor {
  const parts = inputs.map((i) => {
    const t = activation(acts, i.from);
    return conv || t.rank === 2 ? t : tf.reshape(t, [t.shape[0]!, i.size]);
  });
  return parts.length === 1 ? parts[0]! : tf.concat(parts, conv ? 3 : 1);
}

/** Splits a concatenation's relevance and adds each part to its input. */
function distribute(
  graph: ArchitectureGraph,
  rel: RelevanceMap,
  inputs: readonly InputPart[],
  relevance: tf.Tensor,
  conv: boolean,
): void {
  const parts = inputs.length === 1
    ? [relevance]
    : tf.split(relevance, inputs.map((i) => i.size), conv ? 3 : 1);
  inputs.forEach((input, k) => {
    const part = parts[k]!;
    const shape = graph.shapes[input.from]!;
    addRelevance(
      rel,
      input.from,
      conv || shape.length === 1
        ? part
        : tf.reshape(part, [part.shape[0]!, ...shape]),
    );
  });
}

/**
 * Propagates the relevance of one layer's outputs to its inputs, in place:
 * the outputs' entries are removed from `rel` and the inputs' entries
 * receive their shares. Does nothing when no output holds relevance.
 *
 * Kinds: dense and conv apply the planned rule to the concatenated input
 * and split the result by the kernel's input slices; pool applies the
 * pooling rule; reshape reshapes back; the R-LSTM cell sends all of R(h) to
 * c, splits R(c) between c_{t−1} and the candidate (gates get nothing) and
 * applies the candidate's rule with the candidate's kernel slice only.
 *
 * Call inside `tf.tidy`: it creates tensors freely.
 *
 * @param graph the architecture (activation shapes)
 * @param op the planned layer
 * @param acts the step's activations
 * @param weights layer weights by layer name
 * @param rel relevance by activation name, updated in place
 * @param cache weight-derived tensors of this layer kept across calls (a
 *   pass's time steps); absent: rebuilt per call
 * @returns the per-sample relevance absorbed by this layer, [N], or
 *   undefined when the layer received no relevance
 */
export function layerRelevance(
  graph: ArchitectureGraph,
  op: LayerOp,
  acts: ActivationMap,
  weights: ReadonlyMap<string, LayerWeights>,
  rel: RelevanceMap,
  cache?: WeightCache,
): tf.Tensor1D | undefined {
  if (op.kind === "lstm") {
    return lstmRelevance(graph, op, acts, weights, rel, cache);
  }
  const out = rel[op.layer.output];
  if (out === undefined) return undefined;
  delete rel[op.layer.output];
  switch (op.kind) {
    case "reshape":
      addRelevance(
        rel,
        op.layer.input,
        tf.reshape(out, [out.shape[0]!, ...op.inputShape]),
      );
      return undefined;
    case "pool": {
      // The pooled map is the trace's pool output (same kernel, same scale).
      const pooled = acts[op.layer.output];
      // Pooled ReLU maps: the upper rule multiplies R by the pooled value,
      // so R is 0 wherever it is (activeOnly).
      const r = applyRule(op.rule, op.map, {
        input: activation(acts, op.layer.input),
        relevance: out,
        ...(pooled === undefined ? {} : { output: pooled, activeOnly: true }),
      });
      addRelevance(rel, op.layer.input, r.relevance);
      return r.absorbed;
    }
    case "dense":
    case "conv": {
      const conv = op.kind === "conv";
      const w = weightsOf(weights, op.layer.name);
      // W·x as the trace computed it (static layers of a batched trace).
      const linear = acts[linearOutputName(op.layer.output)];
      const r = applyRule(op.rule, conv ? FAST_CONV2D : FAST_DENSE, {
        input: concatenate(acts, op.inputs, conv),
        weight: w.kernel,
        bias: w.bias,
        relevance: out,
        ...(cache === undefined ? {} : { cache }),
        // A ReLU layer's relevance is its upper rules' products with its
        // activation: zero wherever the unit is off.
        ...(linear === undefined
          ? {}
          : { output: linear, activeOnly: op.layer.activation === "relu" }),
      });
      distribute(graph, rel, op.inputs, r.relevance, conv);
      return r.absorbed;
    }
  }
}

function lstmRelevance(
  graph: ArchitectureGraph,
  op: LayerOp & { kind: "lstm" },
  acts: ActivationMap,
  weights: ReadonlyMap<string, LayerWeights>,
  rel: RelevanceMap,
  cache: WeightCache | undefined,
): tf.Tensor1D | undefined {
  const { outputs, cellInput } = op.layer;
  const fromC = rel[outputs.c];
  const fromH = rel[outputs.h];
  if (fromC === undefined && fromH === undefined) return undefined;
  delete rel[outputs.c];
  delete rel[outputs.h];
  // h = o ⊙ c with o held constant: all of R(h) goes to c.
  const relevance = fromC === undefined
    ? fromH!
    : fromH === undefined
    ? fromC
    : tf.add(fromC, fromH);
  const cell = lstmCellRelevance({
    previousCell: activation(acts, cellInput),
    forget: activation(acts, outputs.f),
    cell: activation(acts, outputs.c),
    relevance,
  }, op.cell);
  addRelevance(rel, cellInput, cell.previousCell);
  const candidate = weightsOf(weights, op.layer.name).gates?.g;
  if (candidate === undefined) {
    throw new Error(
      `Cannot propagate relevance: layer "${op.layer.name}" has no candidate weights`,
    );
  }
  const r = applyRule(op.candidate, FAST_DENSE, {
    input: concatenate(acts, op.inputs, false),
    weight: candidate.kernel,
    bias: candidate.bias,
    relevance: cell.candidate,
    ...(cache === undefined ? {} : { cache }),
  });
  distribute(graph, rel, op.inputs, r.relevance, false);
  return tf.add(cell.absorbed, r.absorbed) as tf.Tensor1D;
}
