/**
 * The one relevance engine: LRP and deep Taylor through time for every
 * architecture, as the thesis code's `lrp()` does (thesis-code §3.4), but
 * driven by the graph instead of written per architecture.
 *
 * 1. Trace the batch, keeping the static activations (those that depend on
 *    `x` only: input layers, the conv front end) time-major [T·N, ...]
 *    rather than split per step; read the logits and resolve each sample's
 *    target; the start relevance is relu(target logit), one-hot
 *    (thesis-code §3.1).
 * 2. Walk the head backwards; what reaches step activations goes to step
 *    T − 1.
 * 3. For t = T − 1 … 0, walk the step's recurrent layers backwards, applying
 *    the composite's rule per layer. What reaches a state input
 *    (`recur_prev`, `h_prev`, `c_prev`, `conv1_prev`, `conv2_prev`) is handed
 *    to its source activation at step t − 1; what reaches a static
 *    activation is kept for step 4. At t = 0 the state inputs are the zero
 *    initial states: what reaches them is the initial-state relevance.
 * 4. Stack what every step handed to static activations time-major and walk
 *    the static layers backwards once over all T·N rows (one big matmul or
 *    convolution per term instead of T small ones, and no per-step gathers
 *    of the front end's activations); what reaches `x` is the pixel
 *    relevance, handed to `onStep` T − 1 down to 0.
 *
 * The R-LSTM family runs step 3 fused (`_fused_lstm.ts`): its trace-only
 * factors over all T·N rows first, a few ops per step, and the cell's
 * static input rows in step 4. The trace also keeps each static layer's
 * W·x, which the rules reuse instead of recomputing it. Streaming (with
 * `onStep`), step 4 runs per step instead, on that step's rows, right
 * after the step, so each step's pixels go out before the earlier steps
 * exist (batch-1 R-LSTM LRP-α1.5β0.5 on blas: 11.5 → 7.3 ms against the
 * step-by-step engine); other architectures stream by running the static
 * layers on each step's own trace.
 *
 * Every rule reports what it absorbs, so each sample's bookkeeping
 * start = input + absorbed + initial state + residual is measured, never
 * derived from a difference.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  disposeTrace,
  type LayerWeights,
  type ModelTrace,
  type RnnModel,
} from "../../arch/rnn_model.ts";
import type { Composite } from "../composites.ts";
import {
  argmax,
  type ExplainInput,
  type ExplanationSummary,
  resolveTargets,
  type StepRelevance,
  type Target,
  yieldIfDue,
} from "../explanation.ts";
import {
  type ActivationMap,
  addRelevance,
  layerRelevance,
  type RelevanceMap,
} from "./layer_relevance.ts";
import { createPassPlan, type LayerOp, type PassPlan } from "./pass_plan.ts";
import { WeightCache } from "../rules/mod.ts";
import {
  disposeFusedLstm,
  fusableLstm,
  type FusedLstm,
  fusedLstmInputs,
  fusedLstmStep,
  prepareFusedLstm,
} from "./_fused_lstm.ts";
import { heapFloats } from "../../kernels/heap_floats.ts";

/** Options of {@linkcode relevancePass}. */
export interface RelevancePassOptions {
  /**
   * The explained class of each sample.
   * @default { kind: "true_label" }
   */
  readonly target?: Target;
  /** Checked between time steps; an abort rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** How the pass yields before it checks `signal` (see `ExplainOptions.yieldToEventLoop`). */
  readonly yieldToEventLoop?: () => void | Promise<void>;
  /**
   * Receives each step's pixel relevance, T − 1 down to 0, as soon as the
   * step is done: given a callback, the pass walks the static (input) layers
   * per step instead of once over all steps at the end. Above `maxBatch`
   * sequences the steps are handed out after the last chunk.
   */
  readonly onStep?: (step: StepRelevance) => void;
  /**
   * Most sequences traced at once. Larger requests run in chunks (results
   * do not depend on it), bounding memory by one chunk's trace.
   * @default {@linkcode DEFAULT_RELEVANCE_BATCH}
   */
  readonly maxBatch?: number;
}

