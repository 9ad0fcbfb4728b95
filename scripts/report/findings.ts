/**
 * The thesis's three findings checked against campaign results, with the
 * fold-paired differences and their 95% CIs:
 * (a) Deep beats Shallow under deep Taylor and LRP;
 * (b) R-LSTM and R-LSTM-SD beat Deep under every method;
 * (c) deep Taylor and LRP are more sensitive to the architecture than SA
 *     and GB, sensitivity being the spread (max − min) across architectures
 *     of a method's mean cosine similarity, taken per fold.
 *
 * @module
 */
import { summarize, type Summary } from "../../models/mod.ts";
import type { UnitResult } from "../campaign/unit_result.ts";
import {
  type Axes,
  pairedDifference,
  spreadByFold,
  unitValue,
  verdict,
} from "./aggregate.ts";

/** Which explainer names play which thesis role. */
export interface MethodRoles {
  /** Sensitivity analysis. */
  sa?: string;
  /** Guided backprop. */
  gb?: string;
  /** LRP (αβ). */
  lrp?: string;
  /** Deep Taylor. */
  dtd?: string;
}

/**
 * Guesses the roles from explainer method keys.
 *
 * @param results the results
 * @returns the explainer name of each role present
 */
export function methodRoles(results: readonly UnitResult[]): MethodRoles {
  const roles: MethodRoles = {};
  for (const e of results.flatMap((r) => r.explainers)) {
    if (e.method === "sensitivity") roles.sa ??= e.name;
    if (e.method === "guided_backprop") roles.gb ??= e.name;
    if (e.method.startsWith("lrp_")) roles.lrp ??= e.name;
    if (e.method === "deep_taylor") roles.dtd ??= e.name;
  }
  return roles;
}

const fmt = (v: number, d = 3) => Number.isFinite(v) ? v.toFixed(d) : "—";

/** `+0.012 [−0.003, +0.027] (n = 3)`. */
export function formatDiff(s: Summary): string {
  const sign = (v: number) => (v >= 0 ? "+" : "−") + fmt(Math.abs(v));
  return `${sign(s.mean)} [${sign(s.ciLow)}, ${sign(s.ciHigh)}] (n = ${s.n})`;
}

function comparison(
  results: readonly UnitResult[],
  dataset: string,
  pair: [string, string],
  method: string,
): string {
  const s = pairedDifference(
    results,
    dataset,
    pair,
    (r) => unitValue(r, method, "cosineSimilarity"),
  );
  return `| ${dataset} | ${pair[0]} − ${pair[1]} | ${method} | ${
    formatDiff(s)
  } | ${verdict(s)} |`;
}

/**
 * The findings section in Markdown.
 *
 * @param results the results
 * @param axes datasets, labels, methods
 * @returns Markdown lines
 */
export function findingsMarkdown(
  results: readonly UnitResult[],
  axes: Axes,
): string[] {
  const roles = methodRoles(results);
  const has = (l: string) => axes.labels.includes(l);
  const head = [
    "| dataset | difference | method | mean cosine difference [95% CI] | holds at 95%? |",
    "| --- | --- | --- | ---: | --- |",
  ];
  const out: string[] = [];
  out.push(
    "### (a) Deep beats Shallow under deep Taylor and LRP",
    "",
    "Fold-paired difference of the mean cosine similarity (Deep − Shallow); " +
      "Student-t 95% CI over folds.",
    "",
    ...head,
  );
  for (const d of axes.datasets) {
    for (const m of [roles.dtd, roles.lrp]) {
      if (m !== undefined && has("Deep") && has("Shallow")) {
        out.push(comparison(results, d, ["Deep", "Shallow"], m));
      }
    }
  }
  out.push(
    "",
    "### (b) R-LSTM and R-LSTM-SD beat Deep under every method",
    "",
    ...head,
  );
  for (const d of axes.datasets) {
    for (const l of ["R-LSTM", "R-LSTM-SD"]) {
      if (!has(l) || !has("Deep")) continue;
      for (const m of axes.methods) {
        out.push(comparison(results, d, [l, "Deep"], m));
      }
    }
  }
  out.push(
    "",
    "### (c) Deep Taylor and LRP are more sensitive to the architecture than SA and GB",
    "",
    `Sensitivity of a method = the spread (max − min) of its cosine similarity across the architectures (${
      axes.labels.join(", ")
    }), computed per fold; the test is the fold-paired difference ` +
      "mean(spread DTD, spread LRP) − mean(spread SA, spread GB).",
    "",
    "| dataset | spread SA | spread GB | spread LRP | spread DTD | (DTD+LRP)/2 − (SA+GB)/2 [95% CI] | holds at 95%? |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
  );
  const { sa, gb, lrp, dtd } = roles;
  if (sa && gb && lrp && dtd) {
    for (const d of axes.datasets) {
      const spreads = [sa, gb, lrp, dtd].map((m) =>
        spreadByFold(results, d, axes.labels, m)
      );
      const diffs: number[] = [];
      for (const fold of spreads[0]!.keys()) {
        const [s, g, l, t] = spreads.map((x) => x.get(fold));
        if ([s, g, l, t].some((v) => v === undefined)) continue;
        diffs.push((l! + t!) / 2 - (s! + g!) / 2);
      }
      const cells = spreads.map((x) => {
        const s = summarize([...x.values()]);
        return `${fmt(s.mean)} [${fmt(s.ciLow)}, ${fmt(s.ciHigh)}]`;
      });
      const diff = summarize(diffs);
      out.push(
        `| ${d} | ${cells.join(" | ")} | ${formatDiff(diff)} | ${
          verdict(diff)
        } |`,
      );
    }
  }
  return out;
}
