/**
 * The one interpreter of {@linkcode ArchitectureGraph}s, used by training,
 * prediction and tracing. It is long because it is one state machine over
 * three phases; each phase is a short function.
 *
 * 1. **Static phase.** Layers that depend on `x` only (input layers, the conv
 *    front end without literal connections) run once over all T·N slices,
 *    time-major.
 * 2. **Static contributions.** A layer that mixes static and recurrent inputs
 *    (e.g. `hidden` = W·[in1; recur_prev], the LSTM's [in1; h_prev]·K) gets
 *    the static inputs' part plus its bias in one batched matmul or conv;
 *    each step then adds only its recurrent part.
 * 3. **Step loop and head.** Recurrent layers run per step, states are handed
 *    on, and the head reads the last step. In training, an R-LSTM that is the
 *    only recurrent layer and reads only static inputs runs instead as one
 *    fused op over all steps (`layers/relu_lstm_sequence.ts`).
 *
 * Dropout masks are drawn per (site, step), so batching does not change them.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  type ArchitectureGraph,
  type Layer,
  layerOutputs,
  type LstmLayer,
  staticActivations,
} from "./graph.ts";
import { DropoutSampler } from "./dropout.ts";
import { denseContribution } from "./layers/dense.ts";
import { convContribution } from "./layers/conv2d.ts";
import { scaledAvgPool } from "./layers/pool.ts";
import { reluLstmCell } from "./layers/relu_lstm_cell.ts";
import {
  reluLstmSequence,
  type ReluLstmSequenceMasks,
} from "./layers/relu_lstm_sequence.ts";
import { takeStep } from "./_take_step.ts";

/** What the executor needs from a model. */
export interface ExecutorModel {
  readonly graph: ArchitectureGraph;
  readonly parameters: ReadonlyMap<string, tf.Variable>;
}

/** Options of {@linkcode execute}. */
export interface ExecuteOptions {
  training: boolean;
  seed: number;
  relu: (z: tf.Tensor) => tf.Tensor;
  sigmoid: (z: tf.Tensor) => tf.Tensor;
  /** Keep every activation of every step. */
  record: boolean;
  /**
   * With `record`: keep static activations (those that depend on `x` only)
   * time-major [T·N, ...] in {@linkcode ExecuteResult.statics} instead of
   * splitting them per step; steps then hold only the static activations
   * that recurrent layers read (one gather per step and name each).
   */
  batchStatics?: boolean;
  /**
   * With `batchStatics`: also keep each static dense or convolution layer's
   * linear part W·x (before bias and ReLU) in the statics, under
   * {@linkcode linearOutputName}. The tensor exists anyway; keeping it
   * costs memory only.
   */
  linearOutputs?: boolean;
  /** Whether the gradient with respect to `x` is needed. */
  inputGradient: boolean;
  /**
   * Whether an R-LSTM whose inputs are static may run as one fused op
   * (`reluLstmSequence`); only valid with the stock ReLU and sigmoid.
   */
  fuseRecurrence: boolean;
}

/** Activations by name. */
export type Activations = Map<string, tf.Tensor>;

/**
 * The name under which a trace keeps a static layer's linear part W·x
 * (see {@linkcode ExecuteOptions.linearOutputs}).
 *
 * @param output the layer's output activation name
 * @returns `<output>:linear`
 */
export function linearOutputName(output: string): string {
  return `${output}:linear`;
}

/** The executor's result. */
export interface ExecuteResult {
  logits: tf.Tensor2D;
  /** Per-step activations (only when recording). */
  steps: Activations[];
  /** Head activations (only when recording). */
  head: Activations;
  /** Static activations, time-major [T·N, ...] (only with `batchStatics`). */
  statics: Activations;
}

interface Prepared {
  /** Kernel slice per input (rows for dense/LSTM, input channels for conv). */
  kernels: tf.Tensor[];
  /** Effective bias, or undefined when the layer has none. */
  bias?: tf.Tensor;
}

interface Context {
  graph: ArchitectureGraph;
  options: ExecuteOptions;
  prepared: Map<string, Prepared>;
  sampler?: DropoutSampler;
  batch: number;
  steps: number;
  statics: Set<string>;
}