/**
 * Default chunk size of {@linkcode relevancePass}: 256 sequences of the
 * largest default model (ConvR-LSTM, T = 12, 28×7 steps) keep the trace in
 * the `wasm` backend's memory (the gradient methods use the same bound).
 */
export const DEFAULT_RELEVANCE_BATCH = 256;

/** What {@linkcode relevancePass} returns: plain data only. */
export interface RelevancePassResult {
  /** [count, T, rows · columns]. */
  readonly relevance: Float32Array;
  /** One per sample. */
  readonly summaries: readonly ExplanationSummary[];
}

const CLASSES = 10;

function readWeights(
  model: RnnModel,
  plan: PassPlan,
  into: Map<string, LayerWeights>,
): void {
  for (const op of [...plan.steps, ...plan.head]) {
    if (op.kind === "dense" || op.kind === "conv" || op.kind === "lstm") {
      into.set(op.layer.name, model.layerWeights(op.layer.name));
    }
  }
}

function disposeWeights(weights: ReadonlyMap<string, LayerWeights>): void {
  for (const w of weights.values()) {
    tf.dispose([w.kernel, w.bias, ...w.inputKernels.map((k) => k.kernel)]);
    for (const g of Object.values(w.gates ?? {})) {
      tf.dispose([g.kernel, g.bias]);
    }
  }
}

/** Runs `ops` backwards over `rel`; returns the summed absorbed relevance [N]. */
function walkBack(
  plan: PassPlan,
  ops: readonly LayerOp[],
  acts: ActivationMap,
  weights: ReadonlyMap<string, LayerWeights>,
  rel: RelevanceMap,
  batch: number,
  caches?: ReadonlyMap<LayerOp, WeightCache>,
): tf.Tensor1D {
  let absorbed: tf.Tensor1D = tf.zeros([batch]);
  for (let k = ops.length - 1; k >= 0; k--) {
    const op = ops[k]!;
    const a = layerRelevance(
      plan.graph,
      op,
      acts,
      weights,
      rel,
      caches?.get(op),
    );
    if (a !== undefined) absorbed = tf.add(absorbed, a);
  }
  return absorbed;
}

/** The head: start relevance → relevance of step T − 1's activations. */
function headPass(
  plan: PassPlan,
  trace: ModelTrace,
  weights: ReadonlyMap<string, LayerWeights>,
  targets: Int32Array,
): { incoming: RelevanceMap; absorbed: tf.Tensor1D } {
  return tf.tidy(() => {
    const batch = targets.length;
    const steps = trace.steps.length;
    const acts: Record<string, tf.Tensor> = {
      ...trace.steps[steps - 1]!,
      ...trace.head,
    };
    // Static activations the head reads: step T − 1's rows.
    for (const layer of plan.graph.headLayers) {
      for (const { from } of layer.inputs) {
        const all = trace.statics[from];
        if (acts[from] === undefined && all !== undefined) {
          acts[from] = tf.slice(all, (steps - 1) * batch, batch);
        }
      }
    }
    const oneHot = tf.oneHot(tf.tensor1d(targets, "int32"), CLASSES);
    const rel: RelevanceMap = {
      logits: tf.mul(tf.relu(trace.logits), oneHot),
    };
    const absorbed = walkBack(plan, plan.head, acts, weights, rel, batch);
    for (const layer of plan.graph.headLayers) {
      if (rel[layer.output] !== undefined) {
        throw new Error(
          `Cannot propagate relevance: head activation "${layer.output}" kept relevance`,
        );
      }
    }
    return { incoming: rel, absorbed };
  });
}

/** One step: incoming relevance → states for step t − 1, static activations, absorbed. */
function stepPass(
  plan: PassPlan,
  acts: ActivationMap,
  weights: ReadonlyMap<string, LayerWeights>,
  incoming: RelevanceMap,
  batch: number,
  caches: ReadonlyMap<LayerOp, WeightCache>,
): { carry: RelevanceMap; statics: RelevanceMap; absorbed: tf.Tensor1D } {
  return tf.tidy(() => {
    const rel: RelevanceMap = {};
    for (const [name, r] of Object.entries(incoming)) {
      addRelevance(rel, name, r);
    }
    const absorbed = walkBack(
      plan,
      plan.loop,
      acts,
      weights,
      rel,
      batch,
      caches,
    );
    const carry: RelevanceMap = {};
    for (const state of plan.graph.states) {
      const r = rel[state.name];
      if (r !== undefined) carry[state.source] = r;
      delete rel[state.name];
    }
    const statics: RelevanceMap = {};
    for (const name of Object.keys(rel)) {
      if (!plan.staticNames.has(name)) {
        throw new Error(
          `Cannot propagate relevance: activation "${name}" kept relevance`,
        );
      }
      statics[name] = rel[name]!;
    }
    return { carry, statics, absorbed };
  });
}

