/**
 * The Markdown report of a campaign and its metric charts: accuracy (Tables
 * 3.4–3.6 / Appendix 1 style), every metric per dataset × architecture ×
 * method with 95% CIs over folds, AOPC with its random baseline, timings,
 * and the findings (a)–(c).
 *
 * @module
 */
import { summarize } from "../../models/mod.ts";
import type { UnitResult } from "../campaign/unit_result.ts";
import { axesOf, cellSummary, type MetricKey, unitValue } from "./aggregate.ts";
import { type Bar, groupedBarChart } from "./bar_chart.ts";
import type { Drawing } from "./drawing.ts";
import { findingsMarkdown } from "./findings.ts";

/** Thesis Appendix 1: 7-fold mean accuracy (%) of the models behind Figures 3.12/3.18/3.21. */
export const THESIS_ACCURACY: Readonly<Record<string, number>> = {
  "mnist/Shallow": 98.35,
  "mnist/Deep": 98.43,
  "mnist/DeepV2": 98.48,
  "mnist/ConvDeep": 99.28,
  "mnist/R-LSTM": 98.77,
  "mnist/R-LSTM-SD": 98.75,
  "mnist/Deep-SD": 98.43,
  "fashion_mnist/Shallow": 92.30,
  "fashion_mnist/Deep": 91.35,
  "fashion_mnist/DeepV2": 92.07,
  "fashion_mnist/R-LSTM": 93.40,
  "fashion_mnist/R-LSTM-SD": 93.42,
  "fashion_mnist/Deep-SD": 91.87,
};

const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : "—");
const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(2) : "—");

/**
 * A grouped bar chart of one metric: groups = methods (and the random
 * baseline for AOPC), series = architectures, error bars = 95% CI over folds.
 *
 * @param results the results
 * @param dataset the dataset
 * @param metric the metric
 * @param title the chart title's metric name
 * @returns the drawing
 */
export function metricChart(
  results: readonly UnitResult[],
  dataset: string,
  metric: MetricKey,
  title: string,
): Drawing {
  const axes = axesOf(results);
  const groups = [...axes.methods];
  const value = (m: string) => (r: UnitResult) => unitValue(r, m, metric);
  const cols: ((r: UnitResult) => number | undefined)[] = groups.map(value);
  if (metric === "aopc") {
    groups.push("random");
    cols.push((r) => r.explainers[0]?.perturbation?.randomAopc.mean);
  }
  const bar = (s: ReturnType<typeof summarize>): Bar | undefined =>
    s.n === 0 ? undefined : { value: s.mean, low: s.ciLow, high: s.ciHigh };
  return groupedBarChart({
    title: `${title}: ${dataset}-MAJ`,
    groups,
    series: axes.labels,
    values: cols.map((col) =>
      axes.labels.map((label) =>
        bar(cellSummary(results, { dataset, label }, col))
      )
    ),
    yLabel: title,
    ...(metric === "cosineSimilarity" ? {} : {}),
  });
}

function metricTable(
  results: readonly UnitResult[],
  metric: MetricKey,
  random = false,
): string[] {
  const axes = axesOf(results);
  const heads = [...axes.methods, ...(random ? ["random order"] : [])];
  const lines = [
    `| dataset | architecture | ${heads.join(" | ")} |`,
    `| --- | --- | ${heads.map(() => "---:").join(" | ")} |`,
  ];
  for (const dataset of axes.datasets) {
    for (const label of axes.labels) {
      const cells = heads.map((m) => {
        const s = cellSummary(
          results,
          { dataset, label },
          (r) =>
            m === "random order"
              ? r.explainers[0]?.perturbation?.randomAopc.mean
              : unitValue(r, m, metric),
        );
        return s.n === 0
          ? "—"
          : `${f3(s.mean)} [${f3(s.ciLow)}, ${f3(s.ciHigh)}]`;
      });
      lines.push(`| ${dataset} | ${label} | ${cells.join(" | ")} |`);
    }
  }
  return lines;
}

function accuracyTable(results: readonly UnitResult[]): string[] {
  const axes = axesOf(results);
  const lines = [
    "| dataset | architecture | folds | train samples | epochs | held-out accuracy % (mean ± std) [95% CI] | evaluated-sample accuracy % | thesis 7-fold % (Appendix 1) |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const dataset of axes.datasets) {
    for (const label of axes.labels) {
      const units = results.filter((r) =>
        r.dataset === dataset && r.label === label
      );
      if (units.length === 0) continue;
      const s = summarize(units.map((r) => r.training.heldoutAccuracy));
      const e = summarize(units.map((r) => r.evalAccuracy));
      const thesis = THESIS_ACCURACY[`${dataset}/${label}`];
      lines.push(
        `| ${dataset} | ${label} | ${units.length} | ${
          units[0]!.training.trainSamples
        } | ${units[0]!.training.epochs} | ${pct(s.mean)} ± ${pct(s.std)} [${
          pct(s.ciLow)
        }, ${pct(s.ciHigh)}] | ${pct(e.mean)} | ${thesis?.toFixed(2) ?? "—"} |`,
      );
    }
  }
  return lines;
}

