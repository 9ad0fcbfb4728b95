/**
 * A model: a spec, its graph, and the `tf.Variable`s that hold its weights.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { ModelSpec } from "./spec.ts";
import {
  type ArchitectureGraph,
  buildGraph,
  findLayer,
  type Layer,
} from "./graph.ts";
import {
  countParameters,
  type ParameterInfo,
  parameterInfos,
} from "./parameters.ts";
import { type WeightMap, weightProblems } from "./weights.ts";
import { execute, linearOutputName } from "./_executor.ts";

export { linearOutputName };
import { deriveSeed } from "../_random.ts";

/** Options of {@linkcode createModel}. */
export interface CreateModelOptions {
  /**
   * Seed of the truncated-normal initialisation.
   * @default 0
   */
  seed?: number;
  /** Start from these weights instead of a random initialisation. */
  weights?: WeightMap;
}

/** Options of {@linkcode RnnModel.forward}. */
export interface ForwardOptions {
  /**
   * Training mode: apply the graph's dropout sites. With the stock ReLU and
   * gate gradients, training also runs an R-LSTM recurrence whose inputs do
   * not depend on state (R-LSTM, ConvR-LSTM) as one fused op with a
   * hand-written backward pass; its cell arithmetic runs in float64, so
   * results equal the step-by-step path up to float32 rounding.
   * @default false
   */
  training?: boolean;
  /**
   * Seed of this pass's dropout masks.
   * @default 0
   */
  seed?: number;
  /**
   * The ReLU of every ReLU layer and of the LSTM candidate; guided backprop
   * passes one with an overridden gradient.
   * @default tf.relu
   */
  relu?: (z: tf.Tensor) => tf.Tensor;
  /**
   * Accept a prefix of 1 … T steps: the head then reads the state after the
   * last given step, which is the running prediction of an online
   * (streamed) classification.
   * @default false
   */
  prefix?: boolean;
  /**
   * Gradient through the LSTM's sigmoid gates: `keep` (ordinary, as the
   * released code) or `zero` (the thesis text's choice for guided backprop).
   * @default "keep"
   */
  gateGradient?: "keep" | "zero";
  /**
   * Whether gradients with respect to `x` are needed. `fit` turns this off
   * to skip one matrix product of the first dense layer's backward pass;
   * with `false`, the gradient with respect to `x` reads as zero.
   * @default true
   */
  inputGradient?: boolean;
}

/** Options of {@linkcode RnnModel.trace}. */
export interface TraceOptions {
  /** @default tf.relu */
  relu?: (z: tf.Tensor) => tf.Tensor;
  /**
   * Keep the static activations (those that depend on `x` only: `x`, the
   * input layers, the conv front end) time-major in
   * {@linkcode ModelTrace.statics} instead of splitting them per step. The
   * steps then hold only the recurrent layers' activations, the states and
   * the static activations that recurrent layers read. Splitting costs one
   * gather per step and activation (slow on `wasm`); explainers that walk
   * the static layers once over all T·N rows skip it.
   * @default false
   */
  batchStatics?: boolean;
  /**
   * With `batchStatics`: also keep each static dense or convolution layer's
   * linear part W·x (before bias and ReLU) in {@linkcode ModelTrace.statics}
   * under {@linkcode linearOutputName}, so that explainers need not
   * recompute it. Costs memory only (the tensor is computed anyway).
   * @default false
   */
  linearOutputs?: boolean;
}

/**
 * Every activation of an evaluation-mode pass. `steps[t]` maps the graph's
 * activation names (see `graph.ts`) to [N, ...shape] tensors: `x` (and
 * `x_image`), every layer's output, and the states read at step t
 * (`recur_prev`, `h_prev`, `c_prev`, `conv1_prev`, `conv2_prev`; zeros at
 * t = 0). A layer's inputs are the activations its `inputs` name. `head`
 * holds the head layers' outputs, including `logits`. The same tensor may
 * appear under two names (a state and its source); disposing twice is safe.
 */