/**
 * The static layers over the rows of `acts`: once over all T·N rows
 * (time-major, batched mode) or over one step's N rows (streaming mode).
 * The relevance the steps handed to static activations → pixels
 * [rows, size], absorbed [rows].
 */
function staticPass(
  plan: PassPlan,
  acts: ActivationMap,
  weights: ReadonlyMap<string, LayerWeights>,
  perStep: readonly RelevanceMap[],
  batch: number,
  batched: RelevanceMap = {},
): { pixels: tf.Tensor; absorbed: tf.Tensor1D } {
  return tf.tidy(() => {
    const rows = batch * perStep.length;
    const rel: RelevanceMap = {};
    const names = new Set(perStep.flatMap((r) => Object.keys(r)));
    for (const name of names) {
      const shape = plan.graph.shapes[name]!;
      rel[name] = tf.concat(
        perStep.map((r) => r[name] ?? tf.zeros([batch, ...shape])),
        0,
      );
    }
    // Relevance already time-major over all rows (the fused R-LSTM pass).
    for (const [name, r] of Object.entries(batched)) {
      addRelevance(rel, name, r);
    }
    const absorbed = walkBack(plan, plan.statics, acts, weights, rel, rows);
    const pixels = rel.x ??
      tf.zeros([rows, plan.graph.shapes.x!.reduce((a, d) => a * d, 1)]);
    delete rel.x;
    const left = Object.keys(rel);
    if (left.length > 0) {
      throw new Error(
        `Cannot propagate relevance: activation "${left[0]}" kept relevance`,
      );
    }
    return { pixels: tf.reshape(pixels, [rows, -1]), absorbed };
  });
}

function sumsOf(values: Float32Array, count: number): Float64Array {
  const size = values.length / count;
  const sums = new Float64Array(count);
  for (let n = 0; n < count; n++) {
    let s = 0;
    for (let i = n * size; i < (n + 1) * size; i++) s += values[i]!;
    sums[n] = s;
  }
  return sums;
}

/**
 * Explains a batch of sequences with a composite: one batched relevance
 * pass through time (not one pass per sample; above `maxBatch` sequences,
 * one pass per chunk).
 *
 * @param model the network
 * @param input [count, T, rows · columns] and labels (for the true-label target)
 * @param composite the rule assignment (see `../composites.ts`)
 * @param options target, abort signal, per-step callback, chunk size
 * @returns relevance [count, T, rows · columns] and one summary per sample
 * @throws {PreconditionError} if the composite has no rule for a layer of the
 *   architecture, or the target is the true label and no labels were given
 * @throws {OutOfRangeError} if an explicit target class is past the last class
 * @throws {RangeError} if x does not hold count × T × rows · columns values,
 *   or maxBatch is not an integer ≥ 1
 * @throws the signal's reason when aborted between steps; nothing leaks
 */
export async function relevancePass(
  model: RnnModel,
  input: ExplainInput,
  composite: Composite,
  options: RelevancePassOptions = {},
): Promise<RelevancePassResult> {
  const plan = createPassPlan(model.graph, composite);
  const maxBatch = options.maxBatch ?? DEFAULT_RELEVANCE_BATCH;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) {
    throw new RangeError(
      `Cannot explain input: maxBatch must be an integer ≥ 1: got ${maxBatch}`,
    );
  }
  const { steps, rows, columns } = model.spec;
  const size = rows * columns;
  const count = input.count;
  if (
    !Number.isInteger(count) || count < 1 ||
    input.x.length !== count * steps * size
  ) {
    throw new RangeError(
      `Cannot explain input: x has ${input.x.length} values for count ${count}, expected count × ${steps} × ${size}`,
    );
  }
  options.signal?.throwIfAborted();
  if (count <= maxBatch) return await passBatch(model, plan, input, options);
  return await passChunks(model, plan, input, { ...options, maxBatch });
}