function prepareLayer(
  layer: Layer,
  graph: ArchitectureGraph,
  params: ReadonlyMap<string, tf.Variable>,
): Prepared | undefined {
  if (
    layer.kind !== "dense" && layer.kind !== "conv" && layer.kind !== "lstm"
  ) return undefined;
  const kernel = params.get(`${layer.name}.kernel`)!;
  const sizes = layer.inputs.map((i) => {
    const shape = graph.shapes[i.from]!;
    return layer.kind === "conv"
      ? shape.at(-1)!
      : shape.reduce((a, d) => a * d, 1);
  });
  const axis = layer.kind === "conv" ? 2 : 0;
  const kernels = sizes.length === 1 ? [kernel] : tf.split(kernel, sizes, axis);
  let bias: tf.Tensor | undefined;
  if (layer.kind === "lstm") {
    const gate = params.get(`${layer.name}.gate_bias`)!;
    const cand = params.get(`${layer.name}.candidate_bias`);
    bias = tf.concat([
      gate,
      cand ? tf.neg(tf.softplus(cand)) : tf.zeros([layer.units]),
    ]);
  } else {
    const b = params.get(`${layer.name}.bias`);
    if (b !== undefined) bias = tf.neg(tf.softplus(b));
  }
  return bias === undefined ? { kernels } : { kernels, bias };
}

function contribution(
  layer: Layer,
  input: tf.Tensor,
  kernel: tf.Tensor,
  inputGradient: boolean,
): tf.Tensor {
  return layer.kind === "conv"
    ? convContribution(input as tf.Tensor4D, kernel as tf.Tensor4D, {
      inputGradient,
    })
    : denseContribution(input, kernel as tf.Tensor2D, { inputGradient });
}

function read(env: Activations, name: string): tf.Tensor {
  const t = env.get(name);
  if (t === undefined) {
    throw new Error(`Cannot run graph: activation "${name}" is missing`);
  }
  return t;
}

/** Sums the contributions of the inputs that pass `use`, plus the bias. */
function linearPart(
  ctx: Context,
  layer: Layer & { inputs: readonly { from: string; dropout?: string }[] },
  env: Activations,
  use: (from: string) => boolean,
  at: { step: number } | { steps: number },
  withBias: boolean,
): tf.Tensor | undefined {
  const prep = ctx.prepared.get(layer.name)!;
  let sum: tf.Tensor | undefined;
  layer.inputs.forEach((input, k) => {
    if (!use(input.from)) return;
    let value = read(env, input.from);
    if (input.dropout !== undefined && ctx.sampler) {
      value = ctx.sampler.apply(input.dropout, value, at);
    }
    const inputGradient = ctx.options.inputGradient ||
      (input.from !== "x" && input.from !== "x_image");
    const part = contribution(layer, value, prep.kernels[k]!, inputGradient);
    sum = sum === undefined ? part : tf.add(sum, part);
  });
  if (withBias && prep.bias !== undefined) {
    sum = sum === undefined ? undefined : tf.add(sum, prep.bias);
  }
  return sum;
}

function finish(
  ctx: Context,
  layer: Layer,
  z: tf.Tensor,
  at: { step: number } | { steps: number },
): tf.Tensor {
  const act = "activation" in layer && layer.activation === "relu"
    ? ctx.options.relu(z)
    : z;
  if (layer.kind === "dense" && layer.dropout !== undefined && ctx.sampler) {
    return ctx.sampler.apply(layer.dropout, act, at);
  }
  return act;
}

function zeros(ctx: Context, name: string): tf.Tensor {
  return tf.zeros([ctx.batch, ...ctx.graph.shapes[name]!]);
}

/**
 * Runs one layer. `pre` is the precomputed static part (with bias) or
 * undefined; `zeroStates` names states known to be zero (step 0), whose
 * contributions are skipped.
 */
