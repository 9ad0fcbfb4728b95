/**
 * The shared LRP engine. A {@linkcode Rule} is declarative (zennit's
 * `BasicHook`): it supplies input and parameter modifiers as a list of
 * {@linkcode Term}s and a normaliser that divides the upper relevance by a
 * stabilised denominator. {@linkcode applyRule} does the rest, identically
 * for every rule and every {@linkcode LinearLayer}:
 *
 * 1. modify: `terms = rule.terms(x, W)`, each `(x_k, w_k, c_k)`;
 * 2. forward: `z_k = L(x_k; w_k)`; on dense layers, terms reading the
 *    layer input itself share one matmul with their weights stacked;
 * 3. divide: `s_k = rule.normalize(R, z)` (stabilised, see {@linkcode divideStabilized});
 * 4. backward: `g_k = Lᵀ(s_k; w_k)`, stacked into one transposed map when
 *    every term has the same gradient or the same input;
 * 5. multiply: `R_in = Σ_k c_k · x_k ⊙ g_k`.
 *
 * The transposes are explicit linear maps (matMul with a transposed weight,
 * `conv2dTranspose`, an explicit pooling adjoint) rather than `tf.customGrad`
 * gradients: every rule then stays a plain function of tensors, usable in a
 * relevance pass through time without a gradient tape, and `tf.avgPool`'s
 * gradient (which divides edge windows by the full window size, unlike its
 * forward pass) never enters.
 *
 * Rules are stateless and frozen, so one rule object may serve any number of
 * layers; there is no template to copy.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** The linear maps that rules act on. */
export type LayerKind = "dense" | "conv2d" | "avgPool";

/**
 * A linear map `z = L(x; w)` with its transpose, batched over the first axis.
 * Implementations live in `../layers/`.
 */
export interface LinearLayer {
  /** Which map this is; rules and error messages use it. */
  readonly kind: LayerKind;
  /** Whether the map takes a weight (dense, conv2d) or none (avgPool). */
  readonly hasWeight: boolean;
  /**
   * Checks the shapes of input and weight and returns the output shape.
   *
   * @param inputShape `[N, ...]` of the layer input
   * @param weightShape the weight shape, `null` for weightless maps
   * @returns the output shape `[N, ...]`
   * @throws {TypeError} if the shapes do not fit the map
   */
  outputShape(
    inputShape: readonly number[],
    weightShape: readonly number[] | null,
  ): number[];
  /**
   * The map itself. `x` may have batch size 1 (a constant term such as a
   * bound) and then broadcasts against batched terms.
   * Caller owns the returned tensor.
   */
  forward(x: tf.Tensor, weight: tf.Tensor | null): tf.Tensor;
  /**
   * The transpose (adjoint) `Lᵀ(g; w)`, shaped like the layer input with
   * `g`'s batch size. Caller owns the returned tensor.
   *
   * @param inputShape the layer input shape; its batch entry is ignored
   */
  transpose(
    g: tf.Tensor,
    weight: tf.Tensor | null,
    inputShape: readonly number[],
  ): tf.Tensor;
  /**
   * Optional split of {@linkcode transpose} into a weight-only part
   * (`prepare`, e.g. the transposed matrix or the flipped kernel), which a
   * {@linkcode WeightCache} keeps across calls, and the per-call rest
   * (`apply`): `apply(g, prepare(w), s)` equals `transpose(g, w, s)`.
   */
  readonly adjoint?: {
    prepare(weight: tf.Tensor): tf.Tensor;
    apply(
      g: tf.Tensor,
      prepared: tf.Tensor,
      inputShape: readonly number[],
    ): tf.Tensor;
  };
}

/**
 * Tensors derived from one layer's weight only (modified weights, stacked
 * and transposed weights), kept across the calls of one relevance pass
 * instead of being rebuilt at every time step. One cache serves one layer
 * with one rule and one weight; its owner disposes it.
 */
export class WeightCache {
  #entries = new Map<string, tf.Tensor>();

  /**
   * Returns the tensor stored under `key`, computing and keeping it on
   * first use (inside or outside a `tidy`).
   *
   * @param key a name unique within this layer's rule and the engine
   * @param make computes the tensor from the weight only
   * @returns the cached tensor; the cache owns it
   */
  get(key: string, make: () => tf.Tensor): tf.Tensor {
    let t = this.#entries.get(key);
    if (t === undefined) {
      t = tf.keep(make());
      this.#entries.set(key, t);
    }
    return t;
  }

  /** How many tensors the cache holds. */
  get size(): number {
    return this.#entries.size;
  }

