import assert from "node:assert/strict";
import {
  architectureLabel,
  CampaignError,
  campaignUnits,
  modelName,
  parseCampaign,
  resultsFingerprint,
} from "./campaign_spec.ts";

const BASE = {
  datasets: ["mnist", "fashion_mnist"],
  architectures: ["shallow", "r_lstm@stationary"],
  dropouts: ["naive", "none"],
  explainers: [{ method: "sensitivity" }],
  folds: 7,
  foldIndices: [0, 2],
  epochs: 1,
  evalSamples: 10,
};

Deno.test("campaignUnits() crosses datasets, architectures, dropouts (unless fixed with @), folds and seeds", () => {
  const units = campaignUnits(parseCampaign(BASE));
  // 2 datasets × (shallow × 2 dropouts + r_lstm@stationary) × 2 folds.
  assert.equal(units.length, 2 * 3 * 2);
  assert.equal(new Set(units.map((u) => u.key)).size, units.length);
  assert.ok(
    units.some((u) =>
      u.key === "fashion_mnist|r_lstm|stationary|fold 2/7|seed 1"
    ),
  );
  assert.ok(
    !units.some((u) =>
      u.architecture === "r_lstm" && u.dropout !== "stationary"
    ),
  );
});

Deno.test("parseCampaign() fills defaults and refuses malformed fields with CampaignError", () => {
  const c = parseCampaign(BASE);
  assert.equal(c.learningRate, 0.0002);
  assert.equal(c.batchSize, 50);
  assert.deepEqual(c.seeds, [1]);
  assert.equal(c.explainers[0]!.name, "sensitivity");
  for (
    const bad of [
      { ...BASE, datasets: ["cifar"] },
      { ...BASE, foldIndices: [7] },
      { ...BASE, epochs: 0 },
      { ...BASE, explainers: [] },
      { ...BASE, architectures: ["deep@sometimes"] },
      { ...BASE, perturbation: { fill: "zeros" } },
    ]
  ) {
    assert.throws(() => parseCampaign(bad), CampaignError);
  }
});

Deno.test("modelName() and resultsFingerprint() change with what decides the model and the results", () => {
  const c = parseCampaign(BASE);
  const [u] = campaignUnits(c);
  const longer = parseCampaign({ ...BASE, epochs: 2 });
  assert.notEqual(modelName(u!, c), modelName(u!, longer));
  const moreSamples = parseCampaign({ ...BASE, evalSamples: 20 });
  assert.equal(modelName(u!, c), modelName(u!, moreSamples));
  assert.notEqual(resultsFingerprint(c), resultsFingerprint(moreSamples));
  assert.equal(architectureLabel("r_lstm", "stationary"), "R-LSTM-SD");
});