export interface ModelTrace {
  readonly graph: ArchitectureGraph;
  readonly steps: readonly Readonly<Record<string, tf.Tensor>>[];
  readonly head: Readonly<Record<string, tf.Tensor>>;
  /** [N, 10], the same tensor as `head.logits`. */
  readonly logits: tf.Tensor2D;
  /**
   * With `batchStatics` only: the static activations, time-major
   * [T·N, ...shape] (rows t·N … (t+1)·N − 1 are step t), plus the static
   * layers' linear parts with `linearOutputs`; else empty.
   */
  readonly statics: Readonly<Record<string, tf.Tensor>>;
}

/**
 * A layer's weights for explainers. Caller owns every tensor (call inside
 * `tf.tidy` or dispose them).
 */
export interface LayerWeights {
  readonly layer: Layer;
  /** The full kernel (dense [in, units], conv [kh, kw, cin, f], LSTM [in, 4R]). */
  readonly kernel: tf.Tensor;
  /** The effective bias: −softplus(b), zeros without biases; LSTM [4R] (gates b, candidate −softplus). */
  readonly bias: tf.Tensor1D;
  /** The kernel's rows (dense, LSTM) or input channels (conv) per input, in input order. */
  readonly inputKernels: readonly {
    readonly from: string;
    readonly kernel: tf.Tensor;
  }[];
  /** LSTM only: each gate's and the candidate's kernel [in, R] and effective bias [R]. */
  readonly gates?: Readonly<
    Record<
      "i" | "f" | "o" | "g",
      { readonly kernel: tf.Tensor2D; readonly bias: tf.Tensor1D }
    >
  >;
}

const sigmoidWithoutGradient = tf.customGrad(
  (...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.sigmoid(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }),
) as (z: tf.Tensor) => tf.Tensor;

/** A recurrent network of one of the thesis's architectures. */
export class RnnModel {
  /** The validated spec. */
  readonly spec: ModelSpec;
  /** The architecture as data. */
  readonly graph: ArchitectureGraph;
  /** Parameter descriptions, in layer order. */
  readonly parameterInfos: readonly ParameterInfo[];
  #parameters: Map<string, tf.Variable>;
  #disposed = false;

  /** Use {@linkcode createModel}. */
  constructor(graph: ArchitectureGraph, parameters: Map<string, tf.Variable>) {
    this.spec = graph.spec;
    this.graph = graph;
    this.parameterInfos = parameterInfos(graph);
    this.#parameters = parameters;
  }

  /** The trainable variables by parameter name. */
  get parameters(): ReadonlyMap<string, tf.Variable> {
    this.#check();
    return this.#parameters;
  }

  /** Whether {@linkcode dispose} ran. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Number of trainable scalars ("true" count, thesis-code §2.13). */
  parameterCount(): number {
    return countParameters(this.graph);
  }

  /**
   * Runs the network.
   *
   * @param x inputs [N, T, rows·columns]
   * @param options training mode, dropout seed, ReLU and gate-gradient choices
   * @returns logits [N, 10] (without the zero pseudo-logit); caller owns the returned tensor
   * @throws {RangeError} if x has the wrong shape
   */
  forward(x: tf.Tensor3D, options: ForwardOptions = {}): tf.Tensor2D {
    this.#checkInput(x, options.prefix ?? false);
    return tf.tidy(() =>
      execute(this, x, {
        training: options.training ?? false,
        seed: options.seed ?? 0,
        relu: options.relu ?? tf.relu,
        sigmoid: options.gateGradient === "zero"
          ? sigmoidWithoutGradient
          : tf.sigmoid,
        record: false,
        inputGradient: options.inputGradient ?? true,
        // Training only: evaluation stays bit-identical to `trace`.
        fuseRecurrence: options.training === true &&
          options.relu === undefined && options.gateGradient !== "zero",
      }).logits
    );
  }