function runLayer(
  ctx: Context,
  layer: Layer,
  env: Activations,
  at: { step: number } | { steps: number },
  pre: tf.Tensor | undefined,
  zeroStates: ReadonlySet<string>,
): void {
  const rows = "steps" in at ? ctx.batch * at.steps : ctx.batch;
  switch (layer.kind) {
    case "reshape":
      env.set(
        layer.output,
        tf.reshape(read(env, layer.input), [rows, ...layer.shape]),
      );
      return;
    case "pool":
      env.set(
        layer.output,
        scaledAvgPool(read(env, layer.input) as tf.Tensor4D),
      );
      return;
    default:
      break;
  }
  const dynamic = (from: string) =>
    (pre === undefined || !ctx.statics.has(from)) && !zeroStates.has(from);
  let z = linearPart(ctx, layer, env, dynamic, at, false);
  if (
    "steps" in at && z !== undefined && layer.kind !== "lstm" &&
    ctx.options.record && ctx.options.batchStatics &&
    ctx.options.linearOutputs
  ) {
    env.set(linearOutputName(layer.output), z);
  }
  if (pre !== undefined) z = z === undefined ? pre : tf.add(pre, z);
  const bias = ctx.prepared.get(layer.name)!.bias;
  if (pre === undefined && bias !== undefined) {
    z = z === undefined ? undefined : tf.add(z, bias);
  }
  if (z === undefined) {
    // Every input was a zero state: only the bias remains.
    const base = layer.kind === "lstm"
      ? tf.zeros([rows, 4 * layer.units])
      : zeros(ctx, layer.output);
    z = bias === undefined ? base : tf.add(base, bias);
  }
  if (layer.kind !== "lstm") {
    env.set(layer.output, finish(ctx, layer, z, at));
    return;
  }
  const cPrev = zeroStates.has(layer.cellInput)
    ? null
    : read(env, layer.cellInput) as tf.Tensor2D;
  const sampler = ctx.sampler;
  const gateDropout = layer.gateDropout;
  const step = reluLstmCell(z as tf.Tensor2D, cPrev, {
    relu: ctx.options.relu,
    sigmoid: ctx.options.sigmoid,
    ...(sampler && gateDropout
      ? {
        dropGate: (gate, v) =>
          sampler.apply(gateDropout[gate], v, at) as tf.Tensor2D,
      }
      : {}),
  });
  const h = layer.dropout !== undefined && sampler
    ? sampler.apply(layer.dropout, step.h, at)
    : step.h;
  for (const part of ["i", "f", "o", "g", "c"] as const) {
    env.set(layer.outputs[part], step[part]);
  }
  env.set(layer.outputs.h, h);
}

/** Splits a time-major [T·N, ...] tensor into its T steps (`takeStep`). */
function splitSteps(t: tf.Tensor, steps: number): tf.Tensor[] {
  return Array.from({ length: steps }, (_, s) => takeStep(t, s, steps));
}

/**
 * Runs the graph on x [N, T, rows·columns]. Call inside `tf.tidy` (or dispose
 * what it returns): it creates intermediate tensors freely.
 */
export function execute(
  model: ExecutorModel,
  x: tf.Tensor3D,
  options: ExecuteOptions,
): ExecuteResult {
  const { graph } = model;
  const [batch, steps] = x.shape;
  const ctx: Context = {
    graph,
    options,
    prepared: new Map(),
    batch,
    steps,
    statics: staticActivations(graph),
  };
  if (options.training && graph.dropoutSites.length > 0) {
    ctx.sampler = new DropoutSampler(graph.dropoutSites, {
      keepProb: graph.spec.keepProb,
      seed: options.seed,
    });
  }
  for (const layer of [...graph.stepLayers, ...graph.headLayers]) {
    const prep = prepareLayer(layer, graph, model.parameters);
    if (prep) ctx.prepared.set(layer.name, prep);
  }
  const all = { steps } as const;
  // Phase 1: static layers over all steps at once, time-major.
  const flatX = tf.reshape(tf.transpose(x, [1, 0, 2]), [
    steps * batch,
    x.shape[2],
  ]);
  const batched: Activations = new Map([["x", flatX]]);
  const dynamicLayers: Layer[] = [];
  for (const layer of graph.stepLayers) {
    if (layerOutputs(layer).every((o) => ctx.statics.has(o))) {
      runLayer(ctx, layer, batched, all, undefined, new Set());
    } else {
      dynamicLayers.push(layer);
    }
  }
  // Phase 2: static contributions of mixed layers, split per step (or a
  // fused recurrence over all steps at once).
  const pre = new Map<string, tf.Tensor[]>();
  const fused = fusableRecurrence(ctx, dynamicLayers);
  for (const layer of dynamicLayers) {
    if (layer.kind === "pool" || layer.kind === "reshape") continue;
    const isStatic = (f: string) => ctx.statics.has(f);
    const part = linearPart(ctx, layer, batched, isStatic, all, true);
    if (part === undefined) continue;
    if (layer === fused) {
      const h = runFused(ctx, fused, part);
      return finishHead(
        ctx,
        batched,
        new Map([[fused.outputs.h, h]]),
        [],
        options,
      );
    }
    pre.set(layer.name, splitSteps(part, steps));
  }
  // Phase 3: the step loop.
  const recorded: Activations[] = [];
  // Splitting is one gather per step and name (slow on wasm): with
  // batchStatics, only what the step loop reads is split.
  const readInLoop = new Set(
    dynamicLayers.flatMap((l) =>
      "inputs" in l ? l.inputs.map((i) => i.from) : [l.input]
    ),
  );
  const staticSteps = options.record
    ? [...batched]
      .filter(([name]) => !options.batchStatics || readInLoop.has(name))
      .map(([name, t]) => [name, splitSteps(t, steps)] as const)
    : [];
  let env: Activations = new Map();
  for (let t = 0; t < steps; t++) {
    const next: Activations = new Map();
    const zeroStates = new Set<string>();
    for (const state of graph.states) {
      if (t === 0) {
        zeroStates.add(state.name);
        if (options.record) next.set(state.name, zeros(ctx, state.name));
      } else {
        next.set(state.name, read(env, state.source));
      }
    }
    for (const [name, parts] of staticSteps) next.set(name, parts[t]!);
    for (const layer of dynamicLayers) {
      runLayer(
        ctx,
        layer,
        next,
        { step: t },
        pre.get(layer.name)?.[t],
        zeroStates,
      );
    }
    env = next;
    if (options.record) recorded.push(next);
  }
  return finishHead(ctx, batched, env, recorded, options);
}

