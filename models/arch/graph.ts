/**
 * Every architecture described as data: an ordered list of named layers per
 * step, the recurrent states they hand on, a head that reads the last step,
 * and the dropout sites used in training. One interpreter
 * (`_executor.ts`) runs this description for training, prediction and
 * tracing, and explainers walk the same description backwards.
 *
 * Activation names (per-sample shapes in {@linkcode ArchitectureGraph.shapes}):
 *
 * | name | meaning |
 * | --- | --- |
 * | `x` | the step's pixels, flattened row-major (length rows·columns) |
 * | `x_image` | the same pixels as a rows×columns×1 image (conv models) |
 * | `conv1`, `pool1`, `conv2`, `pool2`, `flat` | the convolutional front end |
 * | `in1`, `in2`, `hidden`, `recur`, `out1` | dense layers' outputs |
 * | `recur_prev`, `h_prev`, `c_prev`, `conv1_prev`, `conv2_prev` | states from step t−1 (zeros at t = 0) |
 * | `i`, `f`, `o`, `g`, `c`, `h` | the R-LSTM gates, candidate, cell and output |
 * | `logits` | the 10 class logits (head) |
 *
 * @module
 */
import {
  type Architecture,
  type ModelSpec,
  NUM_CLASSES,
  validateSpec,
} from "./spec.ts";

/** The nonlinearity of a dense or convolutional layer. */
export type Activation = "relu" | "linear";

/** One input of a layer: the activation it reads, and dropout in training. */
export interface LayerInput {
  /** Name of the activation read. */
  readonly from: string;
  /** Dropout site applied to this input in training (see {@linkcode DropoutSite}). */
  readonly dropout?: string;
}

/**
 * `activation(W·[inputs…] + bias)`: the kernel's rows follow the inputs in
 * order (a concatenation), bias is −softplus(b) or absent.
 */
export interface DenseLayer {
  readonly kind: "dense";
  /** Layer name; parameters are `<name>.kernel` [in, units] and `<name>.bias` [units]. */
  readonly name: string;
  readonly inputs: readonly LayerInput[];
  readonly output: string;
  readonly units: number;
  readonly activation: Activation;
  /** Dropout site applied to the output in training. */
  readonly dropout?: string;
}

/**
 * ReLU convolution, stride 1, SAME padding, over the channel concatenation of
 * its inputs (in order). Parameters `<name>.kernel` [kh, kw, cin, filters]
 * and `<name>.bias` [filters].
 */
export interface ConvLayer {
  readonly kind: "conv";
  readonly name: string;
  readonly inputs: readonly LayerInput[];
  readonly output: string;
  readonly filters: number;
  readonly kernelSize: readonly [number, number];
  readonly activation: "relu";
}

/**
 * Average pooling 2×2, stride 2, SAME padding (edge windows average their
 * valid elements only), multiplied by `scale` = 2 (thesis-code §1.4).
 */
export interface PoolLayer {
  readonly kind: "pool";
  readonly name: string;
  readonly input: string;
  readonly output: string;
  readonly poolSize: 2;
  readonly stride: 2;
  readonly scale: 2;
}

/** A change of per-sample shape that keeps the row-major order. */
export interface ReshapeLayer {
  readonly kind: "reshape";
  readonly name: string;
  readonly input: string;
  readonly output: string;
  readonly shape: readonly number[];
}

/**
 * The R-LSTM cell (thesis-code §2.8): with z = [inputs…]·K + bias,
 * i, f, o = σ(z_i, z_f, z_o) (plain gate bias), g = ReLU(z_g) (bias
 * −softplus(b)), c = i⊙g + f⊙c_prev, h = o⊙c. The fused kernel `<name>.kernel`
 * is [in, 4R] with column blocks i, f, o, g; `<name>.gate_bias` is [3R],
 * `<name>.candidate_bias` [R].
 */