  /**
   * Runs an evaluation-mode pass and keeps every activation.
   *
   * @param x inputs [N, T, rows·columns]
   * @returns the trace; caller owns its tensors (see {@linkcode disposeTrace})
   * @throws {RangeError} if x has the wrong shape
   */
  trace(x: tf.Tensor3D, options: TraceOptions = {}): ModelTrace {
    this.#checkInput(x);
    const tensors = tf.tidy(() => {
      const run = execute(this, x, {
        training: false,
        seed: 0,
        relu: options.relu ?? tf.relu,
        sigmoid: tf.sigmoid,
        record: true,
        batchStatics: options.batchStatics ?? false,
        linearOutputs: options.linearOutputs ?? false,
        inputGradient: true,
        fuseRecurrence: false,
      });
      return {
        steps: run.steps.map((m) => Object.fromEntries(m)),
        head: Object.fromEntries(run.head),
        statics: Object.fromEntries(run.statics),
      };
    });
    return {
      graph: this.graph,
      steps: tensors.steps,
      head: tensors.head,
      logits: tensors.head.logits as tf.Tensor2D,
      statics: tensors.statics,
    };
  }

  /**
   * Returns a layer's weights with effective biases, for explainers.
   *
   * @param name the layer name (e.g. `in1`, `hidden`, `conv1`, `lstm`, `out2`)
   * @returns the weights; caller owns the returned tensors
   * @throws {RangeError} if the layer does not exist or has no weights
   */
  layerWeights(name: string): LayerWeights {
    this.#check();
    const layer = findLayer(this.graph, name);
    if (
      layer.kind !== "dense" && layer.kind !== "conv" && layer.kind !== "lstm"
    ) {
      throw new RangeError(
        `Cannot read weights of layer "${name}": a ${layer.kind} layer has none`,
      );
    }
    const tensors = tf.tidy(() =>
      layerWeightsOf(
        this.graph,
        this.#parameters,
        layer,
      ) as unknown as tf.TensorContainer
    ) as unknown as Omit<LayerWeights, "layer">;
    return { layer, ...tensors };
  }

