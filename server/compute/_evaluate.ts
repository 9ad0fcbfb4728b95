/**
 * The `evaluate` task inside a worker: explain the first samples of a
 * majority problem's part with each explainer and score where the relevance
 * lands (thesis §3.3.2), with `models/metrics` doing the arithmetic.
 *
 * @module
 */
import {
  blockMetrics,
  blockShares,
  explain,
  explainerValidity,
  type MethodParams,
  type NegativeRelevance,
  predict,
  type ProblemPart,
  resolveParams,
  type RnnModel,
  stepRelevance,
  summarize,
} from "../../models/mod.ts";
import { PreconditionError } from "../errors.ts";
import { type TaskContext, withModel } from "./_context.ts";
import type {
  EvaluateResult,
  EvaluateTask,
  ExplainerReport,
  PerSampleValues,
} from "./protocol.ts";
import { createPerturbation } from "./_evaluate_perturbation.ts";

const BLOCKS = 3;

/**
 * The thesis text's negative-relevance handling for a method: LRP-αβ
 * heatmaps with β > 0 have their negative relevance set to zero before the
 * cosine similarity (thesis §3.3.2); every other method keeps it.
 *
 * @param method the registry key
 * @param params the resolved parameters
 * @returns `clip` or `keep`
 */
export function defaultNegative(
  method: string,
  params: Readonly<MethodParams>,
): NegativeRelevance {
  return method === "lrp_alpha_beta" && (params.beta ?? 0) > 0
    ? "clip"
    : "keep";
}

function positiveInt(value: number | undefined, name: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new RangeError(
      `Cannot evaluate: ${name} must be an integer ≥ 1: got ${value}`,
    );
  }
}

function checkTask(task: EvaluateTask): void {
  if (!Array.isArray(task.explainers) || task.explainers.length === 0) {
    throw new RangeError("Cannot evaluate: at least one explainer is required");
  }
  if (task.data?.problem !== "majority") {
    throw new RangeError(
      `Cannot evaluate: the data must be a majority problem: got ${
        JSON.stringify(task.data?.problem)
      }`,
    );
  }
  const part = task.part ?? "test";
  if (part !== "train" && part !== "test") {
    throw new RangeError(
      `Cannot evaluate: part must be "train" or "test": got ${
        JSON.stringify(part)
      }`,
    );
  }
  const negative = task.negative;
  if (negative !== undefined && negative !== "clip" && negative !== "keep") {
    throw new RangeError(
      `Cannot evaluate: negative must be "clip" or "keep": got ${
        JSON.stringify(negative)
      }`,
    );
  }
  positiveInt(task.maxSamples, "maxSamples");
  positiveInt(task.batchSize, "batchSize");
}

function checkModel(model: RnnModel, id: string): void {
  const { rows, steps, columns } = model.spec;
  if (rows !== 28 || steps * columns !== 84 || steps % BLOCKS !== 0) {
    throw new PreconditionError(
      `Cannot evaluate model "${id}": its input is ${rows}×${
        steps * columns
      } in ${steps} steps, expected 28×84 in a multiple of 3 steps (a majority-sample model)`,
    );
  }
}

function take(part: ProblemPart, n: number, size: number): ProblemPart {
  return {
    x: part.x.subarray(0, n * size),
    labels: part.labels.subarray(0, n),
    marks: part.marks!.subarray(0, n * BLOCKS),
    count: n,
  };
}

/**
 * Runs an evaluation.
 *
 * @param task the model, data, explainers and options
 * @param context signal, progress sink and caches
 * @returns one report per explainer, in task order
 * @throws {RangeError|TypeError} for a malformed task or explainer parameters
 * @throws {PreconditionError} for a model that is not a majority-sample model or a method invalid for it
 */