/** Runs chunks of `maxBatch` sequences, then streams the steps. */
async function passChunks(
  model: RnnModel,
  plan: PassPlan,
  input: ExplainInput,
  options: RelevancePassOptions & { maxBatch: number },
): Promise<RelevancePassResult> {
  const { steps, rows, columns } = model.spec;
  const size = rows * columns;
  const { count } = input;
  const { maxBatch } = options;
  const relevance = new Float32Array(count * steps * size);
  const summaries: ExplanationSummary[] = [];
  for (let first = 0; first < count; first += maxBatch) {
    const n = Math.min(maxBatch, count - first);
    const part = await passBatch(model, plan, {
      x: input.x.subarray(first * steps * size, (first + n) * steps * size),
      count: n,
      ...(input.labels === undefined
        ? {}
        : { labels: input.labels.subarray(first, first + n) }),
    }, { ...options, onStep: undefined });
    relevance.set(part.relevance, first * steps * size);
    summaries.push(...part.summaries);
  }
  await streamSteps(relevance, count, steps, options, performance.now());
  return { relevance, summaries };
}

/** One batched pass over all `input.count` sequences. */
async function passBatch(
  model: RnnModel,
  plan: PassPlan,
  input: ExplainInput,
  options: RelevancePassOptions,
): Promise<RelevancePassResult> {
  const { steps, rows, columns } = model.spec;
  const size = rows * columns;
  const count = input.count;
  const relevance = new Float32Array(count * steps * size);
  const absorbed = new Float64Array(count);
  const weights = new Map<string, LayerWeights>();
  // Weight-derived tensors of the recurrent layers, built at step T − 1 and
  // reused by every earlier step (the static layers run once anyway).
  const caches = new Map(plan.loop.map((op) => [op, new WeightCache()]));
  // Tensors between creation and read-out, disposed on every path.
  let pending: tf.Tensor[] = [];
  const read = async (t: tf.Tensor): Promise<Float32Array> => {
    const values = await t.data() as Float32Array;
    t.dispose();
    return values;
  };
  let trace: ModelTrace | undefined;
  let fused: FusedLstm | undefined;
  // R(g_t) per step of a fused R-LSTM pass, until the batched input rows.
  const candidates: tf.Tensor[] = [];
  let carry: RelevanceMap = {};
  // Relevance each step hands to static activations, until the static pass.
  const perStep: RelevanceMap[] = new Array(steps).fill({});
  // Streaming: each step's pixels are computed and handed out as soon as the
  // step is done (the static layers then run per step on that step's rows);
  // otherwise the static layers run once over all T·N rows at the end,
  // which is cheaper but hands out nothing before the pass ends.
  const stream = options.onStep !== undefined;
  // The R-LSTM family runs its loop fused, streaming or not.
  const op = fusableLstm(plan);
  // Static activations time-major over all rows, unless each step's static
  // layers run on that step's trace (streaming, not fused).
  const batchStatics = !stream || op !== undefined;
  const x = tf.tensor3d(input.x, [count, steps, size]);
  try {
    trace = model.trace(x, { batchStatics, linearOutputs: batchStatics });
    readWeights(model, plan, weights);
    const logits = await trace.logits.data() as Float32Array;
    const targets = resolveTargets(
      logits,
      count,
      options.target ?? { kind: "true_label" },
      input.labels,
    );
    const head = headPass(plan, trace, weights, targets);
    carry = head.incoming;
    pending = [head.absorbed];
    addInto(absorbed, await read(head.absorbed));
    let since = performance.now();
    // R-LSTM family: the trace-only factors over all T·N rows first.
    fused = op === undefined
      ? undefined
      : prepareFusedLstm(op, trace, weights.get(op.layer.name)!);
    for (let t = steps - 1; t >= 0; t--) {
      if (t < steps - 1) since = await yieldIfDue(since, options);
      if (fused !== undefined) {
        const out = fusedLstmStep(fused, op!, trace.steps[t]!, carry, t);
        tf.dispose(Object.values(carry));
        carry = out.carry;
        if (!stream) {
          candidates[t] = out.candidate;
          continue;
        }
        // Streaming: this step's static input rows, then its static layers.
        // Freed by the `finally` below if the inputs throw.
        pending = [out.candidate];
        const inputs = fusedLstmInputs(fused, op!, trace, [out.candidate], t);
        out.candidate.dispose();
        perStep[t] = inputs.statics;
        pending = [inputs.absorbed];
        addInto(absorbed, await read(inputs.absorbed));
        const acts = stepRows(trace.statics, t, count);
        try {
          await streamStep(plan, acts, weights, perStep, t, {
            count,
            relevance,
            absorbed,
            onStep: options.onStep!,
            pending: (p) => pending = p,
          });
        } finally {
          tf.dispose(Object.values(acts));
        }
        continue;
      }
      const out = stepPass(
        plan,
        trace.steps[t]!,
        weights,
        carry,
        count,
        caches,
      );
      tf.dispose(Object.values(carry));
      carry = out.carry;
      perStep[t] = out.statics;
      pending = [out.absorbed];
      addInto(absorbed, await read(out.absorbed));
      if (stream) {
        await streamStep(plan, trace.steps[t]!, weights, perStep, t, {
          count,
          relevance,
          absorbed,
          onStep: options.onStep!,
          pending: (p) => pending = p,
        });
      }
    }
    since = await yieldIfDue(since, options);
    if (!stream) {
      let batched: RelevanceMap = {};
      if (fused !== undefined) {
        const inputs = fusedLstmInputs(fused, op!, trace, candidates);
        tf.dispose(candidates);
        batched = inputs.statics;
        pending = [inputs.absorbed, ...Object.values(batched)];
        addInto(absorbed, await read(inputs.absorbed));
      }
      await batchedStatics(plan, trace, weights, perStep, {
        count,
        relevance,
        absorbed,
        pending: (p) => pending = p,
      }, batched);
    }
    // What reached the zero states of step 0.
    const initial = new Float64Array(count);
    for (const r of Object.values(carry)) {
      const flat = tf.tidy(() => tf.sum(tf.reshape(r, [count, -1]), 1));
      pending = [flat];
      addInto(initial, await read(flat));
    }
    return {
      relevance,
      summaries: summarize(logits, targets, relevance, absorbed, initial),
    };
  } finally {
    x.dispose();
    disposeSteps(perStep);
    if (trace !== undefined) disposeTrace(trace);
    if (fused !== undefined) disposeFusedLstm(fused);
    tf.dispose(candidates);
    disposeWeights(weights);
    for (const cache of caches.values()) cache.dispose();
    tf.dispose(Object.values(carry));
    tf.dispose(pending);
  }
}