  /**
   * Copies every parameter out as plain float32 data.
   *
   * @returns weights by parameter name
   */
  async exportWeights(): Promise<WeightMap> {
    this.#check();
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, v] of this.#parameters) {
      out[name] = {
        shape: [...v.shape],
        data: (await v.data()) as Float32Array,
      };
    }
    return out;
  }

  /**
   * Overwrites every parameter.
   *
   * @param weights one tensor per parameter, with the expected shapes
   * @throws {RangeError} listing every mismatch, before anything is changed
   */
  importWeights(weights: WeightMap): void {
    this.#check();
    const problems = weightProblems(this.parameterInfos, weights);
    if (problems.length > 0) {
      throw new RangeError(`Cannot import weights: ${problems.join("; ")}`);
    }
    for (const [name, v] of this.#parameters) {
      const w = weights[name]!;
      tf.tidy(() => v.assign(tf.tensor(w.data, [...w.shape], "float32")));
    }
  }

  /** Frees every variable; the model is unusable afterwards. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const v of this.#parameters.values()) v.dispose();
    this.#parameters.clear();
  }

  #check(): void {
    if (this.#disposed) throw new Error("Cannot use model: it was disposed");
  }

  #checkInput(x: tf.Tensor3D, prefix = false): void {
    this.#check();
    const { steps, rows, columns } = this.spec;
    const t = x.shape[1];
    const stepsOk = prefix ? t >= 1 && t <= steps : t === steps;
    if (x.rank !== 3 || !stepsOk || x.shape[2] !== rows * columns) {
      throw new RangeError(
        `Cannot run model: input shape is [${
          x.shape.join(", ")
        }], expected [N, ${prefix ? `1…${steps}` : steps}, ${rows * columns}]`,
      );
    }
  }
}

function layerWeightsOf(
  graph: ArchitectureGraph,
  params: ReadonlyMap<string, tf.Variable>,
  layer: Layer & { kind: "dense" | "conv" | "lstm" },
): Omit<LayerWeights, "layer"> {
  const kernel = tf.clone(params.get(`${layer.name}.kernel`)!);
  const sizes = layer.inputs.map((i) => {
    const shape = graph.shapes[i.from]!;
    return layer.kind === "conv"
      ? shape.at(-1)!
      : shape.reduce((a, d) => a * d, 1);
  });
  const parts = tf.split(kernel, sizes, layer.kind === "conv" ? 2 : 0);
  const inputKernels = layer.inputs.map((i, k) => ({
    from: i.from,
    kernel: parts[k]!,
  }));
  const effective = (b: tf.Variable | undefined, n: number) =>
    b === undefined
      ? tf.zeros([n]) as tf.Tensor1D
      : tf.neg(tf.softplus(b)) as tf.Tensor1D;
  if (layer.kind !== "lstm") {
    const n = layer.kind === "conv" ? layer.filters : layer.units;
    return {
      kernel,
      bias: effective(params.get(`${layer.name}.bias`), n),
      inputKernels,
    };
  }
  const r = layer.units;
  const bias = tf.concat([
    params.get(`${layer.name}.gate_bias`)!,
    effective(params.get(`${layer.name}.candidate_bias`), r),
  ]) as tf.Tensor1D;
  const kernels = tf.split(kernel, 4, 1) as tf.Tensor2D[];
  const biases = tf.split(bias, 4) as tf.Tensor1D[];
  const gate = (k: number) => ({ kernel: kernels[k]!, bias: biases[k]! });
  return {
    kernel,
    bias,
    inputKernels,
    gates: { i: gate(0), f: gate(1), o: gate(2), g: gate(3) },
  };
}

/**
 * Builds a model with truncated-normal weights (σ = 1/√fan_in, cut at ±2σ),
 * softplus biases initialised to softplus(b) = 0.01 and zero gate biases.
 * Each parameter's stream is seeded from (seed, parameter name).
 *
 * @param spec the model spec
 * @param options the seed, or weights to start from
 * @returns the model; caller owns it and must call `dispose()`
 * @throws {TypeError|RangeError} if the spec or the weights are invalid
 * @example
 * ```ts
 * const model = createModel(createSpec({ architecture: "deep", steps: 4, columns: 7 }), { seed: 1 });
 * try { model.parameterCount(); } finally { model.dispose(); }
 * ```
 */
export function createModel(
  spec: ModelSpec,
  options: CreateModelOptions = {},
): RnnModel {
  const graph = buildGraph(spec);
  const seed = options.seed ?? 0;
  if (!Number.isFinite(seed)) {
    throw new RangeError(
      `Cannot create model: seed must be a finite number: got ${seed}`,
    );
  }
  const infos = parameterInfos(graph);
  if (options.weights !== undefined) {
    const problems = weightProblems(infos, options.weights);
    if (problems.length > 0) {
      throw new RangeError(
        `Cannot create model from weights: ${problems.join("; ")}`,
      );
    }
  }
  const parameters = new Map<string, tf.Variable>();
  for (const p of infos) {
    const shape = [...p.shape];
    const w = options.weights?.[p.name];
    const value = tf.tidy(() => {
      if (w !== undefined) return tf.tensor(w.data, shape, "float32");
      if (p.init.kind === "constant") return tf.fill(shape, p.init.value);
      return tf.truncatedNormal(
        shape,
        0,
        p.init.stddev,
        "float32",
        deriveSeed(seed, p.name),
      );
    });
    parameters.set(p.name, tf.variable(value, true));
    value.dispose();
  }
  return new RnnModel(graph, parameters);
}

/**
 * Disposes every tensor of a trace.
 *
 * @param trace the trace returned by {@linkcode RnnModel.trace}
 */
export function disposeTrace(trace: ModelTrace): void {
  for (const step of trace.steps) tf.dispose(Object.values(step));
  tf.dispose(Object.values(trace.head));
  tf.dispose(Object.values(trace.statics));
  trace.logits.dispose();
}
