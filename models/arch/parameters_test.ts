import assert from "node:assert/strict";
import { type Architecture, ARCHITECTURES, createSpec } from "./spec.ts";
import { buildGraph } from "./graph.ts";
import {
  countParameters,
  parameterInfos,
  SOFTPLUS_BIAS_INIT,
} from "./parameters.ts";

/** thesis-code §2.13, "true" counts for the LSTM models. */
const THESIS_COUNTS: Record<number, Record<Architecture, number>> = {
  1: {
    shallow: 334858,
    deep: 304106,
    "deep_v2": 236650,
    "conv_deep": 295162,
    "conv_plus_deep": 318778,
    "r_lstm": 296442,
    "conv_r_lstm": 295770,
    "conv_plus_r_lstm": 319386,
  },
  4: {
    shallow: 184330,
    deep: 153578,
    "deep_v2": 161386,
    "conv_deep": 151802,
    "conv_plus_deep": 175418,
    "r_lstm": 145914,
    "conv_r_lstm": 152410,
    "conv_plus_r_lstm": 176026,
  },
  7: {
    shallow: 162826,
    deep: 132074,
    "deep_v2": 150634,
    "conv_deep": 123130,
    "conv_plus_deep": 146746,
    "r_lstm": 124410,
    "conv_r_lstm": 123738,
    "conv_plus_r_lstm": 147354,
  },
  12: {
    shallow: 184330,
    deep: 153578,
    "deep_v2": 161386,
    "conv_deep": 151802,
    "conv_plus_deep": 175418,
    "r_lstm": 145914,
    "conv_r_lstm": 152410,
    "conv_plus_r_lstm": 176026,
  },
};
const COLUMNS: Record<number, number> = { 1: 28, 4: 7, 7: 4, 12: 7 };

Deno.test("countParameters() matches thesis-code §2.13 for every architecture and T", async (t) => {
  for (const steps of [1, 4, 7, 12]) {
    for (const architecture of ARCHITECTURES) {
      await t.step(`${architecture} T=${steps}`, () => {
        const spec = createSpec({
          architecture,
          steps,
          columns: COLUMNS[steps]!,
        });
        assert.equal(
          countParameters(buildGraph(spec)),
          THESIS_COUNTS[steps]![architecture],
        );
      });
    }
  }
});

Deno.test("countParameters() matches the other thesis-code §2.13 sources", () => {
  const count = (init: Parameters<typeof createSpec>[0]) =>
    countParameters(buildGraph(createSpec(init)));
  assert.equal(
    count({ architecture: "shallow", steps: 4, layers: { hidden: 512 } }),
    368394,
  );
  assert.equal(
    count({ architecture: "conv_deep", steps: 4, layers: { in1: 256 } }),
    225658,
  );
});

Deno.test("countParameters() drops ReLU and logit biases but keeps gate biases with bias none", () => {
  const withBias = countParameters(
    buildGraph(createSpec({ architecture: "r_lstm" })),
  );
  const without = countParameters(
    buildGraph(createSpec({ architecture: "r_lstm", bias: "none" })),
  );
  // in1 (256) + candidate (72) + out2 (10) softplus biases disappear.
  assert.equal(withBias - without, 256 + 72 + 10);
  const names = parameterInfos(
    buildGraph(createSpec({ architecture: "r_lstm", bias: "none" })),
  ).map((p) => p.name);
  assert.deepEqual(names, [
    "in1.kernel",
    "lstm.kernel",
    "lstm.gate_bias",
    "out2.kernel",
  ]);
});

Deno.test("parameterInfos() names, shapes and initialisers follow the documented scheme", () => {
  const infos = parameterInfos(
    buildGraph(
      createSpec({ architecture: "conv_plus_r_lstm", steps: 12, columns: 7 }),
    ),
  );
  const byName = Object.fromEntries(infos.map((p) => [p.name, p]));
  assert.deepEqual(Object.keys(byName), [
    "conv1.kernel",
    "conv1.bias",
    "conv2.kernel",
    "conv2.bias",
    "in1.kernel",
    "in1.bias",
    "lstm.kernel",
    "lstm.gate_bias",
    "lstm.candidate_bias",
    "out2.kernel",
    "out2.bias",
  ]);
  assert.deepEqual(byName["conv1.kernel"]!.shape, [5, 5, 25, 24]);
  assert.deepEqual(byName["conv2.kernel"]!.shape, [3, 3, 56, 32]);
  assert.deepEqual(byName["in1.kernel"]!.shape, [448, 128]);
  assert.deepEqual(byName["lstm.kernel"]!.shape, [128 + 96, 4 * 96]);
  assert.deepEqual(byName["conv1.kernel"]!.init, {
    kind: "truncated_normal",
    stddev: 1 / Math.sqrt(5 * 5 * 25),
  });
  assert.deepEqual(byName["lstm.kernel"]!.init, {
    kind: "truncated_normal",
    stddev: 1 / Math.sqrt(224),
  });
  assert.deepEqual(byName["lstm.gate_bias"]!.init, {
    kind: "constant",
    value: 0,
  });
  assert.deepEqual(byName["in1.bias"]!.init, {
    kind: "constant",
    value: SOFTPLUS_BIAS_INIT,
  });
  assert.ok(Math.abs(Math.log1p(Math.exp(SOFTPLUS_BIAS_INIT)) - 0.01) < 1e-12);
});