export interface LstmLayer {
  readonly kind: "lstm";
  readonly name: string;
  /** The layer input, then `h_prev`. */
  readonly inputs: readonly LayerInput[];
  /** The previous cell state's activation name. */
  readonly cellInput: string;
  readonly units: number;
  /** Activation names of the gates, candidate, cell and output. */
  readonly outputs: Readonly<Record<LstmPart, string>>;
  /** Naive dropout sites on the gates (the naive R-LSTM of thesis-code §2.8). */
  readonly gateDropout?: Readonly<Record<"i" | "f" | "o", string>>;
  /** Dropout site on h (h_t = DO(o ⊙ c_t), which is also the next state). */
  readonly dropout?: string;
}

/** The six named quantities of one R-LSTM step. */
export type LstmPart = "i" | "f" | "o" | "g" | "c" | "h";

/** Any layer of a step or head. */
export type Layer =
  | DenseLayer
  | ConvLayer
  | PoolLayer
  | ReshapeLayer
  | LstmLayer;

/** A state handed from step t−1 to step t (zeros at t = 0). */
export interface RecurrentState {
  /** The activation name at step t (e.g. `recur_prev`). */
  readonly name: string;
  /** The activation of step t−1 it copies (e.g. `recur`). */
  readonly source: string;
}

/** A place where dropout is applied in training. */
export interface DropoutSite {
  readonly id: string;
  /**
   * `naive`: a fresh mask per step and use; `stationary`: one mask per
   * sequence, sampled at the first step and reused.
   */
  readonly mode: "naive" | "stationary";
}

/** A whole architecture as data. */
export interface ArchitectureGraph {
  readonly spec: ModelSpec;
  /** Layers run at every step, in order. */
  readonly stepLayers: readonly Layer[];
  /** Dense layers run once on the last step's activations; the last outputs `logits`. */
  readonly headLayers: readonly DenseLayer[];
  readonly states: readonly RecurrentState[];
  /** Empty when the spec's dropout is `none`. */
  readonly dropoutSites: readonly DropoutSite[];
  /** Per-sample shape of every activation (without the batch dimension). */
  readonly shapes: Readonly<Record<string, readonly number[]>>;
}

interface Builder {
  spec: ModelSpec;
  steps: Layer[];
  head: DenseLayer[];
  states: RecurrentState[];
  sites: DropoutSite[];
  shapes: Record<string, number[]>;
}

function size(b: Builder, name: string): number {
  const shape = b.shapes[name];
  if (shape === undefined) {
    throw new Error(`Cannot build graph: activation "${name}" is undefined`);
  }
  return shape.reduce((a, d) => a * d, 1);
}

function site(b: Builder, id: string, mode?: "naive"): string | undefined {
  if (b.spec.dropout === "none") return undefined;
  b.sites.push({ id, mode: mode ?? b.spec.dropout });
  return id;
}

function input(from: string, dropout?: string): LayerInput {
  return dropout === undefined ? { from } : { from, dropout };
}

function dense(
  b: Builder,
  name: string,
  inputs: LayerInput[],
  units: number,
  options: {
    activation?: Activation;
    output?: string;
    dropout?: string;
    head?: boolean;
  } = {},
): string {
  const output = options.output ?? name;
  const layer: DenseLayer = {
    kind: "dense",
    name,
    inputs,
    output,
    units,
    activation: options.activation ?? "relu",
    ...(options.dropout === undefined ? {} : { dropout: options.dropout }),
  };
  (options.head ? b.head : b.steps).push(layer);
  b.shapes[output] = [units];
  return output;
}

