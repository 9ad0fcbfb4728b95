import assert from "node:assert/strict";
import {
  type ArchitectureGraph,
  buildGraph,
  type DenseLayer,
} from "../../arch/graph.ts";
import { ARCHITECTURES, createSpec } from "../../arch/spec.ts";
import { PreconditionError } from "../../errors.ts";
import { createComposite } from "../composites.ts";
import { activationDomains } from "./activation_domains.ts";
import { createPassPlan, type LayerOp } from "./pass_plan.ts";

function ruleNames(ops: readonly LayerOp[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const op of ops) {
    if (op.kind === "reshape") continue;
    const rule = op.kind === "lstm" ? op.candidate : op.rule;
    out[op.layer.name] = op.kind === "lstm" || rule.name !== "MixedDomain"
      ? rule.name
      : `MixedDomain(${rule.params.pixels})`;
  }
  return out;
}

const graphOf = (architecture: (typeof ARCHITECTURES)[number]) =>
  buildGraph(createSpec({ architecture, steps: 4, columns: 7 }));

Deno.test("activationDomains() marks pixels, ReLU outputs, states and the linear logits", () => {
  const deep = activationDomains(graphOf("deep"));
  assert.equal(deep.get("x"), "pixels");
  assert.equal(deep.get("in1"), "nonnegative");
  assert.equal(deep.get("recur_prev"), "nonnegative");
  assert.equal(deep.get("logits"), "real");
  const conv = activationDomains(graphOf("conv_plus_r_lstm"));
  for (
    const name of [
      "x_image",
      "conv1_prev",
      "pool2",
      "flat",
      "h_prev",
      "c_prev",
      "c",
      "h",
    ]
  ) {
    assert.equal(
      conv.get(name),
      name === "x_image" ? "pixels" : "nonnegative",
      name,
    );
  }
});

Deno.test("createPassPlan() assigns the thesis's rules to every layer kind and position", () => {
  const lrp = createComposite("lrp_alpha_beta", { alpha: 2, beta: 1 });
  const dt = createComposite("deep_taylor");
  // 28·7 = 196 pixel features before Shallow's 256 recurrent units.
  assert.deepEqual(ruleNames(createPassPlan(graphOf("shallow"), lrp).steps), {
    hidden: "MixedDomain(196)",
    recur: "AlphaBeta",
  });
  assert.deepEqual(ruleNames(createPassPlan(graphOf("deep"), dt).steps), {
    in1: "ZBox",
    hidden: "ZPlus",
    recur: "ZPlus",
  });
  assert.deepEqual(ruleNames(createPassPlan(graphOf("deep"), dt).head), {
    out1: "ZPlus",
    out2: "ZPlus",
  });
  assert.deepEqual(
    ruleNames(createPassPlan(graphOf("conv_plus_r_lstm"), lrp).steps),
    {
      conv1: "MixedDomain(1)",
      pool1: "Norm",
      conv2: "AlphaBeta",
      pool2: "Norm",
      in1: "AlphaBeta",
      lstm: "AlphaBeta",
    },
  );
  assert.deepEqual(
    ruleNames(createPassPlan(graphOf("conv_r_lstm"), dt).steps),
    {
      conv1: "ZBox",
      pool1: "Norm",
      conv2: "ZPlus",
      pool2: "Norm",
      in1: "ZPlus",
      lstm: "ZPlus",
    },
  );
  const real = createComposite("deep_taylor", { inputDomain: "real" });
  assert.equal(
    ruleNames(createPassPlan(graphOf("r_lstm"), real).steps).in1,
    "WSquare",
  );
  const epsilon = createComposite("lrp_epsilon", { epsilon: 0 });
  for (const architecture of ARCHITECTURES) {
    const plan = createPassPlan(graphOf(architecture), epsilon);
    for (
      const name of Object.values(ruleNames([...plan.steps, ...plan.head]))
    ) {
      assert.equal(name, "Epsilon", architecture);
    }
  }
  const lstm = createPassPlan(graphOf("r_lstm"), dt).steps.find((op) =>
    op.kind === "lstm"
  );
  assert.deepEqual(lstm?.kind === "lstm" ? lstm.inputs : undefined, [
    { from: "in1", size: 256 },
    { from: "h_prev", size: 72 },
  ]);
});

Deno.test("createPassPlan() throws PreconditionError where the composite has no rule", async (t) => {
  const real = (method: "deep_taylor" | "lrp_alpha_beta") =>
    createComposite(method, { inputDomain: "real" });
  for (
    const architecture of [
      "shallow",
      "conv_plus_deep",
      "conv_plus_r_lstm",
    ] as const
  ) {
    await t.step(`w² on ${architecture}'s [pixels ; states] layer`, () => {
      for (const method of ["deep_taylor", "lrp_alpha_beta"] as const) {
        assert.throws(
          () => createPassPlan(graphOf(architecture), real(method)),
          (e) =>
            e instanceof PreconditionError &&
            /no mixed-domain form/.test(e.message),
        );
      }
    });
  }
  await t.step("z⁺ on a layer that reads a linear (non-ReLU) output", () => {
    const graph = graphOf("deep");
    const linear = graph.stepLayers.map((l) =>
      l.name === "in1"
        ? { ...(l as DenseLayer), activation: "linear" as const }
        : l
    );
    const edited: ArchitectureGraph = { ...graph, stepLayers: linear };
    assert.throws(
      () => createPassPlan(edited, createComposite("deep_taylor")),
      (e) =>
        e instanceof PreconditionError &&
        /"hidden" reads values that are neither pixels nor ReLU/.test(
          e.message,
        ),
    );
    // LRP-ε is defined there.
    createPassPlan(edited, createComposite("lrp_epsilon"));
  });
});