  /** Disposes every cached tensor; the cache may be used again after. */
  dispose(): void {
    tf.dispose([...this.#entries.values()]);
    this.#entries.clear();
  }
}

/** Computes `make()`, through the cache when there is one. */
function cached(
  cache: WeightCache | undefined,
  key: string,
  make: () => tf.Tensor,
): tf.Tensor {
  return cache === undefined ? make() : cache.get(key, make);
}

/** The tensors one rule application needs. The caller keeps ownership. */
export interface LayerTensors {
  /** Layer input x: `[N, I]` for dense, `[N, H, W, C]` for conv2d and avgPool. */
  input: tf.Tensor;
  /** Weight W: `[I, J]` for dense, `[kh, kw, ci, co]` for conv2d; absent for avgPool. */
  weight?: tf.Tensor;
  /**
   * Effective bias b (≤ 0 in this project, `W·x − softplus(b)`): `[J]` or
   * `[co]`. Only rules with `usesBias` read it.
   * @default absent (zero)
   */
  bias?: tf.Tensor;
  /** Upper relevance R, shaped like the layer output `[N, ...]`. */
  relevance: tf.Tensor;
  /**
   * Keeps weight-derived tensors across calls with the same rule and
   * weight (a relevance pass's time steps).
   * @default none (everything is rebuilt per call)
   */
  cache?: WeightCache;
}

/** One term `z_k = L(x_k; w_k)` of a rule's decomposition of a layer. */
export interface Term {
  /** Modified input `x_k`, batch size N or 1. */
  input: tf.Tensor;
  /** Modified parameter `w_k`; `null` for weightless layers. */
  weight: tf.Tensor | null;
  /** Sign `c_k` of the term in `R_in = Σ_k c_k · x_k ⊙ Lᵀ(s_k; w_k)`. */
  coefficient: 1 | -1;
}

/** What a rule sees of the layer when it builds its terms. */
export interface RuleContext {
  /** The linear map. */
  layer: LinearLayer;
  /** Layer input x. */
  input: tf.Tensor;
  /** Layer weight, `null` for weightless layers. */
  weight: tf.Tensor | null;
  /** Effective bias, `null` when absent. */
  bias: tf.Tensor | null;
  /**
   * Computes a tensor that depends on the weight only (a parameter
   * modifier such as `w⁺`), once per cache: rules route their weight
   * modifiers through it. The result must not be disposed by the rule.
   */
  derive(key: string, make: () => tf.Tensor): tf.Tensor;
}

/** The output of a rule's divide step. */
export interface Normalized {
  /** One output gradient `s_k` per term, shaped like the layer output. */
  gradients: tf.Tensor[];
  /**
   * Relevance absorbed per output neuron (bias and stabiliser shares, and
   * any share the rule drops explicitly), shaped like the layer output.
   */
  absorbed: tf.Tensor;
}

/**
 * A declarative LRP rule: data plus small pure pieces, applied by
 * {@linkcode applyRule}. Construct rules with the factories in `rules/`.
 */
export interface Rule {
  /** The zennit-style name, used in error messages. */
  readonly name: string;
  /** Parameters as given (after defaults), for registries and logs. */
  readonly params: Readonly<Record<string, number | string>>;
  /** Whether the rule modifies a weight, and so cannot act on avgPool. */
  readonly needsWeight: boolean;
  /** Whether the rule reads the effective bias. */
  readonly usesBias: boolean;
  /**
   * Rule-specific shape checks, run before any tensor is created.
   *
   * @throws {TypeError} if the layer tensors do not fit the rule
   */
  checkShapes?(
    layer: LinearLayer,
    inputShape: readonly number[],
    weightShape: readonly number[] | null,
  ): void;
  /** Input and parameter modifiers. Runs inside the engine's `tidy`. */
  terms(context: RuleContext): Term[];
  /**
   * The divide step: upper relevance and term outputs to output gradients
   * and absorbed relevance. Runs inside the engine's `tidy`.
   */
  normalize(
    relevance: tf.Tensor,
    outputs: tf.Tensor[],
    context: RuleContext,
  ): Normalized;
}

/** The result of {@linkcode applyRule}; the caller owns both tensors. */
export interface RuleResult {
  /** Relevance of the layer input, shaped like the input `[N, ...]`. */
  relevance: tf.Tensor;
  /**
   * Per-sample relevance absorbed by bias and stabiliser, `[N]`, computed
   * from the rule's own terms, so that
   * `Σ relevance + absorbed = Σ R` is a checkable identity.
   */
  absorbed: tf.Tensor1D;
}

function checkFloat(
  rule: Rule,
  layer: LinearLayer,
  name: string,
  t: tf.Tensor | undefined,
): void {
  if (t !== undefined && t.dtype !== "float32") {
    throw new TypeError(
      `Cannot apply rule "${rule.name}" to layer "${layer.kind}": ${name} has dtype "${t.dtype}", expected "float32"`,
    );
  }
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function validate(rule: Rule, layer: LinearLayer, t: LayerTensors): void {
  const fail = (reason: string): never => {
    throw new TypeError(
      `Cannot apply rule "${rule.name}" to layer "${layer.kind}": ${reason}`,
    );
  };
  checkFloat(rule, layer, "input", t.input);
  checkFloat(rule, layer, "weight", t.weight);
  checkFloat(rule, layer, "bias", t.bias);
  checkFloat(rule, layer, "relevance", t.relevance);
  if (rule.needsWeight && !layer.hasWeight) {
    fail("the rule modifies a weight and the layer has none");
  }
  if (layer.hasWeight && t.weight === undefined) fail("no weight was given");
  if (!layer.hasWeight && t.weight !== undefined) {
    fail("the layer takes no weight but one was given");
  }
  if (!layer.hasWeight && t.bias !== undefined) {
    fail("the layer takes no bias but one was given");
  }
  const weightShape = t.weight?.shape ?? null;
  const out = layer.outputShape(t.input.shape, weightShape);
  const r = t.relevance.shape;
  if (r.length !== out.length || r.some((d, i) => d !== out[i])) {
    fail(
      `relevance has shape ${shapeText(r)}, expected the output shape ${
        shapeText(out)
      }`,
    );
  }
  if (t.bias !== undefined) {
    const units = out[out.length - 1];
    if (t.bias.rank !== 1 || t.bias.shape[0] !== units) {
      fail(`bias has shape ${shapeText(t.bias.shape)}, expected [${units}]`);
    }
  }
  rule.checkShapes?.(layer, t.input.shape, weightShape);
}

/**
 * Applies an LRP rule to one linear layer, batched over the N samples:
 * modify → forward → divide (stabilised) → backward (transpose) → multiply.
 * All shapes and dtypes are checked before any tensor is created, so a
 * throwing call leaks nothing.
 *
 * @param rule the rule, e.g. `AlphaBeta({ alpha: 2, beta: 1 })`
 * @param layer the linear map, e.g. `DENSE`, `CONV2D`, `AVG_POOL`
 * @param tensors layer input, weight, bias and upper relevance (not disposed)
 * @returns input relevance and per-sample absorbed relevance; caller owns the returned tensors
 * @throws {TypeError} if a dtype or shape does not fit the layer or the rule,
 *   or the rule needs a weight and the layer has none
 *
 * @example
 * ```ts
 * const { relevance, absorbed } = applyRule(ZPlus(), DENSE, {
 *   input: h, weight: w, relevance: r,
 * });
 * ```
 */
export function applyRule(
  rule: Rule,
  layer: LinearLayer,
  tensors: LayerTensors,
): RuleResult {
  validate(rule, layer, tensors);
  return tf.tidy(() => {
    const context: RuleContext = {
      layer,
      input: tensors.input,
      weight: tensors.weight ?? null,
      bias: rule.usesBias ? tensors.bias ?? null : null,
      derive: (key, make) => cached(tensors.cache, `rule:${key}`, make),
    };
    const terms = rule.terms(context);
    const outputs = forwardTerms(layer, terms, tensors.input, tensors.cache);
    const { gradients, absorbed } = rule.normalize(
      tensors.relevance,
      outputs,
      context,
    );
    const relevance = backwardTerms(
      layer,
      terms,
      gradients,
      tensors.input,
      tensors.cache,
    );
    const axes = absorbed.shape.map((_, i) => i).slice(1);
    return {
      relevance: relevance as tf.Tensor,
      absorbed: tf.sum(absorbed, axes) as tf.Tensor1D,
    };
  });
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
 * Step 2, forward. On dense layers the terms that read the layer input
 * itself go through one matmul with their weights stacked by output unit
 * (αβ: `[W⁺ | W⁻]`), then split. Convolutions stay term by term: splitting
 * their output along channels is an element-by-element copy on `wasm` that
 * costs about what the saved convolution does.
 */
function forwardTerms(
  layer: LinearLayer,
  terms: readonly Term[],
  input: tf.Tensor,
  cache: WeightCache | undefined,
): tf.Tensor[] {
  const shared = terms.filter((t) => t.input === input && t.weight !== null);
  const outputs = new Map<Term, tf.Tensor>();
  if (layer.kind === "dense" && shared.length > 1) {
    const weights = shared.map((t) => t.weight as tf.Tensor);
    const stacked = cached(cache, "forward", () => tf.concat(weights, 1));
    const z = layer.forward(input, stacked);
    const parts = tf.split(z, weights.map((w) => w.shape[1]!), 1);
    shared.forEach((t, k) => outputs.set(t, parts[k]!));
  }
  return terms.map((t) => outputs.get(t) ?? layer.forward(t.input, t.weight));
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
 * The terms share one gradient: one transpose against the m weights
 * interleaved by input unit, read as [..., I, m], times the signed inputs
 * in their slots, summed over the last axis (no split).
 */
function sharedGradient(
  layer: LinearLayer,
  parts: readonly Part[],
  gradient: tf.Tensor,
  inputShape: readonly number[],
  cache: WeightCache | undefined,
  transpose: (
    g: tf.Tensor,
    w: tf.Tensor,
    key: string,
    s: readonly number[],
  ) => tf.Tensor,
): tf.Tensor {
  const axes = stackAxes(layer)!;
  const m = parts.length;
  const w = parts.map((p) => p.weight);
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
 * - otherwise term by term.
 */
function backwardTerms(
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
  let relevance: tf.Tensor | undefined;
  terms.forEach((term, k) => {
    const back = term.weight === null
      ? layer.transpose(gradients[k]!, null, inputShape)
      : transpose(gradients[k]!, term.weight, `term:${k}`, inputShape);
    const part = tf.mul(term.input, back);
    relevance = relevance === undefined
      ? (term.coefficient === 1 ? part : tf.neg(part))
      : (term.coefficient === 1
        ? tf.add(relevance, part)
        : tf.sub(relevance, part));
  });
  return relevance as tf.Tensor;
}

/**
 * The signed stabiliser `ε · sign⁺(z)`, where `sign⁺(0) = +1`, so that
 * `z + ε · sign⁺(z)` keeps the sign of z and is at least ε away from zero.
 * Caller owns the returned tensor (not wrapped in `tidy`: call it from a
 * rule, inside the engine's `tidy`).
 *
 * @param z the denominator before stabilisation
 * @param epsilon ε ≥ 0
 * @returns `ε · sign⁺(z)`, shaped like z
 */
export function stabilizer(z: tf.Tensor, epsilon: number): tf.Tensor {
  // 2ε·[z ≥ 0] − ε: one comparison instead of sign() plus a zero fix-up.
  return tf.sub(
    tf.mul(tf.cast(tf.greaterEqual(z, 0), "float32"), 2 * epsilon),
    epsilon,
  );
}

/** The output of {@linkcode divideStabilized}. */
export interface Quotient {
  /** `s = q / (z + b + ε·sign⁺(z + b))`. */
  quotient: tf.Tensor;
  /** `s ⊙ (b + ε·sign⁺(z + b))`, plus q wherever the denominator is 0 (ε = 0). */
  absorbed: tf.Tensor;
}

/**
 * The divide step shared by every rule: `s = q / (z + b + ε·sign⁺(z + b))`.
 *
 * What the bias and the stabiliser take is returned as `absorbed`, computed
 * from the terms themselves, `s ⊙ (b + ε·sign⁺(z + b))`. With ε = 0 a zero
 * denominator gives `s = 0` (not NaN) and its share q is absorbed whole. With
 * ε > 0 the denominator is never zero, and a neuron whose every contribution
 * is zero (z = 0) hands `s·ε = q` to `absorbed`.
 *
 * Must run inside a `tidy` (rules call it from `normalize`).
 *
 * @param share q, the relevance to redistribute (R times the rule's share)
 * @param z the sum of the term outputs, without bias
 * @param epsilon ε ≥ 0
 * @param bias the effective bias b, broadcast against z, or `null`
 * @returns the quotient s and the absorbed relevance, both shaped like z
 */
export function divideStabilized(
  share: tf.Tensor,
  z: tf.Tensor,
  epsilon: number,
  bias: tf.Tensor | null = null,
): Quotient {
  const withBias = bias === null ? z : tf.add(z, bias);
  if (epsilon === 0) {
    const quotient = tf.divNoNan(share, withBias);
    const dropped = tf.mul(share, tf.cast(tf.equal(withBias, 0), "float32"));
    const absorbed = bias === null
      ? dropped
      : tf.add(tf.mul(quotient, bias), dropped);
    return { quotient, absorbed };
  }
  const stab = stabilizer(withBias, epsilon);
  const quotient = tf.div(share, tf.add(withBias, stab));
  const absorbed = tf.mul(quotient, bias === null ? stab : tf.add(bias, stab));
  return { quotient, absorbed };
}

/**
 * Throws a `RangeError` unless `value` is a finite number ≥ 0.
 *
 * @param rule the rule name for the message
 * @param name the parameter name for the message
 * @param value the value to check
 * @throws {RangeError} if value is negative, NaN or infinite
 */
export function checkNonNegative(
  rule: string,
  name: string,
  value: number,
): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `Cannot create rule "${rule}": ${name} must be a finite number ≥ 0, got ${value}`,
    );
  }
}