function convFrontEnd(b: Builder, literal: boolean): string {
  const { rows, columns } = b.spec;
  const f1 = b.spec.layers.conv1 ?? 24;
  const f2 = b.spec.layers.conv2 ?? 32;
  b.steps.push({
    kind: "reshape",
    name: "x_image",
    input: "x",
    output: "x_image",
    shape: [rows, columns, 1],
  });
  b.shapes.x_image = [rows, columns, 1];
  const conv = (name: string, src: string, filters: number, k: number) => {
    const inputs = [input(src)];
    if (literal) {
      inputs.push(input(`${name}_prev`));
      b.states.push({ name: `${name}_prev`, source: name });
    }
    b.steps.push({
      kind: "conv",
      name,
      inputs,
      output: name,
      filters,
      kernelSize: [k, k],
      activation: "relu",
    });
    const [h, w] = b.shapes[src]!;
    b.shapes[name] = [h!, w!, filters];
    if (literal) b.shapes[`${name}_prev`] = [h!, w!, filters];
  };
  const pool = (name: string, src: string) => {
    b.steps.push({
      kind: "pool",
      name,
      input: src,
      output: name,
      poolSize: 2,
      stride: 2,
      scale: 2,
    });
    const [h, w, ch] = b.shapes[src]!;
    b.shapes[name] = [Math.ceil(h! / 2), Math.ceil(w! / 2), ch!];
  };
  conv("conv1", "x_image", f1, 5);
  pool("pool1", "conv1");
  conv("conv2", "pool1", f2, 3);
  pool("pool2", "conv2");
  const flat = size(b, "pool2");
  b.steps.push({
    kind: "reshape",
    name: "flat",
    input: "pool2",
    output: "flat",
    shape: [flat],
  });
  b.shapes.flat = [flat];
  return "flat";
}

function deepFamily(b: Builder, src: string, v2: boolean): void {
  const { layers } = b.spec;
  let feature = dense(b, "in1", [input(src)], layers.in1!, {
    dropout: site(b, "in1"),
  });
  if (v2) {
    feature = dense(b, "in2", [input(feature)], layers.in2!, {
      dropout: site(b, "in2"),
    });
  }
  b.shapes.recur_prev = [layers.recur!];
  b.states.push({ name: "recur_prev", source: "recur" });
  dense(b, "hidden", [
    input(feature, site(b, "hidden.input")),
    input("recur_prev", site(b, "hidden.recur_prev")),
  ], layers.hidden!);
  dense(b, "recur", [input("hidden", site(b, "recur.input"))], layers.recur!);
  dense(
    b,
    "out1",
    [input("hidden", site(b, "out1.input", "naive"))],
    layers.out1!,
    { head: true },
  );
  dense(b, "out2", [input("out1")], NUM_CLASSES, {
    activation: "linear",
    output: "logits",
    head: true,
  });
}

function shallow(b: Builder): void {
  const { layers } = b.spec;
  b.shapes.recur_prev = [layers.recur!];
  b.states.push({ name: "recur_prev", source: "recur" });
  dense(b, "hidden", [input("x"), input("recur_prev")], layers.hidden!);
  dense(b, "recur", [input("hidden", site(b, "recur.input"))], layers.recur!);
  dense(b, "out", [input("hidden")], NUM_CLASSES, {
    activation: "linear",
    output: "logits",
    head: true,
  });
}

function lstmFamily(b: Builder, src: string, gateDropout: boolean): void {
  const r = b.spec.layers.recur!;
  const in1 = dense(b, "in1", [input(src)], b.spec.layers.in1!, {
    dropout: site(b, "in1"),
  });
  const outputs = { i: "i", f: "f", o: "o", g: "g", c: "c", h: "h" } as const;
  const gates = gateDropout && b.spec.dropout === "naive"
    ? { i: site(b, "lstm.i")!, f: site(b, "lstm.f")!, o: site(b, "lstm.o")! }
    : undefined;
  const h = site(b, "lstm.h");
  b.steps.push({
    kind: "lstm",
    name: "lstm",
    inputs: [input(in1), input("h_prev")],
    cellInput: "c_prev",
    units: r,
    outputs,
    ...(gates === undefined ? {} : { gateDropout: gates }),
    ...(h === undefined ? {} : { dropout: h }),
  });
  for (const name of ["h_prev", "c_prev", ...Object.values(outputs)]) {
    b.shapes[name] = [r];
  }
  b.states.push({ name: "h_prev", source: "h" }, {
    name: "c_prev",
    source: "c",
  });
  dense(b, "out2", [input("h")], NUM_CLASSES, {
    activation: "linear",
    output: "logits",
    head: true,
  });
}