export function runEvaluate(
  task: EvaluateTask,
  context: TaskContext,
): Promise<EvaluateResult> {
  checkTask(task);
  const explainers = task.explainers.map((e) => ({
    method: e.method,
    params: resolveParams(e.method, e.params),
  }));
  return withModel(context, task.model, async (model) => {
    checkModel(model, task.model.id);
    for (const { method, params } of explainers) {
      const validity = explainerValidity(method, model.graph, params);
      if (!validity.valid) throw new PreconditionError(validity.reason);
    }
    const problem = await context.problems.get(task.data, model.spec.steps);
    const { steps, rows, columns } = model.spec;
    if (problem.height !== rows || problem.columns !== columns) {
      throw new RangeError(
        `Cannot evaluate: the samples have ${problem.height} rows and ${problem.columns} columns per step, the model expects ${rows} and ${columns}`,
      );
    }
    const whole = problem[task.part ?? "test"];
    const n = Math.min(task.maxSamples ?? whole.count, whole.count);
    const data = take(whole, n, steps * rows * columns);
    const { predicted } = await predict(model, data.x, n, {
      signal: context.signal,
    });
    let correct = 0;
    for (let i = 0; i < n; i++) if (predicted[i] === data.labels[i]) correct++;
    const progress = { done: 0, total: n * explainers.length };
    const perturbation = task.regionPerturbation === undefined
      ? undefined
      : createPerturbation(model, data, {
        options: task.regionPerturbation,
        train: problem.train,
        signal: context.signal,
      });
    const reports: ExplainerReport[] = [];
    for (const explainer of explainers) {
      const negative = task.negative ??
        defaultNegative(explainer.method, explainer.params);
      const values = await scoreExplainer(model, data, {
        ...explainer,
        negative,
        task,
        context,
        progress,
      });
      const region = perturbation === undefined
        ? undefined
        : await perturbation.score(values.relevance);
      reports.push({
        ...(region === undefined ? {} : { regionPerturbation: region }),
        method: explainer.method,
        params: { ...explainer.params },
        negative,
        sampleCount: n,
        modelAccuracy: correct / n,
        cosineSimilarity: summarize(values.cosineSimilarity),
        correctBlockShare: summarize(values.correctBlockShare),
        relevanceMassAccuracy: summarize(values.relevanceMassAccuracy),
        relevanceRankAccuracy: summarize(values.relevanceRankAccuracy),
        ...(task.perSample
          ? {
            perSample: {
              blockRelevance: values.blockRelevance,
              cosineSimilarity: values.cosineSimilarity,
              correctBlockShare: values.correctBlockShare,
              relevanceMassAccuracy: values.relevanceMassAccuracy,
              relevanceRankAccuracy: values.relevanceRankAccuracy,
              indices: Uint32Array.from({ length: n }, (_, i) => i),
              labels: data.labels.slice(),
              predicted,
            },
          }
          : {}),
      });
    }
    return { reports };
  });
}

interface ScoreOptions {
  method: string;
  params: Readonly<MethodParams>;
  negative: NegativeRelevance;
  task: EvaluateTask;
  context: TaskContext;
  progress: { done: number; total: number };
}

type MetricValues =
  & Omit<PerSampleValues, "indices" | "labels" | "predicted">
  & {
    /** The first samples' raw relevance, kept only for region perturbation. */
    relevance: Float32Array;
  };

async function scoreExplainer(
  model: RnnModel,
  data: ProblemPart,
  options: ScoreOptions,
): Promise<MetricValues> {
  const { method, params, negative, task, context, progress } = options;
  const { steps, rows, columns } = model.spec;
  const size = steps * rows * columns;
  const n = data.count;
  const batchSize = task.batchSize ?? 50;
  const kept = Math.min(n, task.regionPerturbation?.maxSamples ?? 0);
  const out = {
    relevance: new Float32Array(kept * size),
    blockRelevance: new Float64Array(n * BLOCKS),
    cosineSimilarity: new Float64Array(n),
    correctBlockShare: new Float64Array(n),
    relevanceMassAccuracy: new Float64Array(n),
    relevanceRankAccuracy: new Float64Array(n),
  };
  for (let start = 0; start < n; start += batchSize) {
    const b = Math.min(batchSize, n - start);
    const marks = data.marks!.subarray(start * BLOCKS, (start + b) * BLOCKS);
    const { relevance } = await explain(
      model,
      {
        x: data.x.subarray(start * size, (start + b) * size),
        count: b,
        labels: data.labels.subarray(start, start + b),
      },
      method,
      {
        params,
        target: task.target ?? { kind: "true_label" },
        signal: context.signal,
        yieldToEventLoop: context.pollCancel,
      },
    );
    const metrics = blockMetrics(relevance, marks, b, {
      steps,
      rows,
      columns,
      negative,
    });
    if (start < kept) {
      out.relevance.set(
        relevance.subarray(0, (Math.min(kept, start + b) - start) * size),
        start * size,
      );
    }
    out.cosineSimilarity.set(metrics.cosineSimilarity, start);
    out.correctBlockShare.set(metrics.correctBlockShare, start);
    out.relevanceMassAccuracy.set(metrics.relevanceMassAccuracy, start);
    out.relevanceRankAccuracy.set(metrics.relevanceRankAccuracy, start);
    if (task.perSample) {
      const perStep = stepRelevance(relevance, b, {
        steps,
        stepSize: rows * columns,
      }, negative);
      out.blockRelevance.set(
        blockShares(perStep, b, steps, BLOCKS),
        start * BLOCKS,
      );
    }
    progress.done += b;
    context.emit({
      kind: "progress",
      samplesDone: progress.done,
      samplesTotal: progress.total,
    });
  }
  return out;
}
