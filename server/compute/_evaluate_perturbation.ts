/**
 * Region perturbation inside an `evaluate` task (Samek et al. 2017, most
 * relevant first): for each explainer, the first samples' patches are
 * replaced in order of relevance and the true-class logit is recorded after
 * each step; a seeded random order, computed once per task, is the baseline.
 * `models/metrics/region_perturbation.ts` holds the arithmetic.
 *
 * @module
 */
import {
  aopc,
  patchIndex,
  patchOrder,
  perturbationSequence,
  predict,
  type ProblemPart,
  randomPatchOrder,
  type RnnModel,
  summarize,
  uniformFill,
} from "../../models/mod.ts";
import type {
  RegionPerturbationResult,
  RegionPerturbationTask,
} from "./protocol.ts";

/** Region perturbation bound to one model and its evaluated samples. */
export interface Perturbation {
  /**
   * Scores one explainer.
   * @param relevance the first `options.maxSamples` samples' relevance
   * @returns AOPC and curves, with the random baseline
   */
  score(relevance: Float32Array): Promise<RegionPerturbationResult>;
}

/** Options of {@linkcode createPerturbation}. */
export interface PerturbationOptions {
  /** Steps, patch size, fill, seed and sample cap. */
  options: RegionPerturbationTask;
  /** The split's training part (for the mean fill). */
  train: ProblemPart;
  /** Stops the forward passes. */
  signal: AbortSignal;
}

function meanImage(train: ProblemPart, size: number): Float32Array {
  const mean = new Float64Array(size);
  for (let n = 0; n < train.count; n++) {
    for (let i = 0; i < size; i++) mean[i]! += train.x[n * size + i]!;
  }
  return Float32Array.from(mean, (v) => v / Math.max(1, train.count));
}

/**
 * Prepares region perturbation of the first samples of `data`.
 *
 * @param model the model
 * @param data the evaluated samples
 * @param options steps, patch size, fill, seed, training part, signal
 * @returns the scorer
 * @throws {RangeError} when the steps exceed the number of patches
 */
export function createPerturbation(
  model: RnnModel,
  data: ProblemPart,
  options: PerturbationOptions,
): Perturbation {
  const { steps: T, rows, columns } = model.spec;
  const size = T * rows * columns;
  const o = options.options;
  const { patchOf, count } = patchIndex({
    steps: T,
    rows,
    columns,
    patchSize: o.patchSize,
  });
  if (o.steps > count) {
    throw new RangeError(
      `Cannot perturb ${o.steps} patches of ${o.patchSize}×${o.patchSize}: the image has ${count}`,
    );
  }
  const m = Math.min(o.maxSamples, data.count);
  const mean = o.fill === "mean" ? meanImage(options.train, size) : undefined;
  const fills = Array.from(
    { length: m },
    (_, i) => mean ?? uniformFill(size, o.seed, i),
  );
  async function curves(orders: Int32Array[]) {
    const L = o.steps;
    const inputs = new Float32Array(m * (L + 1) * size);
    for (let i = 0; i < m; i++) {
      inputs.set(
        perturbationSequence(
          data.x.subarray(i * size, (i + 1) * size),
          orders[i]!,
          {
            patchOf,
            fill: fills[i]!,
            steps: L,
          },
        ),
        i * (L + 1) * size,
      );
    }
    const { logits } = await predict(model, inputs, m * (L + 1), {
      signal: options.signal,
    });
    const perSample = new Float64Array(m);
    const mean = new Float64Array(L + 1);
    for (let i = 0; i < m; i++) {
      const label = data.labels[i]!;
      const curve = Array.from(
        { length: L + 1 },
        (_, k) => logits[(i * (L + 1) + k) * 10 + label]!,
      );
      perSample[i] = aopc(curve);
      curve.forEach((v, k) => (mean[k]! += v / m));
    }
    return { perSample, mean: Array.from(mean) };
  }
  let baseline:
    | Promise<{ perSample: Float64Array; mean: number[] }>
    | undefined;
  return {
    async score(relevance) {
      baseline ??= curves(
        Array.from(
          { length: m },
          (_, i) => randomPatchOrder(count, o.seed + i),
        ),
      );
      const own = await curves(
        Array.from(
          { length: m },
          (_, i) =>
            patchOrder(
              relevance.subarray(i * size, (i + 1) * size),
              patchOf,
              count,
            ),
        ),
      );
      const random = await baseline;
      return {
        options: { ...o, maxSamples: m },
        aopc: summarize(own.perSample),
        randomAopc: summarize(random.perSample),
        curve: own.mean,
        randomCurve: random.mean,
        sampleCount: m,
      };
    },
  };
}
