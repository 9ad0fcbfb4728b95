/**
 * JSON-able model specifications: which architecture, how the input is cut
 * into steps, dropout, bias parameterisation and layer sizes. Defaults follow
 * thesis-code §1.3 (architecture strings) and thesis §3.1 (biases).
 *
 * @module
 */

/** The eight architectures of the thesis (thesis-code §2.1–2.11). */
export type Architecture =
  | "shallow"
  | "deep"
  | "deep_v2"
  | "conv_deep"
  | "conv_plus_deep"
  | "r_lstm"
  | "conv_r_lstm"
  | "conv_plus_r_lstm";

/** Every {@linkcode Architecture}, in the thesis's order. */
export const ARCHITECTURES: readonly Architecture[] = Object.freeze([
  "shallow",
  "deep",
  "deep_v2",
  "conv_deep",
  "conv_plus_deep",
  "r_lstm",
  "conv_r_lstm",
  "conv_plus_r_lstm",
]);

/**
 * Dropout during training (thesis-code §1.5): `naive` draws a fresh mask at
 * every step and use, `stationary` one mask per sequence (the "-SD" models).
 */
export type DropoutMode = "none" | "naive" | "stationary";

/** Every {@linkcode DropoutMode}. */
export const DROPOUT_MODES: readonly DropoutMode[] = Object.freeze([
  "none",
  "naive",
  "stationary",
]);

/**
 * Bias parameterisation of ReLU and logit layers: `softplus` computes
 * `W·a − softplus(b)` with softplus(b) = 0.01 at initialisation (the thesis
 * text); `none` has no bias (the released code, whose biases were exactly 0).
 * LSTM gates always have a plain, zero-initialised bias.
 */
export type BiasMode = "softplus" | "none";

/** Every {@linkcode BiasMode}. */
export const BIAS_MODES: readonly BiasMode[] = Object.freeze([
  "softplus",
  "none",
]);

/**
 * Names of the layer sizes a spec may override: output units of dense layers,
 * filters of convolutions, cells of the recurrence (`recur`: the recurrent
 * layer of the Deep family, the hidden state of Shallow, the LSTM cells of
 * the R-LSTM family).
 */
export type LayerSizeKey =
  | "conv1"
  | "conv2"
  | "in1"
  | "in2"
  | "hidden"
  | "recur"
  | "out1";

/** Layer sizes by name; which names exist depends on the architecture. */
export type LayerSizes = Partial<Record<LayerSizeKey, number>>;

/** A complete, JSON-able description of one model. */
export interface ModelSpec {
  /** Which network. */
  architecture: Architecture;
  /** Sequence length T. */
  steps: number;
  /** Image columns per step c; the image is `rows × steps·columns`. */
  columns: number;
  /** Image rows (28 for every dataset of the thesis). */
  rows: number;
  /** Dropout mode during training. */
  dropout: DropoutMode;
  /** Keep probability of dropout during training (0.8 in the thesis). */
  keepProb: number;
  /** Bias parameterisation of ReLU and logit layers. */
  bias: BiasMode;
  /** Layer sizes; {@linkcode validateSpec} fills in the defaults. */
  layers: LayerSizes;
}

/** The input of {@linkcode createSpec}: only the architecture is required. */
export interface ModelSpecInit extends Partial<Omit<ModelSpec, "layers">> {
  /** Which network. */
  architecture: Architecture;
  /** Layer-size overrides; the rest come from {@linkcode DEFAULT_LAYER_SIZES}. */
  layers?: LayerSizes;
}

/**
 * Default layer sizes per architecture (thesis-code §1.3). Convolutions are
 * 5×5 (`conv1`) and 3×3 (`conv2`), each followed by 2×2 average pooling.
 */
export const DEFAULT_LAYER_SIZES: Readonly<
  Record<Architecture, Readonly<LayerSizes>>
> = Object.freeze({
  shallow: { hidden: 256, recur: 256 },
  deep: { in1: 256, hidden: 128, recur: 256, out1: 32 },
  "deep_v2": { in1: 128, in2: 256, hidden: 128, recur: 256, out1: 32 },
  "conv_deep": {
    conv1: 24,
    conv2: 32,
    in1: 128,
    hidden: 128,
    recur: 256,
    out1: 32,
  },
  "conv_plus_deep": {
    conv1: 24,
    conv2: 32,
    in1: 128,
    hidden: 128,
    recur: 256,
    out1: 32,
  },
  "r_lstm": { in1: 256, recur: 72 },
  "conv_r_lstm": { conv1: 24, conv2: 32, in1: 128, recur: 96 },
  "conv_plus_r_lstm": { conv1: 24, conv2: 32, in1: 128, recur: 96 },
});

/** Number of classes (the logits; the zero pseudo-logit is added in the loss). */
export const NUM_CLASSES = 10;

const SPEC_KEYS = new Set([
  "architecture",
  "steps",
  "columns",
  "rows",
  "dropout",
  "keepProb",
  "bias",
  "layers",
]);

