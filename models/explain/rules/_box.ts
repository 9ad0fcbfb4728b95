/**
 * The z^B ("box") machinery shared by {@linkcode ZBox} and the mixed-domain
 * concatenation rule: bound tensors, the three terms and the shared divide.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  divideStabilized,
  type LinearLayer,
  negativePart,
  type Normalized,
  type RuleContext,
  type Term,
} from "../core.ts";

/** A bound: one number for every input, or a tensor of per-input bounds. */
export type Bound = number | tf.Tensor;

/**
 * Checks a tensor bound's dtype and shape: `shape` (one bound per input,
 * shared by the batch) or `[N, ...shape]` (per sample).
 *
 * @throws {TypeError} if the bound does not fit
 */
export function checkBoundShape(
  rule: string,
  layer: LinearLayer,
  name: string,
  bound: Bound,
  shape: readonly number[],
  batch: number,
): void {
  if (typeof bound === "number") return;
  const ok = (s: readonly number[], want: readonly number[]) =>
    s.length === want.length && s.every((d, i) => d === want[i]);
  if (bound.dtype !== "float32") {
    throw new TypeError(
      `Cannot apply rule "${rule}" to layer "${layer.kind}": ${name} has dtype "${bound.dtype}", expected "float32"`,
    );
  }
  if (!ok(bound.shape, shape) && !ok(bound.shape, [batch, ...shape])) {
    throw new TypeError(
      `Cannot apply rule "${rule}" to layer "${layer.kind}": ${name} has shape [${
        bound.shape.join(", ")
      }], expected [${shape.join(", ")}] or [${[batch, ...shape].join(", ")}]`,
    );
  }
}

/**
 * Checks scalar bounds: finite with low < high.
 *
 * @throws {RangeError} if they are not
 */
export function checkScalarBounds(rule: string, low: Bound, high: Bound): void {
  for (const [name, v] of [["low", low], ["high", high]] as const) {
    if (typeof v === "number" && !Number.isFinite(v)) {
      throw new RangeError(
        `Cannot create rule "${rule}": ${name} must be finite, got ${v}`,
      );
    }
  }
  if (typeof low === "number" && typeof high === "number" && !(low < high)) {
    throw new RangeError(
      `Cannot create rule "${rule}": low must be below high, got low ${low} and high ${high}`,
    );
  }
}

/**
 * A bound as a tensor of shape `[1, ...shape]` or `[N, ...shape]`. Call
 * inside a `tidy`; caller owns the returned tensor.
 */
export function boundTensor(bound: Bound, shape: readonly number[]): tf.Tensor {
  if (typeof bound === "number") return tf.fill([1, ...shape], bound);
  return bound.rank === shape.length ? tf.expandDims(bound, 0) : bound;
}

/**
 * The z^B terms `(x, V, +1), (l, w⁺, −1), (h, w⁻, −1)`: V is the weight of
 * the plain term (W itself for ZBox; for the mixed rule W on the pixel rows
 * and `α w⁺ − β w⁻` on the non-negative rows, whose bounds are 0).
 * `derive` is the rule context's weight cache (w⁺ and w⁻ depend on the
 * weight only); without it they are computed per call.
 */
export function boxTerms(
  input: tf.Tensor,
  plain: tf.Tensor,
  weight: tf.Tensor,
  low: tf.Tensor,
  high: tf.Tensor,
  derive: (key: string, make: () => tf.Tensor) => tf.Tensor = (_, make) =>
    make(),
): Term[] {
  return [
    { input, weight: plain, coefficient: 1 },
    {
      input: low,
      weight: derive("w+", () => tf.relu(weight)),
      coefficient: -1,
    },
    {
      input: high,
      weight: derive("w-", () => negativePart(weight)),
      coefficient: -1,
    },
  ];
}

/**
 * The shared divide of the z^B terms: `s = R / (z_x − z_l − z_h + ε)`.
 * On the rule's domain every term `x w − l w⁺ − h w⁻` is ≥ 0, so the
 * denominator is ≥ 0 and the stabiliser is `+ε`; outside it, the stabiliser
 * takes the denominator's sign.
 *
 * `active`: the caller guarantees that R ≠ 0 only where `W·x > 0` (a ReLU
 * layer's relevance with `W·x` given, see `LayerTensors.activeOnly`) and
 * that l ≤ 0 ≤ h. Then, where R ≠ 0, `z_x − z_l − z_h ≥ W·x > 0` whatever
 * the inputs (−l w⁺ ≥ 0 and −h w⁻ ≥ 0), so the sign is known: `+ε`, and
 * relu keeps the denominator ≥ ε where R = 0 (quotient 0 either way), in
 * two element-wise passes fewer.
 */
