/**
 * Steps 2 and 4 of the LRP engine (`core.ts`): the forward maps of a rule's
 * terms and their transposes, merged into as few linear maps as the terms
 * allow, with weight-derived tensors kept in a {@linkcode WeightCache}.
 * Same products as term by term, in fewer and larger calls.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { LinearLayer, Term } from "./_linear_layer.ts";
import type { WeightCache } from "./weight_cache.ts";

/** Computes `make()`, through the cache when there is one. */
export function cached(
  cache: WeightCache | undefined,
  key: string,
  make: () => tf.Tensor,
): tf.Tensor {
  return cache === undefined ? make() : cache.get(key, make);
}

/** The axes along which weights stack: by output unit and by input unit. */
function stackAxes(
  layer: LinearLayer,
): { output: number; input: number } | undefined {
  if (layer.kind === "dense") return { output: 1, input: 0 };
  if (layer.kind === "conv2d") return { output: 3, input: 2 };
  return undefined;
}

/**
 * Step 2, forward. A term that carries its `output` keeps it; a term that
 * reads the layer input with the layer weight takes `known.output` when
 * the caller has it (a forward trace's W·x). On
 * dense layers the other terms that read the layer input itself go through
 * one matmul with their weights stacked by output unit (αβ: `[W⁺ | W⁻]`),
 * then split. Convolutions stay term by term: splitting
 * their output along channels is an element-by-element copy on `wasm` that
 * costs about what the saved convolution does.
 */
export function forwardTerms(
  layer: LinearLayer,
  terms: readonly Term[],
  input: tf.Tensor,
  cache: WeightCache | undefined,
  known?: { weight: tf.Tensor | null; output: tf.Tensor },
): tf.Tensor[] {
  const outputs = new Map<Term, tf.Tensor>();
  for (const t of terms) if (t.output !== undefined) outputs.set(t, t.output);
  // The unmodified map's output, already computed by the caller.
  const plain = known === undefined
    ? undefined
    : terms.find((t) =>
      !outputs.has(t) && t.input === input && t.weight === known.weight
    );
  if (plain !== undefined) outputs.set(plain, known!.output);
  const shared = terms.filter((t) =>
    !outputs.has(t) && t.input === input && t.weight !== null
  );
  if (layer.kind === "dense" && shared.length > 1) {
    const weights = shared.map((t) => t.weight as tf.Tensor);
    const stacked = cached(cache, "forward", () => tf.concat(weights, 1));
    const z = layer.forward(input, stacked);
    const parts = tf.split(z, weights.map((w) => w.shape[1]!), 1);
    shared.forEach((t, k) => outputs.set(t, parts[k]!));
  }
  return terms.map((t) => outputs.get(t) ?? layer.forward(t.input, t.weight));
}

/**
 * The layer's transpose of `g` against weight `w` (cached under `key`),
 * onto inputs of shape `s`.
 */
type Transpose = (
  g: tf.Tensor,
  w: tf.Tensor,
  key: string,
  s: readonly number[],
) => tf.Tensor;

/**
 * `Σ_k c_k · value(item_k, k)` over items with a coefficient c_k = ±1, as
 * additions and subtractions (a negation only when the first is −1).
 */
function signedSum<T extends { coefficient: 1 | -1 }>(
  items: readonly T[],
  value: (item: T, k: number) => tf.Tensor,
): tf.Tensor {
  let sum: tf.Tensor | undefined;
  items.forEach((item, k) => {
    const v = value(item, k);
    sum = sum === undefined
      ? (item.coefficient === 1 ? v : tf.neg(v))
      : (item.coefficient === 1 ? tf.add(sum, v) : tf.sub(sum, v));
  });
  return sum!;
}

/** A term whose input may be the constant 1 (`null`). */
interface Part {
  input: tf.Tensor | null;
  weight: tf.Tensor;
  coefficient: 1 | -1;
}

