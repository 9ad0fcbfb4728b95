import assert from "node:assert/strict";
import { PreconditionError } from "../errors.ts";
import {
  COMPOSITE_PRESETS,
  createComposite,
  type LayerSlot,
  RELEVANCE_METHODS,
} from "./composites.ts";
import { resolveParams } from "./attributors.ts";

const slot = (
  kind: LayerSlot["kind"],
  input: LayerSlot["input"],
  pixels = 0,
): LayerSlot => ({ layer: "l", kind, input, pixels });

function table(method: (typeof RELEVANCE_METHODS)[number], params = {}) {
  const c = createComposite(method, params);
  return [
    slot("dense", "nonnegative"),
    slot("conv", "nonnegative"),
    slot("dense", "pixels"),
    slot("conv", "pixels"),
    slot("dense", "mixed", 4),
    slot("pool", "nonnegative"),
  ].map((s) => {
    const rule = c.ruleFor(s);
    return `${rule.name}(${JSON.stringify(rule.params)})`;
  });
}

Deno.test("createComposite() maps layer kind and input domain to the thesis's rules", () => {
  assert.deepEqual(table("deep_taylor"), [
    'ZPlus({"alpha":1,"beta":0,"stabilizer":1e-9})',
    'ZPlus({"alpha":1,"beta":0,"stabilizer":1e-9})',
    'ZBox({"low":-1,"high":1,"stabilizer":1e-9})',
    'ZBox({"low":-1,"high":1,"stabilizer":1e-9})',
    'MixedDomain({"pixels":4,"low":-1,"high":1,"alpha":1,"beta":0,"stabilizer":1e-9})',
    'Norm({"stabilizer":1e-9})',
  ]);
  assert.deepEqual(
    table("lrp_alpha_beta", { alpha: 1.5, low: 0, high: 2 }),
    [
      'AlphaBeta({"alpha":1.5,"beta":0.5,"stabilizer":1e-9})',
      'AlphaBeta({"alpha":1.5,"beta":0.5,"stabilizer":1e-9})',
      'ZBox({"low":0,"high":2,"stabilizer":1e-9})',
      'ZBox({"low":0,"high":2,"stabilizer":1e-9})',
      'MixedDomain({"pixels":4,"low":0,"high":2,"alpha":1.5,"beta":0.5,"stabilizer":1e-9})',
      'Norm({"stabilizer":1e-9})',
    ],
  );
  assert.deepEqual(
    table("lrp_epsilon", { epsilon: 0.25 }),
    Array(6).fill('Epsilon({"epsilon":0.25})'),
  );
  const real = createComposite("deep_taylor", { inputDomain: "real" });
  assert.equal(real.ruleFor(slot("dense", "pixels")).name, "WSquare");
  assert.throws(
    () => real.ruleFor(slot("dense", "mixed", 4)),
    PreconditionError,
  );
  assert.throws(
    () => createComposite("lrp_alpha_beta").ruleFor(slot("dense", "real")),
    PreconditionError,
  );
  assert.equal(
    createComposite("lrp_epsilon").ruleFor(slot("dense", "real")).name,
    "Epsilon",
  );
  assert.deepEqual(createComposite("deep_taylor").cell, {
    stabilizer: 1e-10,
    stabilizerShare: "candidate",
  });
});

Deno.test("createComposite() fills the other of α, β from α − β = 1 and echoes its parameters", () => {
  assert.deepEqual(createComposite("lrp_alpha_beta", { alpha: 2 }).params, {
    alpha: 2,
    beta: 1,
    low: -1,
    high: 1,
    stabilizer: 1e-9,
    inputDomain: "bounded",
  });
  assert.equal(
    createComposite("lrp_alpha_beta", { beta: 0.5 }).params.alpha,
    1.5,
  );
  assert.deepEqual(createComposite("lrp_epsilon").params, { epsilon: 1e-9 });
});

Deno.test("createComposite() throws RangeError for α − β ≠ 1, ε < 0 and low ≥ high", () => {
  assert.throws(
    () => createComposite("lrp_alpha_beta", { alpha: 2, beta: 0.5 }),
    /alpha - beta must be 1/,
  );
  assert.throws(
    () => createComposite("lrp_epsilon", { epsilon: -1 }),
    RangeError,
  );
  assert.throws(
    () => createComposite("deep_taylor", { low: 1, high: -1 }),
    /low must be below high/,
  );
});

Deno.test("COMPOSITE_PRESETS hold valid parameters of their methods", () => {
  assert.deepEqual(
    Object.keys(COMPOSITE_PRESETS).filter((k) => k.startsWith("lrp_alpha")),
    ["lrp_alpha1_beta0", "lrp_alpha1_5_beta0_5", "lrp_alpha2_beta1"],
  );
  for (const [name, preset] of Object.entries(COMPOSITE_PRESETS)) {
    const params = resolveParams(preset.method, preset.params);
    for (const [key, value] of Object.entries(preset.params)) {
      assert.equal(params[key as keyof typeof params], value, name);
    }
    const method = preset.method as (typeof RELEVANCE_METHODS)[number];
    assert.ok(RELEVANCE_METHODS.includes(method), name);
    createComposite(method, params);
  }
});