/** Where a pass writes pixel relevance and absorbed relevance. */
interface PixelSink {
  readonly count: number;
  /** [count, T, size]. */
  readonly relevance: Float32Array;
  /** [count]. */
  readonly absorbed: Float64Array;
  /** Registers the tensors in flight, so that the caller's `finally` frees them. */
  readonly pending: (tensors: tf.Tensor[]) => void;
}

async function readAndDispose(t: tf.Tensor): Promise<Float32Array> {
  const values = await t.data() as Float32Array;
  t.dispose();
  return values;
}

/** Step t's rows [N, ...] of each time-major [T·N, ...] activation. */
function stepRows(
  statics: ActivationMap,
  t: number,
  count: number,
): Record<string, tf.Tensor> {
  return tf.tidy(() =>
    Object.fromEntries(
      Object.entries(statics).map((
        [name, all],
      ) => [name, tf.slice(all!, t * count, count)]),
    )
  );
}

/** Streaming mode: step t's static layers, then hands its pixels to onStep. */
async function streamStep(
  plan: PassPlan,
  acts: ActivationMap,
  weights: ReadonlyMap<string, LayerWeights>,
  perStep: RelevanceMap[],
  t: number,
  sink: PixelSink & { onStep: (step: StepRelevance) => void },
): Promise<void> {
  const { count, relevance, absorbed } = sink;
  const steps = perStep.length;
  const size = relevance.length / (count * steps);
  const out = staticPass(plan, acts, weights, [perStep[t]!], count);
  tf.dispose(Object.values(perStep[t]!));
  perStep[t] = {};
  sink.pending([out.pixels, out.absorbed]);
  const pixels = await readAndDispose(out.pixels);
  addInto(absorbed, await readAndDispose(out.absorbed));
  for (let n = 0; n < count; n++) {
    relevance.set(
      pixels.subarray(n * size, (n + 1) * size),
      (n * steps + t) * size,
    );
  }
  sink.onStep({ step: t, relevance: pixels, sums: sumsOf(pixels, count) });
}