/**
 * On dense layers, folds the terms with a constant input (batch 1 and not
 * the layer input: the zᴮ bounds) into one weight,
 * `V = Σ_k c_k diag(x_k) W_k`, since `x_k ⊙ (s W_kᵀ) = s (diag(x_k) W_k)ᵀ`
 * for a batch-1 x_k: zᴮ's backward then needs `[W | V]`, not
 * `[W | W⁺ | W⁻]`. Convolutions keep their terms (a bound that varies over
 * space does not fold into a kernel).
 */
function foldConstants(
  layer: LinearLayer,
  terms: readonly Term[],
  input: tf.Tensor,
  cache: WeightCache | undefined,
): Part[] {
  const parts = terms as Part[];
  if (layer.kind !== "dense") return parts;
  const fixed = terms.filter((t) =>
    t.input !== input && t.input.shape[0] === 1
  );
  if (fixed.length === 0 || fixed.length === terms.length) return parts;
  const folded = cached(cache, "folded", () => {
    let v: tf.Tensor | undefined;
    for (const t of fixed) {
      const w = tf.mul(
        tf.reshape(t.input, [-1, 1]),
        t.coefficient === 1 ? t.weight! : tf.neg(t.weight!),
      );
      v = v === undefined ? w : tf.add(v, w);
    }
    return v!;
  });
  return [
    ...terms.filter((t) => !fixed.includes(t)) as Part[],
    { input: null, weight: folded, coefficient: 1 },
  ];
}

/**
 * {@linkcode sharedGradient} on a dense layer: one transpose against the m
 * weights stacked by input row, `g · [W_1ᵀ | … | W_mᵀ]` = [N, m·I], then
 * part k's block times its signed input (the folded constant's block as
 * it is). Slicing m blocks of [N, I] is cheaper than building the
 * interleaved inputs [N, I, m] by broadcasting along a last axis of 1, an
 * element loop on wasm (2.1 of an R-LSTM αβ pass's 9.7 kernel ms on blas).
 */
function denseSharedGradient(
  parts: readonly Part[],
  gradient: tf.Tensor,
  inputShape: readonly number[],
  cache: WeightCache | undefined,
  transpose: Transpose,
): tf.Tensor {
  const m = parts.length;
  const units = inputShape[1]!;
  const rows = cached(
    cache,
    "rows",
    () => tf.concat(parts.map((p) => p.weight), 0),
  );
  const back = transpose(gradient, rows, "rows", [inputShape[0]!, m * units]);
  const n = back.shape[0]!;
  return signedSum(parts, (p, k) => {
    const block = tf.slice(back, [0, k * units], [n, units]);
    return p.input === null ? block : tf.mul(p.input, block);
  });
}

/**
 * The terms share one gradient: one transpose against the m weights
 * interleaved by input unit, read as [..., I, m], times the signed inputs
 * in their slots, summed over the last axis (no split); dense layers take
 * {@linkcode denseSharedGradient}.
 */
function sharedGradient(
  layer: LinearLayer,
  parts: readonly Part[],
  gradient: tf.Tensor,
  inputShape: readonly number[],
  cache: WeightCache | undefined,
  transpose: Transpose,
): tf.Tensor {
  const axes = stackAxes(layer)!;
  const m = parts.length;
  const w = parts.map((p) => p.weight);
  if (layer.kind === "dense") {
    return denseSharedGradient(parts, gradient, inputShape, cache, transpose);
  }
  const stackedShape = [...w[0]!.shape];
  stackedShape[axes.input] *= m;
  // Stack on a new leading axis (contiguous), then move it after the
  // input axis: a native transpose instead of an element-loop stack.
  const perm = w[0]!.shape.map((_, i) => i + 1);
  perm.splice(axes.input + 1, 0, 0);
  const interleaved = cached(
    cache,
    "interleaved",
    () => tf.reshape(tf.transpose(tf.stack(w, 0), perm), stackedShape),
  );
  const last = inputShape.length - 1;
  const back = transpose(gradient, interleaved, "interleaved", [
    ...inputShape.slice(0, last),
    inputShape[last]! * m,
  ]);
  // [..., I, m]: part k's signed input in slot k, built by broadcasting
  // (a stack or tile along the last axis is an element loop on wasm).
  let inputs: tf.Tensor | undefined;
  parts.forEach((p, k) => {
    const slot = new Float32Array(m);
    slot[k] = p.coefficient;
    const part = p.input === null
      ? tf.tensor1d(slot)
      : tf.mul(tf.reshape(p.input, [...p.input.shape, 1]), tf.tensor1d(slot));
    inputs = inputs === undefined ? part : tf.add(inputs, part);
  });
  const shape = [...back.shape.slice(0, -1), inputShape.at(-1)!, m];
  return tf.sum(tf.mul(tf.reshape(back, shape), inputs!), -1);
}