const BUILDERS: Readonly<Record<Architecture, (b: Builder) => void>> = {
  shallow,
  deep: (b) => deepFamily(b, "x", false),
  "deep_v2": (b) => deepFamily(b, "x", true),
  "conv_deep": (b) => deepFamily(b, convFrontEnd(b, false), false),
  "conv_plus_deep": (b) => deepFamily(b, convFrontEnd(b, true), false),
  "r_lstm": (b) => lstmFamily(b, "x", true),
  "conv_r_lstm": (b) => lstmFamily(b, convFrontEnd(b, false), false),
  "conv_plus_r_lstm": (b) => lstmFamily(b, convFrontEnd(b, true), false),
};

/**
 * Describes a spec's architecture as data (thesis-code §2).
 *
 * Dropout sites (training only): Deep family — `in1` (and `in2`), both inputs
 * of `hidden` (the concatenation xr), the input of `recur`, and the input of
 * `out1` (always naive: it is used once); Shallow — the input of `recur`;
 * R-LSTM family — `in1` and `h`, plus the gates i, f, o for the naive R-LSTM.
 * Stationary mode makes every step site stationary.
 *
 * @param spec the model spec (validated here)
 * @returns the frozen graph
 * @throws {TypeError|RangeError} if the spec is invalid
 */
export function buildGraph(spec: ModelSpec): ArchitectureGraph {
  const valid = validateSpec(spec);
  const b: Builder = {
    spec: valid,
    steps: [],
    head: [],
    states: [],
    sites: [],
    shapes: { x: [valid.rows * valid.columns], logits: [NUM_CLASSES] },
  };
  BUILDERS[valid.architecture](b);
  return Object.freeze({
    spec: valid,
    stepLayers: Object.freeze(b.steps),
    headLayers: Object.freeze(b.head),
    states: Object.freeze(b.states),
    dropoutSites: Object.freeze(b.sites),
    shapes: Object.freeze(b.shapes),
  });
}

/**
 * Returns the layer of a graph with the given name.
 *
 * @throws {RangeError} if the graph has no such layer
 */
export function findLayer(graph: ArchitectureGraph, name: string): Layer {
  const layer = [...graph.stepLayers, ...graph.headLayers].find((l) =>
    l.name === name
  );
  if (layer === undefined) {
    throw new RangeError(
      `Cannot find layer "${name}": architecture "${graph.spec.architecture}" has ${
        [...graph.stepLayers, ...graph.headLayers].map((l) => `"${l.name}"`)
          .join(", ")
      }`,
    );
  }
  return layer;
}

/** Names of the activations a layer reads. */
export function layerInputs(layer: Layer): string[] {
  switch (layer.kind) {
    case "pool":
    case "reshape":
      return [layer.input];
    case "lstm":
      return [...layer.inputs.map((i) => i.from), layer.cellInput];
    default:
      return layer.inputs.map((i) => i.from);
  }
}

/** Names of the activations a layer writes. */
export function layerOutputs(layer: Layer): string[] {
  return layer.kind === "lstm" ? Object.values(layer.outputs) : [layer.output];
}

/**
 * The step activations that depend on `x` only (not on any state): the
 * interpreter computes them for all steps in one batched call.
 */
export function staticActivations(graph: ArchitectureGraph): Set<string> {
  const known = new Set(["x"]);
  for (const layer of graph.stepLayers) {
    if (layerInputs(layer).every((name) => known.has(name))) {
      for (const out of layerOutputs(layer)) known.add(out);
    }
  }
  return known;
}
