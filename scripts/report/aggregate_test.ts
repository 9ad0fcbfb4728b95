import assert from "node:assert/strict";
import type { UnitResult } from "../campaign/unit_result.ts";
import {
  axesOf,
  cellSummary,
  pairedDifference,
  spreadByFold,
  unitValue,
  verdict,
} from "./aggregate.ts";
import { findingsMarkdown } from "./findings.ts";

function unit(
  label: string,
  fold: number,
  cos: Record<string, number>,
): UnitResult {
  const method: Record<string, string> = {
    SA: "sensitivity",
    GB: "guided_backprop",
    LRP: "lrp_alpha_beta",
    DTD: "deep_taylor",
  };
  return {
    key: `${label}|${fold}`,
    dataset: "mnist",
    label,
    fold,
    explainers: Object.entries(cos).map(([name, mean]) => ({
      name,
      method: method[name]!,
      cosineSimilarity: { mean, std: 0, ci95Low: mean, ci95High: mean },
    })),
  } as unknown as UnitResult;
}

// Deep beats Shallow by 0.1, 0.2, 0.3 on folds 0–2 under DTD.
const RESULTS = [0, 1, 2].flatMap((f) => [
  unit("Shallow", f, { SA: 0.5, GB: 0.5, LRP: 0.4, DTD: 0.4 }),
  unit("Deep", f, {
    SA: 0.5 + 0.01 * f,
    GB: 0.5,
    LRP: 0.6,
    DTD: 0.5 + 0.1 * f,
  }),
]);

Deno.test("cellSummary() and pairedDifference() aggregate fold means, paired by fold", () => {
  const dtd = (r: UnitResult) => unitValue(r, "DTD", "cosineSimilarity");
  const deep = cellSummary(RESULTS, { dataset: "mnist", label: "Deep" }, dtd);
  assert.equal(deep.n, 3);
  assert.ok(Math.abs(deep.mean - 0.6) < 1e-12);
  const d = pairedDifference(RESULTS, "mnist", ["Deep", "Shallow"], dtd);
  assert.ok(Math.abs(d.mean - 0.2) < 1e-12);
  // t(0.975, 2) = 4.303, std of (0.1, 0.2, 0.3) = 0.1: half-width 0.248.
  assert.ok(Math.abs(d.ciLow - (0.2 - 4.303 * 0.1 / Math.sqrt(3))) < 1e-3);
  assert.equal(verdict(d), "not significant");
  const lrp = pairedDifference(
    RESULTS,
    "mnist",
    ["Deep", "Shallow"],
    (r) => unitValue(r, "LRP", "cosineSimilarity"),
  );
  assert.equal(lrp.std, 0);
  assert.equal(verdict(lrp), "yes");
});

Deno.test("spreadByFold() is max − min across architectures per fold, and the findings cite it", () => {
  const s = spreadByFold(RESULTS, "mnist", ["Shallow", "Deep"], "DTD");
  assert.deepEqual([...s.entries()].map(([f, v]) => [f, +v.toFixed(6)]), [
    [0, 0.1],
    [1, 0.2],
    [2, 0.3],
  ]);
  const md = findingsMarkdown(RESULTS, axesOf(RESULTS)).join("\n");
  assert.match(
    md,
    /\| mnist \| Deep − Shallow \| LRP \| \+0\.200 \[\+0\.200, \+0\.200\] \(n = 3\) \| yes \|/,
  );
  assert.match(md, /\(c\)/);
});
