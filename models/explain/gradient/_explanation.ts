/**
 * Streaming and summarising a computed gradient explanation.
 *
 * @module
 */
import type { RnnModel } from "../../arch/rnn_model.ts";
import { NUM_CLASSES } from "../../arch/spec.ts";
import {
  argmax,
  type ExplainOptions,
  type Explanation,
  type ExplanationSummary,
  type MethodName,
  type MethodParams,
  yieldIfDue,
} from "../explanation.ts";

/** The conservation terms of one sample, for methods where they apply. */
export interface Conservation {
  readonly start: number;
  readonly absorbed: number;
  readonly initialState: number;
}

/** A computed explanation before streaming. */
export interface Computed {
  readonly method: MethodName;
  readonly params: Readonly<MethodParams>;
  /** [N, T, rows · columns]. */
  readonly relevance: Float32Array;
  /** [N, 10] logits at x. */
  readonly logits: Float32Array;
  readonly targets: Int32Array;
  /**
   * Conservation terms of sample n given its input relevance; absent where
   * conservation does not apply (start, absorbed, initial state and residual
   * are then NaN).
   */
  readonly conservation?: (n: number, inputRelevance: number) => Conservation;
}

const NOT_APPLICABLE: Conservation = {
  start: NaN,
  absorbed: NaN,
  initialState: NaN,
};

/**
 * Hands out each step's relevance from T − 1 down to 0 (checking the signal
 * and yielding between steps), then returns the explanation with per-sample
 * summaries.
 */
export async function finishExplanation(
  model: RnnModel,
  computed: Computed,
  options: ExplainOptions,
): Promise<Explanation> {
  const { steps, rows, columns } = model.spec;
  const size = rows * columns;
  const count = computed.targets.length;
  const { relevance } = computed;
  const { onStep } = options;
  const totals = new Float64Array(count);
  let last = performance.now();
  for (let t = steps - 1; t >= 0; t--) {
    options.signal?.throwIfAborted();
    const slice = onStep === undefined
      ? undefined
      : new Float32Array(count * size);
    const sums = new Float64Array(count);
    for (let n = 0; n < count; n++) {
      const offset = (n * steps + t) * size;
      let sum = 0;
      for (let i = 0; i < size; i++) sum += relevance[offset + i]!;
      slice?.set(relevance.subarray(offset, offset + size), n * size);
      sums[n] = sum;
      totals[n]! += sum;
    }
    if (onStep !== undefined) {
      onStep({ step: t, relevance: slice!, sums });
    }
    last = await yieldIfDue(last, options);
  }
  const summaries: ExplanationSummary[] = [];
  for (let n = 0; n < count; n++) {
    const targetClass = computed.targets[n]!;
    const inputRelevance = totals[n]!;
    const c = computed.conservation?.(n, inputRelevance) ?? NOT_APPLICABLE;
    summaries.push({
      predictedClass: argmax(computed.logits, n * NUM_CLASSES, NUM_CLASSES),
      targetClass,
      targetLogit: computed.logits[n * NUM_CLASSES + targetClass]!,
      startRelevance: c.start,
      inputRelevance,
      absorbedRelevance: c.absorbed,
      initialStateRelevance: c.initialState,
      residual: c.start - (inputRelevance + c.absorbed + c.initialState),
    });
  }
  return {
    method: computed.method,
    params: computed.params,
    relevance,
    summaries,
  };
}