export function boxNormalize(
  relevance: tf.Tensor,
  outputs: tf.Tensor[],
  stabilizer: number,
  active = false,
): Normalized {
  const [zx, zl, zh] = outputs as [tf.Tensor, tf.Tensor, tf.Tensor];
  // The bound terms first: with scalar or per-input bounds they are one
  // sample, so the batch-sized z_x is read once instead of twice.
  const z = tf.sub(zx, tf.add(zl, zh));
  if (active && stabilizer > 0) {
    const quotient = tf.div(relevance, tf.add(tf.relu(z), stabilizer));
    return {
      gradients: [quotient, quotient, quotient],
      absorbed: quotient,
      absorbedScale: stabilizer,
    };
  }
  const { quotient, absorbed } = divideStabilized(relevance, z, stabilizer);
  return { gradients: [quotient, quotient, quotient], absorbed };
}

/**
 * The backward step of {@linkcode boxTerms} on convolutions whose plain
 * weight is the layer weight w (ZBox, and MixedDomain with every input a
 * pixel): `x⊙Lᵀ(s; w) − l⊙Lᵀ(s; w⁺) − h⊙Lᵀ(s; w⁻) = (x − l)⊙Lᵀ(s; w⁺) +
 * (x − h)⊙Lᵀ(s; w⁻)`, as w = w⁺ + w⁻: two transposes onto the input's
 * channels instead of the engine's one onto three times as many. Where the
 * layer's {@linkcode LinearLayer.transposeEach} takes both (`FAST_CONV2D`
 * on narrow images onto one channel, a first layer onto pixels), they are
 * one call (one banded convolution) and the two products one multiply and
 * a sum over the pair. Returns undefined (the engine's form) on other layers.
 * Runs inside the engine's `tidy`.
 *
 * @param context the rule context
 * @param terms the terms of {@linkcode boxTerms}
 * @param gradients the shared gradient s (three times)
 * @returns the input relevance, or undefined
 */
export function boxBackward(
  context: RuleContext,
  terms: readonly Term[],
  gradients: readonly tf.Tensor[],
): tf.Tensor | undefined {
  const { layer, input } = context;
  const [plain, low, high] = terms as [Term, Term, Term];
  if (layer.kind !== "conv2d" || plain.weight !== context.weight) {
    return undefined;
  }
  const s = gradients[0]!;
  const both = layer.transposeEach?.(
    s,
    [low.weight!, high.weight!],
    input.shape,
  );
  if (both !== undefined) {
    // (x − l, x − h) against (Lᵀ(s; w⁺), Lᵀ(s; w⁻)), paired along a last
    // axis of 2. The bounds are joined before the batch broadcasts in (a
    // concat along a last axis of 1 is an element loop on wasm: 10 ms at
    // 600×28×7). One channel (pixels) stays 4-D: subtract, multiply and
    // sum take 1.4 ms there against 3.2 in 5-D at 600×28×7 on wasm.
    const c = input.shape.at(-1)!;
    const pair = (t: tf.Tensor) => c === 1 ? t : tf.expandDims(t, -1);
    const bounds = tf.concat([pair(low.input), pair(high.input)], -1);
    const offsets = tf.sub(pair(input), bounds);
    const backs = c === 1
      ? both
      : tf.reshape(both, [...both.shape.slice(0, -1), c, 2]);
    return tf.sum(tf.mul(offsets, backs), -1, c === 1);
  }
  const back = (key: string, w: tf.Tensor) => {
    const adjoint = layer.adjoint;
    return adjoint === undefined
      ? layer.transpose(s, w, input.shape)
      : adjoint.apply(
        s,
        context.derive(`adjoint:${key}`, () => adjoint.prepare(w)),
        input.shape,
      );
  };
  return tf.add(
    tf.mul(tf.sub(input, low.input), back("w+", low.weight!)),
    tf.mul(tf.sub(input, high.input), back("w-", high.weight!)),
  );
}