/**
 * The default dropout mode: stationary for the convolutional R-LSTMs (the
 * thesis trained only their "-SD" variants), naive otherwise.
 */
export function defaultDropout(architecture: Architecture): DropoutMode {
  return architecture === "conv_r_lstm" || architecture === "conv_plus_r_lstm"
    ? "stationary"
    : "naive";
}

/**
 * Builds a validated spec from an architecture and optional overrides.
 * Defaults: T = 12, c = 7, rows = 28, keepProb = 0.8, bias "softplus",
 * dropout per {@linkcode defaultDropout}, layer sizes per
 * {@linkcode DEFAULT_LAYER_SIZES}.
 *
 * @param init the architecture and any overrides
 * @returns a frozen, validated spec
 * @throws {TypeError} if a field has the wrong type or an unknown value
 * @throws {RangeError} if a number is out of range
 * @example
 * ```ts
 * const spec = createSpec({ architecture: "r_lstm", steps: 4, columns: 7 });
 * ```
 */
export function createSpec(init: ModelSpecInit): ModelSpec {
  const spec: Record<string, unknown> = {
    steps: 12,
    columns: 7,
    rows: 28,
    keepProb: 0.8,
    bias: "softplus",
    dropout: defaultDropout(init.architecture),
  };
  for (const [key, value] of Object.entries(init)) {
    if (value !== undefined) spec[key] = value;
  }
  return validateSpec(spec);
}

function fail(message: string, Kind: typeof TypeError = TypeError): never {
  throw new Kind(`Cannot validate model spec: ${message}`);
}

function positiveInt(value: unknown, field: string, max = 100_000): number {
  if (typeof value !== "number") {
    fail(`"${field}" must be a number: got ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < 1 || value > max) {
    fail(
      `"${field}" must be an integer in [1, ${max}]: got ${value}`,
      RangeError,
    );
  }
  return value;
}

function oneOf<T extends string>(
  value: unknown,
  field: string,
  allowed: readonly T[],
): T {
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    fail(
      `"${field}" must be one of ${allowed.join(", ")}: got ${
        JSON.stringify(value)
      }`,
    );
  }
  return value as T;
}

function validateLayers(
  value: unknown,
  architecture: Architecture,
): LayerSizes {
  const defaults = DEFAULT_LAYER_SIZES[architecture];
  if (value === undefined) return { ...defaults };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(`"layers" must be an object: got ${JSON.stringify(value)}`);
  }
  const out: LayerSizes = { ...defaults };
  for (const [key, size] of Object.entries(value)) {
    if (!(key in defaults)) {
      fail(
        `"layers.${key}" is not a layer of "${architecture}": expected one of ${
          Object.keys(defaults).join(", ")
        }`,
        RangeError,
      );
    }
    out[key as LayerSizeKey] = positiveInt(size, `layers.${key}`, 65_536);
  }
  return out;
}

/**
 * Checks a spec (for example one parsed from JSON) and returns a frozen copy
 * with every layer size filled in.
 *
 * @param spec the candidate spec
 * @returns the validated spec
 * @throws {TypeError} if a field is missing, has the wrong type, or the spec has unknown fields
 * @throws {RangeError} if a number is out of range or a layer size names a layer the architecture lacks
 */
export function validateSpec(spec: unknown): ModelSpec {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    fail(`expected an object: got ${JSON.stringify(spec)}`);
  }
  const raw = spec as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!SPEC_KEYS.has(key)) fail(`unknown field "${key}"`);
  }
  const architecture = oneOf(raw.architecture, "architecture", ARCHITECTURES);
  const keepProb = raw.keepProb;
  if (typeof keepProb !== "number") {
    fail(`"keepProb" must be a number: got ${typeof keepProb}`);
  }
  if (!(keepProb > 0 && keepProb <= 1)) {
    fail(`"keepProb" must be in (0, 1]: got ${keepProb}`, RangeError);
  }
  const layers = validateLayers(raw.layers, architecture);
  return Object.freeze({
    architecture,
    steps: positiveInt(raw.steps, "steps", 4096),
    columns: positiveInt(raw.columns, "columns", 4096),
    rows: positiveInt(raw.rows, "rows", 4096),
    dropout: oneOf(raw.dropout, "dropout", DROPOUT_MODES),
    keepProb,
    bias: oneOf(raw.bias, "bias", BIAS_MODES),
    layers: Object.freeze(layers),
  });
}

/**
 * Returns a layer size of a validated spec.
 *
 * @param spec a spec returned by {@linkcode validateSpec} or {@linkcode createSpec}
 * @param key the layer
 * @returns the size
 * @throws {RangeError} if the architecture has no such layer
 */
export function layerSize(spec: ModelSpec, key: LayerSizeKey): number {
  const size = spec.layers[key];
  if (size === undefined) {
    throw new RangeError(
      `Cannot read layer size "${key}": architecture "${spec.architecture}" has no such layer`,
    );
  }
  return size;
}
