import assert from "node:assert/strict";
import { initBackend } from "../../backend.ts";
import { ARCHITECTURES } from "../../arch/spec.ts";
import { assertClose, assertNoLeak } from "../_testing.ts";
import { createComposite } from "../composites.ts";
import { relevancePass } from "./relevance_pass.ts";
import { type ReplicaMethod, replicaPass } from "./_replica_pass.ts";
import { createLiveModel, randomInput, tinySpec } from "./_testing.ts";

const METHODS: ReplicaMethod[] = [
  { method: "deep_taylor" },
  { method: "lrp_alpha_beta", alpha: 1.5, beta: 0.5 },
  { method: "lrp_alpha_beta", alpha: 2, beta: 1 },
  { method: "lrp_epsilon", epsilon: 1e-2 },
  { method: "deep_taylor", low: -1.5, high: 2, stabilizer: 1e-6 },
];

Deno.test("relevancePass() equals a plain-JS replica of the whole pass for every architecture", async (t) => {
  await initBackend("wasm");
  for (const architecture of ARCHITECTURES) {
    await t.step(architecture, async () => {
      // Softplus biases on some, bias-free layers on others.
      const bias = architecture.endsWith("deep") ? "none" : "softplus";
      const spec = tinySpec(architecture, { bias });
      const model = await createLiveModel(spec, { seed: 21 });
      const input = randomInput(spec, 3, 4);
      // w² has no mixed-domain form: only where pixels are not concatenated with states.
      const mixed = ["shallow", "conv_plus_deep", "conv_plus_r_lstm"].includes(
        architecture,
      );
      const methods: ReplicaMethod[] = mixed ? METHODS : [
        ...METHODS,
        { method: "deep_taylor", inputDomain: "real" },
        { method: "lrp_alpha_beta", alpha: 2, beta: 1, inputDomain: "real" },
      ];
      try {
        const weights = await model.exportWeights();
        for (const m of methods) {
          const { method, ...params } = m;
          await assertNoLeak(async () => {
            const ours = await relevancePass(
              model,
              input,
              createComposite(method, params),
              {
                target: { kind: "predicted" },
              },
            );
            const targets = ours.summaries.map((s) => s.targetClass);
            const replica = replicaPass(spec, weights, input.x, targets, m);
            const label = `${architecture} ${JSON.stringify(m)}`;
            assert.ok(
              replica.start.some((s) => s > 0),
              `${label}: every start relevance is 0`,
            );
            assertClose(
              ours.summaries.map((s) => s.startRelevance),
              replica.start,
              1e-4,
              `${label} start`,
            );
            assertClose(
              ours.relevance,
              replica.relevance,
              1e-4,
              `${label} relevance`,
            );
            ours.summaries.forEach((s, n) => {
              const scale = 1e-4 * (replica.start[n]! + 1e-6);
              assert.ok(
                Math.abs(s.absorbedRelevance - replica.absorbed[n]!) <= scale,
                `${label}: absorbed`,
              );
              assert.ok(
                Math.abs(s.initialStateRelevance - replica.initialState[n]!) <=
                  scale,
                `${label}: initial`,
              );
            });
          });
        }
      } finally {
        model.dispose();
      }
    });
  }
});
