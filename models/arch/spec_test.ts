import assert from "node:assert/strict";
import {
  ARCHITECTURES,
  createSpec,
  DEFAULT_LAYER_SIZES,
  defaultDropout,
  layerSize,
  validateSpec,
} from "./spec.ts";

Deno.test("createSpec() fills the thesis defaults", () => {
  const spec = createSpec({ architecture: "r_lstm" });
  assert.deepEqual(spec, {
    architecture: "r_lstm",
    steps: 12,
    columns: 7,
    rows: 28,
    dropout: "naive",
    keepProb: 0.8,
    bias: "softplus",
    layers: { in1: 256, recur: 72 },
  });
  assert.ok(Object.isFrozen(spec));
  assert.equal(
    createSpec({ architecture: "conv_r_lstm" }).dropout,
    "stationary",
  );
  assert.equal(defaultDropout("deep"), "naive");
});

Deno.test("createSpec() applies overrides and ignores undefined fields", () => {
  const spec = createSpec({
    architecture: "shallow",
    steps: 4,
    columns: undefined,
    dropout: "stationary",
    layers: { hidden: 512 },
  });
  assert.equal(spec.steps, 4);
  assert.equal(spec.columns, 7);
  assert.equal(spec.dropout, "stationary");
  assert.deepEqual(spec.layers, { hidden: 512, recur: 256 });
});

Deno.test("validateSpec() round-trips through JSON for every architecture", () => {
  for (const architecture of ARCHITECTURES) {
    const spec = createSpec({ architecture, steps: 4 });
    assert.deepEqual(validateSpec(JSON.parse(JSON.stringify(spec))), spec);
    assert.deepEqual(spec.layers, DEFAULT_LAYER_SIZES[architecture]);
  }
});

Deno.test("validateSpec() throws TypeError for wrong types and unknown fields", async (t) => {
  const base = createSpec({ architecture: "deep" });
  const cases: [string, unknown, RegExp][] = [
    ["not an object", 3, /expected an object: got 3/],
    [
      "unknown architecture",
      { ...base, architecture: "gru" },
      /"architecture" must be one of .*: got "gru"/,
    ],
    [
      "string steps",
      { ...base, steps: "4" },
      /"steps" must be a number: got string/,
    ],
    [
      "unknown dropout",
      { ...base, dropout: "always" },
      /"dropout" must be one of none, naive, stationary/,
    ],
    [
      "unknown bias",
      { ...base, bias: "relu" },
      /"bias" must be one of softplus, none/,
    ],
    ["unknown field", { ...base, hidden: 3 }, /unknown field "hidden"/],
    [
      "layers not an object",
      { ...base, layers: [1] },
      /"layers" must be an object/,
    ],
  ];
  for (const [name, spec, message] of cases) {
    await t.step(name, () => {
      assert.throws(
        () => validateSpec(spec),
        (e: unknown) =>
          e instanceof TypeError && message.test((e as Error).message),
      );
    });
  }
});

Deno.test("validateSpec() throws RangeError for out-of-range values", async (t) => {
  const base = createSpec({ architecture: "deep" });
  const cases: [string, unknown, RegExp][] = [
    [
      "zero steps",
      { ...base, steps: 0 },
      /^Cannot validate model spec: "steps" must be an integer in \[1, 4096\]: got 0$/,
    ],
    [
      "fractional columns",
      { ...base, columns: 2.5 },
      /"columns" must be an integer/,
    ],
    [
      "keepProb 0",
      { ...base, keepProb: 0 },
      /"keepProb" must be in \(0, 1\]: got 0/,
    ],
    [
      "keepProb above 1",
      { ...base, keepProb: 1.5 },
      /"keepProb" must be in \(0, 1\]/,
    ],
    [
      "layer of another architecture",
      { ...base, layers: { conv1: 8 } },
      /"layers.conv1" is not a layer of "deep"/,
    ],
    [
      "zero units",
      { ...base, layers: { hidden: 0 } },
      /"layers.hidden" must be an integer/,
    ],
  ];
  for (const [name, spec, message] of cases) {
    await t.step(name, () => {
      assert.throws(
        () => validateSpec(spec),
        (e: unknown) =>
          e instanceof RangeError && message.test((e as Error).message),
      );
    });
  }
});

Deno.test("layerSize() returns sizes and throws RangeError for absent layers", () => {
  const spec = createSpec({ architecture: "conv_deep" });
  assert.equal(layerSize(spec, "conv1"), 24);
  assert.equal(layerSize(spec, "in1"), 128);
  assert.throws(() => layerSize(spec, "in2"), RangeError);
});
