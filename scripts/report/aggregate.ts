/**
 * Aggregation of campaign results over folds, as the thesis does (thesis-code
 * §5.3): each unit contributes its fold mean; a cell (dataset, architecture,
 * method) is the mean over folds with a Student-t 95% CI over the fold means.
 * Comparisons between architectures are paired by fold.
 *
 * @module
 */
import { summarize, type Summary } from "../../models/mod.ts";
import type { UnitResult } from "../campaign/unit_result.ts";

/** The metric read from an explainer record. */
export type MetricKey =
  | "cosineSimilarity"
  | "correctBlockShare"
  | "relevanceMassAccuracy"
  | "relevanceRankAccuracy"
  | "aopc";

/** The axes of a campaign's results, in first-seen order. */
export interface Axes {
  /** Dataset keys. */
  datasets: string[];
  /** Architecture labels (R-LSTM-SD…). */
  labels: string[];
  /** Explainer names. */
  methods: string[];
}

/**
 * The datasets, architecture labels and explainer names present.
 *
 * @param results the results lines
 * @returns the axes
 */
export function axesOf(results: readonly UnitResult[]): Axes {
  const uniq = (xs: string[]) => [...new Set(xs)];
  return {
    datasets: uniq(results.map((r) => r.dataset)),
    labels: uniq(results.map((r) => r.label)),
    methods: uniq(results.flatMap((r) => r.explainers.map((e) => e.name))),
  };
}

/**
 * One unit's value of a metric for an explainer (its fold mean).
 *
 * @param r the unit
 * @param method the explainer name
 * @param metric the metric
 * @returns the value, or undefined when absent
 */
export function unitValue(
  r: UnitResult,
  method: string,
  metric: MetricKey,
): number | undefined {
  const e = r.explainers.find((x) => x.name === method);
  if (e === undefined) return undefined;
  return metric === "aopc" ? e.perturbation?.aopc.mean : e[metric].mean;
}

/** Fold means of one cell, by fold. */
export function foldValues(
  results: readonly UnitResult[],
  cell: { dataset: string; label: string },
  value: (r: UnitResult) => number | undefined,
): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of results) {
    if (r.dataset !== cell.dataset || r.label !== cell.label) continue;
    const v = value(r);
    if (v !== undefined && Number.isFinite(v)) out.set(r.fold, v);
  }
  return out;
}

/**
 * Mean over folds with a 95% CI of one cell.
 *
 * @param results the results lines
 * @param cell dataset and architecture label
 * @param value the per-unit value
 * @returns the summary over folds
 */
export function cellSummary(
  results: readonly UnitResult[],
  cell: { dataset: string; label: string },
  value: (r: UnitResult) => number | undefined,
): Summary {
  return summarize([...foldValues(results, cell, value).values()]);
}

/**
 * The fold-paired difference `a − b` of two architectures.
 *
 * @param results the results lines
 * @param dataset the dataset
 * @param labels `[a, b]`
 * @param value the per-unit value
 * @returns the summary of per-fold differences over the folds both have
 */
export function pairedDifference(
  results: readonly UnitResult[],
  dataset: string,
  labels: [string, string],
  value: (r: UnitResult) => number | undefined,
): Summary {
  const a = foldValues(results, { dataset, label: labels[0] }, value);
  const b = foldValues(results, { dataset, label: labels[1] }, value);
  const diffs: number[] = [];
  for (const [fold, va] of a) {
    const vb = b.get(fold);
    if (vb !== undefined) diffs.push(va - vb);
  }
  return summarize(diffs);
}

/**
 * Per fold, the spread (max − min) of a method's value across architectures:
 * the sensitivity of a method to the architecture.
 *
 * @param results the results lines
 * @param dataset the dataset
 * @param labels the architectures compared
 * @param method the explainer name
 * @returns spread by fold (folds where every architecture has a value)
 */
export function spreadByFold(
  results: readonly UnitResult[],
  dataset: string,
  labels: readonly string[],
  method: string,
): Map<number, number> {
  const per = labels.map((label) =>
    foldValues(
      results,
      { dataset, label },
      (r) => unitValue(r, method, "cosineSimilarity"),
    )
  );
  const out = new Map<number, number>();
  for (const fold of per[0]?.keys() ?? []) {
    const vs = per.map((m) => m.get(fold));
    if (vs.some((v) => v === undefined)) continue;
    out.set(
      fold,
      Math.max(...(vs as number[])) - Math.min(...(vs as number[])),
    );
  }
  return out;
}

/**
 * A verdict on a difference: significant at 95% either way, or not.
 *
 * @param s the difference's summary
 * @returns `"yes"`, `"reversed"` or `"not significant"`
 */
export function verdict(s: Summary): "yes" | "reversed" | "not significant" {
  if (s.n >= 2 && s.ciLow > 0) return "yes";
  if (s.n >= 2 && s.ciHigh < 0) return "reversed";
  return "not significant";
}