/** Batched mode: the static layers once over all T·N rows (time-major). */
async function batchedStatics(
  plan: PassPlan,
  trace: ModelTrace,
  weights: ReadonlyMap<string, LayerWeights>,
  perStep: RelevanceMap[],
  sink: PixelSink,
  batched: RelevanceMap = {},
): Promise<void> {
  const { count, relevance, absorbed } = sink;
  const steps = perStep.length;
  const size = relevance.length / (count * steps);
  const statics = staticPass(
    plan,
    trace.statics,
    weights,
    perStep,
    count,
    batched,
  );
  disposeSteps(perStep);
  tf.dispose(Object.values(batched));
  sink.pending([statics.pixels, statics.absorbed]);
  const staticAbsorbed = await readAndDispose(statics.absorbed);
  // On the wasm heap backends, the rows are copied straight out of the
  // heap: reading [T·N, size] into a fresh buffer first cost 0.7 of an
  // R-LSTM pass's 14 ms at batch 50 (fresh memory is slow on these VMs).
  const view = heapFloats(statics.pixels);
  const pixels = view ?? await readAndDispose(statics.pixels);
  for (let t = 0; t < steps; t++) {
    for (let n = 0; n < count; n++) {
      const row = t * count + n;
      absorbed[n] += staticAbsorbed[row]!;
      relevance.set(
        pixels.subarray(row * size, (row + 1) * size),
        (n * steps + t) * size,
      );
    }
  }
  if (view !== undefined) statics.pixels.dispose();
}

function disposeSteps(perStep: RelevanceMap[]): void {
  for (let t = 0; t < perStep.length; t++) {
    tf.dispose(Object.values(perStep[t]!));
    perStep[t] = {};
  }
}

/** Hands each step's pixel relevance to `onStep`, T − 1 down to 0. */
async function streamSteps(
  relevance: Float32Array,
  count: number,
  steps: number,
  options: RelevancePassOptions,
  since: number,
): Promise<void> {
  const { onStep } = options;
  if (onStep === undefined) return;
  const size = relevance.length / (count * steps);
  for (let t = steps - 1; t >= 0; t--) {
    since = await yieldIfDue(since, options);
    const slice = new Float32Array(count * size);
    for (let n = 0; n < count; n++) {
      const offset = (n * steps + t) * size;
      slice.set(relevance.subarray(offset, offset + size), n * size);
    }
    onStep({ step: t, relevance: slice, sums: sumsOf(slice, count) });
  }
}

function addInto(sum: Float64Array, values: Float32Array): void {
  for (let n = 0; n < sum.length; n++) sum[n] += values[n]!;
}

function summarize(
  logits: Float32Array,
  targets: Int32Array,
  relevance: Float32Array,
  absorbed: Float64Array,
  initial: Float64Array,
): ExplanationSummary[] {
  const inputs = sumsOf(relevance, targets.length);
  return Array.from(targets, (target, n) => {
    const targetLogit = logits[n * CLASSES + target]!;
    const startRelevance = Math.max(0, targetLogit);
    const inputRelevance = inputs[n]!;
    const absorbedRelevance = absorbed[n]!;
    const initialStateRelevance = initial[n]!;
    return {
      predictedClass: argmax(logits, n * CLASSES, CLASSES),
      targetClass: target,
      targetLogit,
      startRelevance,
      inputRelevance,
      absorbedRelevance,
      initialStateRelevance,
      residual: startRelevance -
        (inputRelevance + absorbedRelevance + initialStateRelevance),
    };
  });
}