/**
 * Steps 4–5, backward and multiply, with as few transposed maps as the
 * terms allow (the transposes dominate a pass):
 *
 * - one gradient for every term (zᴮ, the mixed rule): one transpose
 *   against the m weights interleaved by input unit (`[W | W⁺ | W⁻]` with
 *   the m copies of input i adjacent), so the result reads [..., I, m] and
 *   `Σ_k c_k x_k ⊙ back_k` is a product with the stacked inputs and a sum
 *   over the last axis, with no split (a convolution with 1 output channel
 *   costs about as much as one with 3); on dense layers the constant
 *   (bound) terms are first folded into one weight ({@linkcode foldConstants});
 * - one input for every term (αβ) on a dense layer:
 *   `x ⊙ Lᵀ([c_1 s_1 | c_2 s_2]; [W_1 | W_2])`, one matmul of the gradients
 *   and weights stacked by output unit (convolutions stay term by term:
 *   the stacked convolution does the same work and the channel concat is
 *   an element loop on `wasm`);
 * - otherwise term by term, with one product with the input when every
 *   term reads the same input (αβ on a convolution).
 */
export function backwardTerms(
  layer: LinearLayer,
  terms: readonly Term[],
  gradients: readonly tf.Tensor[],
  input: tf.Tensor,
  cache: WeightCache | undefined,
): tf.Tensor {
  const inputShape = input.shape;
  const axes = stackAxes(layer);
  const transpose = (
    g: tf.Tensor,
    w: tf.Tensor,
    key: string,
    s: readonly number[],
  ) =>
    layer.adjoint === undefined || cache === undefined
      ? layer.transpose(g, w, s)
      : layer.adjoint.apply(
        g,
        cache.get(`adjoint:${key}`, () => layer.adjoint!.prepare(w)),
        s,
      );
  const weights = terms.map((t) => t.weight);
  const m = terms.length;
  const stackable = axes !== undefined && m > 1 &&
    weights.every((w) => w !== null);
  if (stackable && gradients.every((g) => g === gradients[0])) {
    return sharedGradient(
      layer,
      foldConstants(layer, terms, input, cache),
      gradients[0]!,
      inputShape,
      cache,
      transpose,
    );
  }
  if (
    stackable && layer.kind === "dense" &&
    terms.every((t) => t.input === terms[0]!.input)
  ) {
    const signed = gradients.map((g, k) =>
      terms[k]!.coefficient === 1 ? g : tf.neg(g)
    );
    const g = tf.concat(signed, signed[0]!.rank - 1);
    const stacked = cached(
      cache,
      "stacked",
      () => tf.concat(weights as tf.Tensor[], axes.output),
    );
    const back = transpose(g, stacked, "stacked", inputShape);
    return tf.mul(terms[0]!.input, back);
  }
  const backOf = (term: Term, k: number) =>
    term.weight === null
      ? layer.transpose(gradients[k]!, null, inputShape)
      : transpose(gradients[k]!, term.weight, `term:${k}`, inputShape);
  if (m > 1 && terms.every((t) => t.input === terms[0]!.input)) {
    // One input (αβ on a convolution): Σ_k c_k x ⊙ g_k = x ⊙ Σ_k c_k g_k,
    // one product with x instead of m.
    return tf.mul(terms[0]!.input, signedSum(terms, backOf));
  }
  return signedSum(terms, (term, k) => tf.mul(term.input, backOf(term, k)));
}
