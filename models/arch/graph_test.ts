import assert from "node:assert/strict";
import { ARCHITECTURES, createSpec } from "./spec.ts";
import {
  buildGraph,
  findLayer,
  layerInputs,
  layerOutputs,
  staticActivations,
} from "./graph.ts";

Deno.test("buildGraph() gives the conv front end the thesis-code §1.4 shapes", () => {
  for (
    const [steps, columns, flat] of [[4, 7, 448], [7, 4, 224], [1, 28, 1568]]
  ) {
    const g = buildGraph(
      createSpec({
        architecture: "conv_deep",
        steps: steps!,
        columns: columns!,
      }),
    );
    assert.deepEqual(g.shapes.flat, [flat]);
  }
  const g = buildGraph(createSpec({ architecture: "conv_plus_deep" }));
  assert.deepEqual(g.shapes.conv1, [28, 7, 24]);
  assert.deepEqual(g.shapes.pool1, [14, 4, 24]);
  assert.deepEqual(g.shapes.conv2, [14, 4, 32]);
  assert.deepEqual(g.shapes.pool2, [7, 2, 32]);
  assert.deepEqual(g.shapes.conv1_prev, [28, 7, 24]);
  assert.deepEqual(g.shapes.conv2_prev, [14, 4, 32]);
});

Deno.test("buildGraph() wires literal connections as channel concatenations", () => {
  const g = buildGraph(createSpec({ architecture: "conv_plus_r_lstm" }));
  assert.deepEqual(layerInputs(findLayer(g, "conv1")), [
    "x_image",
    "conv1_prev",
  ]);
  assert.deepEqual(layerInputs(findLayer(g, "conv2")), ["pool1", "conv2_prev"]);
  assert.deepEqual(g.states.map((s) => [s.name, s.source]), [
    ["conv1_prev", "conv1"],
    ["conv2_prev", "conv2"],
    ["h_prev", "h"],
    ["c_prev", "c"],
  ]);
});

Deno.test("buildGraph() reads the inputs each architecture's layers see in thesis-code §2", () => {
  const inputs = (
    arch: Parameters<typeof createSpec>[0]["architecture"],
    layer: string,
  ) =>
    layerInputs(
      findLayer(buildGraph(createSpec({ architecture: arch })), layer),
    );
  assert.deepEqual(inputs("shallow", "hidden"), ["x", "recur_prev"]);
  assert.deepEqual(inputs("shallow", "out"), ["hidden"]);
  assert.deepEqual(inputs("deep", "hidden"), ["in1", "recur_prev"]);
  assert.deepEqual(inputs("deep_v2", "hidden"), ["in2", "recur_prev"]);
  assert.deepEqual(inputs("deep", "out1"), ["hidden"]);
  assert.deepEqual(inputs("conv_deep", "in1"), ["flat"]);
  assert.deepEqual(inputs("r_lstm", "lstm"), ["in1", "h_prev", "c_prev"]);
  assert.deepEqual(inputs("r_lstm", "out2"), ["h"]);
  assert.deepEqual(
    layerOutputs(
      findLayer(buildGraph(createSpec({ architecture: "r_lstm" })), "lstm"),
    ),
    [
      "i",
      "f",
      "o",
      "g",
      "c",
      "h",
    ],
  );
});

Deno.test("buildGraph() places dropout as thesis-code §2 describes", async (t) => {
  const sites = (
    architecture: Parameters<typeof createSpec>[0]["architecture"],
    dropout: "none" | "naive" | "stationary",
  ) =>
    buildGraph(createSpec({ architecture, dropout })).dropoutSites.map((s) =>
      `${s.id}:${s.mode}`
    );
  await t.step(
    "Deep: in1, xr, ha before the recurrence, ha_T before the output",
    () => {
      assert.deepEqual(sites("deep", "naive"), [
        "in1:naive",
        "hidden.input:naive",
        "hidden.recur_prev:naive",
        "recur.input:naive",
        "out1.input:naive",
      ]);
    },
  );
  await t.step(
    "Deep-SD: stationary in the steps, naive before the output",
    () => {
      assert.deepEqual(sites("deep", "stationary"), [
        "in1:stationary",
        "hidden.input:stationary",
        "hidden.recur_prev:stationary",
        "recur.input:stationary",
        "out1.input:naive",
      ]);
    },
  );
  await t.step("Shallow: only ha before the recurrence", () => {
    assert.deepEqual(sites("shallow", "naive"), ["recur.input:naive"]);
  });
  await t.step("R-LSTM: in1, the gates and h; R-LSTM-SD: in1 and h", () => {
    assert.deepEqual(sites("r_lstm", "naive"), [
      "in1:naive",
      "lstm.i:naive",
      "lstm.f:naive",
      "lstm.o:naive",
      "lstm.h:naive",
    ]);
    assert.deepEqual(sites("r_lstm", "stationary"), [
      "in1:stationary",
      "lstm.h:stationary",
    ]);
  });
  await t.step("ConvR-LSTM: in1 and h in both modes", () => {
    assert.deepEqual(sites("conv_r_lstm", "naive"), [
      "in1:naive",
      "lstm.h:naive",
    ]);
    assert.deepEqual(sites("conv_plus_r_lstm", "stationary"), [
      "in1:stationary",
      "lstm.h:stationary",
    ]);
  });
  await t.step("no sites without dropout", () => {
    for (const architecture of ARCHITECTURES) {
      assert.deepEqual(sites(architecture, "none"), []);
    }
  });
});

Deno.test("staticActivations() batches the input layers and stops at recurrent ones", () => {
  const names = (
    architecture: Parameters<typeof createSpec>[0]["architecture"],
  ) => [...staticActivations(buildGraph(createSpec({ architecture })))].sort();
  assert.deepEqual(names("shallow"), ["x"]);
  assert.deepEqual(names("deep_v2"), ["in1", "in2", "x"]);
  assert.deepEqual(names("conv_r_lstm"), [
    "conv1",
    "conv2",
    "flat",
    "in1",
    "pool1",
    "pool2",
    "x",
    "x_image",
  ]);
  assert.deepEqual(names("conv_plus_deep"), ["x", "x_image"]);
});

Deno.test("findLayer() throws RangeError naming the layers that exist", () => {
  const g = buildGraph(createSpec({ architecture: "shallow" }));
  assert.throws(
    () => findLayer(g, "in1"),
    /Cannot find layer "in1": architecture "shallow" has "hidden", "recur", "out"/,
  );
});