function timingLines(results: readonly UnitResult[]): string[] {
  const sum = (f: (r: UnitResult) => number) =>
    results.reduce((a, r) => a + f(r), 0) / 60_000;
  const by = new Map<string, number>();
  for (const r of results) by.set(r.server, (by.get(r.server) ?? 0) + 1);
  const backends = [...new Set(results.map((r) => r.backend))].join(", ");
  return [
    `- Units: ${results.length} (${
      [...by].map(([s, n]) => `${n} on ${s}`).join(", ")
    }); backend(s): ${backends}`,
    `- Unit time summed over units: ${
      sum((r) => r.timing.totalMs).toFixed(1)
    } min ` +
    `(model ${sum((r) => r.timing.modelMs).toFixed(1)} min, evaluate ${
      sum((r) => r.timing.evaluateMs).toFixed(1)
    } min); models: ${
      ["trained", "reused", "imported"].map((s) =>
        `${results.filter((r) => r.modelSource === s).length} ${s}`
      ).join(", ")
    }; units retried on another server: ${
      results.filter((r) => r.attempts > 1).length
    }`,
  ];
}

/** Inputs of {@linkcode reportMarkdown} besides the results. */
export interface ReportContext {
  /** The results file. */
  source: string;
  /** Figure list lines. */
  figures: string[];
  /** Heatmap and time-step figure lines. */
  explained: string[];
  /** Free text about the run (command, machine, wall time). */
  runInfo?: string;
  /**
   * The command that wrote the report.
   * @default `deno task campaign:report <source>`
   */
  command?: string;
}

/**
 * The whole report.
 *
 * @param results the results
 * @param ctx files and run information
 * @returns Markdown
 */
export function reportMarkdown(
  results: readonly UnitResult[],
  ctx: ReportContext,
): string {
  const axes = axesOf(results);
  const e0 = results[0]!.explainers[0];
  const p = e0?.perturbation;
  return [
    "# Campaign report",
    "",
    `Generated by \`${
      ctx.command ?? `deno task campaign:report ${ctx.source}`
    }\` from ${results.length} finished units; do not edit by hand.`,
    "",
    ...(ctx.runInfo === undefined
      ? []
      : ["## Run", "", ctx.runInfo.trim(), ""]),
    ...timingLines(results),
    `- Folds per cell: ${
      [...new Set(results.map((r) => r.fold))].sort().join(", ")
    } of ${results[0]!.folds}; evaluated samples per unit: ${e0?.sampleCount}` +
    (p === undefined ? "" : `; perturbed samples per unit: ${p.sampleCount}`),
    "- CIs: Student-t 95% intervals over the folds' means (the thesis plots seaborn bootstrap CIs over 7 folds); with 3 folds they are wide.",
    "",
    "## Accuracy (Tables 3.4–3.6, Appendix 1)",
    "",
    ...accuracyTable(results),
    "",
    "## Average cosine similarity (Figures 3.12, 3.18, 3.21)",
    "",
    ...metricTable(results, "cosineSimilarity"),
    "",
    "## Relevance in the true-class blocks",
    "",
    "Correct-block share:",
    "",
    ...metricTable(results, "correctBlockShare"),
    "",
    "RelevanceRankAccuracy:",
    "",
    ...metricTable(results, "relevanceRankAccuracy"),
    "",
    ...(p === undefined ? [] : [
      "## Faithfulness: region perturbation, most relevant first (AOPC)",
      "",
      "Samek et al. 2017: 4 × 4 patches of the 28 × 84 image replaced, most relevant first, " +
      "by uniform noise in [−1, 1]; AOPC = mean over k = 0…L of the drop of the " +
      "true-class logit. Larger is more faithful. `random order` is the baseline.",
      "",
      ...metricTable(results, "aopc", true),
      "",
    ]),
    "## Findings",
    "",
    ...findingsMarkdown(results, axes),
    "",
    "## Figures",
    "",
    ...ctx.figures,
    ...ctx.explained,
    "",
  ].join("\n");
}
