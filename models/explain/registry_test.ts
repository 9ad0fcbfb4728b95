import assert from "node:assert/strict";
import {
  type ArchitectureGraph,
  buildGraph,
  type DenseLayer,
} from "../arch/graph.ts";
import { ARCHITECTURES, createSpec } from "../arch/spec.ts";
import { explainerValidity, listExplainers } from "./attributors.ts";
import { createComposite, RELEVANCE_METHODS } from "./composites.ts";
import { METHOD_NAMES } from "./explanation.ts";
import {
  INTEGRATED_GRADIENTS_DEFAULTS,
  SMOOTHGRAD_DEFAULTS,
} from "./gradient/mod.ts";
import { defaultParams, explainerFor, EXPLAINERS } from "./registry.ts";

Deno.test("EXPLAINERS lists every method once, in the API's order", () => {
  assert.deepEqual(EXPLAINERS.map((e) => e.method), METHOD_NAMES);
  for (const e of EXPLAINERS) {
    assert.equal(explainerFor(e.method), e);
    assert.ok(e.displayName.length > 0 && e.description.length > 0);
  }
  assert.throws(() => explainerFor("lrp_gamma"), /unknown method/);
});

Deno.test("EXPLAINERS defaults lie in their ranges and agree with the composites and the gradient modules", () => {
  for (const e of EXPLAINERS) {
    for (const p of e.parameters) {
      if (p.type === "choice") {
        assert.ok(
          p.choices?.includes(p.defaultChoice!),
          `${e.method}.${p.name}`,
        );
        continue;
      }
      const v = p.defaultValue!;
      assert.ok(Number.isFinite(v), `${e.method}.${p.name}`);
      if (p.min !== undefined) {
        assert.ok(p.minInclusive ? v >= p.min : v > p.min);
      }
      if (p.max !== undefined) {
        assert.ok(p.maxInclusive ? v <= p.max : v < p.max);
      }
    }
  }
  for (const method of RELEVANCE_METHODS) {
    assert.deepEqual(
      { ...createComposite(method).params },
      { ...defaultParams(method) },
      method,
    );
  }
  assert.deepEqual(
    defaultParams("integrated_gradients"),
    { ...INTEGRATED_GRADIENTS_DEFAULTS },
  );
  assert.deepEqual(defaultParams("smoothgrad"), { ...SMOOTHGRAD_DEFAULTS });
  assert.deepEqual(defaultParams("guided_backprop"), { gateGradient: "zero" });
  assert.deepEqual(defaultParams("sensitivity"), {});
});

Deno.test("listExplainers() reports every method valid for every architecture with default parameters", () => {
  for (const architecture of ARCHITECTURES) {
    for (const listing of listExplainers(architecture)) {
      assert.deepEqual(
        listing.validity,
        { valid: true },
        `${listing.entry.method} on ${architecture}`,
      );
      assert.deepEqual(listing.defaults, defaultParams(listing.entry.method));
    }
  }
  assert.ok(listExplainers().every((l) => l.validity.valid));
});

Deno.test("explainerValidity() refuses w² on architectures that concatenate pixels with states, and nothing else", () => {
  const mixed = new Set(["shallow", "conv_plus_deep", "conv_plus_r_lstm"]);
  for (const architecture of ARCHITECTURES) {
    for (const method of METHOD_NAMES) {
      const uses = explainerFor(method).parameters.some((p) =>
        p.name === "inputDomain"
      );
      const params = uses ? { inputDomain: "real" as const } : {};
      const v = explainerValidity(method, architecture, params);
      const expected = uses && mixed.has(architecture);
      assert.equal(!v.valid, expected, `${method} on ${architecture}`);
      if (!v.valid) assert.match(v.reason, /w² .*has no mixed-domain form/);
    }
  }
});

Deno.test("explainerValidity() refuses z⁺, αβ and guided backprop when a hidden layer is not ReLU, but not LRP-ε", () => {
  const graph = buildGraph(createSpec({ architecture: "deep_v2", steps: 4 }));
  const edited: ArchitectureGraph = {
    ...graph,
    stepLayers: graph.stepLayers.map((l) =>
      l.name === "in2" ? { ...(l as DenseLayer), activation: "linear" } : l
    ),
  };
  for (const method of ["deep_taylor", "lrp_alpha_beta", "guided_backprop"]) {
    assert.equal(explainerValidity(method, edited).valid, false, method);
    assert.equal(explainerValidity(method, graph).valid, true, method);
  }
  for (const method of ["lrp_epsilon", "sensitivity", "gradient_x_input"]) {
    assert.equal(explainerValidity(method, edited).valid, true, method);
  }
});