/** Runs the head on the last step's activations. */
function finishHead(
  ctx: Context,
  batched: Activations,
  last: Activations,
  recorded: Activations[],
  options: ExecuteOptions,
): ExecuteResult {
  const { graph, steps } = ctx;
  const head: Activations = new Map(last);
  for (const layer of graph.headLayers) {
    for (const { from } of layer.inputs) {
      const t = batched.get(from);
      if (!head.has(from) && t !== undefined) {
        head.set(from, takeStep(t, steps - 1, steps));
      }
    }
  }
  for (const layer of graph.headLayers) {
    runLayer(ctx, layer, head, { step: steps }, undefined, new Set());
  }
  const logits = read(head, "logits") as tf.Tensor2D;
  const headOnly: Activations = new Map();
  if (options.record) {
    for (const layer of graph.headLayers) {
      headOnly.set(layer.output, read(head, layer.output));
    }
  }
  const statics: Activations = options.record && options.batchStatics
    ? batched
    : new Map();
  return { logits, steps: recorded, head: headOnly, statics };
}

/**
 * The R-LSTM layer that may run fused: the only recurrent layer, reading
 * static activations and its own state, with only its last `h` used (by the
 * head).
 */
function fusableRecurrence(
  ctx: Context,
  dynamicLayers: readonly Layer[],
): LstmLayer | undefined {
  const { options, graph } = ctx;
  if (!options.fuseRecurrence || options.record) return undefined;
  const layer = dynamicLayers[0];
  if (dynamicLayers.length !== 1 || layer?.kind !== "lstm") return undefined;
  const state = layer.inputs.at(-1)!;
  const outputs = Object.values(layer.outputs);
  const ownState = graph.states.some((s) =>
    s.name === state.from && s.source === layer.outputs.h
  );
  const staticInputs = layer.inputs.slice(0, -1).every((i) =>
    ctx.statics.has(i.from)
  );
  const headReadsOnlyH = graph.headLayers.every((l) =>
    l.inputs.every((i) =>
      i.from === layer.outputs.h || !outputs.includes(i.from)
    )
  );
  return ownState && state.dropout === undefined && staticInputs &&
      headReadsOnlyH
    ? layer
    : undefined;
}

/** Interleaves per-gate masks [rows, R] into [rows, 3R] (blocks i, f, o). */
function interleave(
  parts: Float32Array[],
  rows: number,
  r: number,
): Float32Array {
  const out = new Float32Array(rows * parts.length * r);
  for (let row = 0; row < rows; row++) {
    parts.forEach((part, k) => {
      out.set(
        part.subarray(row * r, (row + 1) * r),
        (row * parts.length + k) * r,
      );
    });
  }
  return out;
}

/** Runs a fusable R-LSTM over all steps; returns h of the last step. */
function runFused(ctx: Context, layer: LstmLayer, pre: tf.Tensor): tf.Tensor2D {
  const kernels = ctx.prepared.get(layer.name)!.kernels;
  const masks: ReluLstmSequenceMasks = {};
  const sampler = ctx.sampler;
  const rows = ctx.steps * ctx.batch;
  const r = layer.units;
  const at = { steps: ctx.steps };
  const gateSites = layer.gateDropout;
  if (sampler && gateSites) {
    const parts = (["i", "f", "o"] as const).map((g) =>
      sampler.mask(gateSites[g], [rows, r], at)
    );
    masks.gates = interleave(parts, rows, r);
  }
  if (sampler && layer.dropout !== undefined) {
    masks.h = sampler.mask(layer.dropout, [rows, r], at);
  }
  return reluLstmSequence(
    pre as tf.Tensor2D,
    kernels.at(-1) as tf.Tensor2D,
    ctx.steps,
    masks,
  );
}
