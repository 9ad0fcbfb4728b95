import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend.ts";
import { type Architecture, ARCHITECTURES } from "../../arch/spec.ts";
import { disposeTrace } from "../../arch/rnn_model.ts";
import { buildGraph } from "../../arch/graph.ts";
import { assertClose, assertNoLeak } from "../_testing.ts";
import { createComposite } from "../composites.ts";
import { relevancePass } from "./relevance_pass.ts";
import type { StepRelevance } from "../explanation.ts";
import { createPassPlan } from "./pass_plan.ts";
import {
  disposeFusedLstm,
  fusableLstm,
  prepareFusedLstm,
} from "./_fused_lstm.ts";
import { type ReplicaMethod, replicaPass } from "./_replica_pass.ts";
import { createLiveModel, randomInput, tinySpec } from "./_testing.ts";

const FUSED: Architecture[] = ["r_lstm", "conv_r_lstm"];

const METHODS: [ReplicaMethod, number][] = [
  [{ method: "lrp_epsilon", epsilon: 1e-2 }, 1],
  [{ method: "lrp_alpha_beta", alpha: 1, beta: 0 }, 1],
  [{ method: "lrp_alpha_beta", alpha: 2, beta: 1 }, 2],
  [{ method: "lrp_alpha_beta", alpha: 1.5, beta: 0.5 }, 2],
  [{ method: "deep_taylor" }, 1],
];

Deno.test("fusableLstm() picks the R-LSTM cell of R-LSTM and ConvR-LSTM only, and only with the default cell split", () => {
  for (const architecture of ARCHITECTURES) {
    const plan = createPassPlan(
      buildGraph(tinySpec(architecture)),
      createComposite("lrp_epsilon"),
    );
    const op = fusableLstm(plan);
    assert.equal(
      op?.layer.name,
      FUSED.includes(architecture) ? "lstm" : undefined,
      architecture,
    );
  }
  const composite = createComposite("deep_taylor");
  const absorbed = {
    ...composite,
    cell: { stabilizerShare: "absorbed" as const },
  };
  assert.equal(
    fusableLstm(createPassPlan(buildGraph(tinySpec("r_lstm")), absorbed)),
    undefined,
  );
});

Deno.test("relevancePass() on the fused R-LSTM loop, batched and streamed (each step's static rows right after it), equals the plain replica", async (t) => {
  await initBackend("wasm");
  for (const architecture of FUSED) {
    const spec = tinySpec(architecture, { steps: 4 });
    const model = await createLiveModel(spec, { seed: 5 });
    const input = randomInput(spec, 3, 9);
    try {
      const weights = await model.exportWeights();
      for (const [m, terms] of METHODS) {
        const { method, ...params } = m;
        const label = `${architecture} ${JSON.stringify(m)}`;
        await t.step(label, async () => {
          await assertNoLeak(async () => {
            const composite = createComposite(method, params);
            // The fused path is taken: its factors exist for this rule.
            const plan = createPassPlan(model.graph, composite);
            const op = fusableLstm(plan)!;
            const x = tf.tensor3d(input.x, [
              3,
              spec.steps,
              spec.rows * spec.columns,
            ]);
            const trace = model.trace(x, { batchStatics: true });
            const w = model.layerWeights("lstm");
            try {
              const fused = prepareFusedLstm(op, trace, w);
              assert.ok(fused !== undefined, "no fused factors");
              assert.equal(fused.terms, terms);
              assert.equal(fused.keep.length, spec.steps);
              disposeFusedLstm(fused);
            } finally {
              disposeTrace(trace);
              x.dispose();
              tf.dispose([
                w.kernel,
                w.bias,
                ...w.inputKernels.map((k) => k.kernel),
              ]);
              for (const g of Object.values(w.gates ?? {})) {
                tf.dispose([g.kernel, g.bias]);
              }
            }
            const target = { kind: "predicted" } as const;
            const ours = await relevancePass(model, input, composite, {
              target,
            });
            const seen: StepRelevance[] = [];
            const streamed = await relevancePass(model, input, composite, {
              target,
              onStep: (step) => seen.push(step),
            });
            assert.deepEqual(
              seen.map((s) => s.step),
              [3, 2, 1, 0],
              `${label}: streamed from T − 1 down`,
            );
            const size = spec.rows * spec.columns;
            for (const { step, relevance } of seen) {
              for (let n = 0; n < 3; n++) {
                const at = (n * spec.steps + step) * size;
                assert.deepEqual(
                  relevance.subarray(n * size, (n + 1) * size),
                  streamed.relevance.subarray(at, at + size),
                  `${label}: step ${step} as streamed`,
                );
              }
            }
            const targets = ours.summaries.map((s) => s.targetClass);
            const replica = replicaPass(spec, weights, input.x, targets, m);
            assert.ok(
              replica.start.some((s) => s > 0),
              `${label}: no start relevance`,
            );
            assertClose(
              ours.relevance,
              replica.relevance,
              1e-4,
              `${label} vs replica`,
            );
            assertClose(
              streamed.relevance,
              replica.relevance,
              1e-4,
              `${label} streamed vs replica`,
            );
            [...ours.summaries, ...streamed.summaries].forEach((s, k) => {
              const n = k % 3;
              const scale = 1e-4 * (replica.start[n]! + 1e-6);
              assert.ok(
                Math.abs(s.absorbedRelevance - replica.absorbed[n]!) <= scale,
                `${label}: absorbed`,
              );
              assert.ok(
                Math.abs(s.initialStateRelevance - replica.initialState[n]!) <=
                  scale,
                `${label}: initial state`,
              );
              assert.ok(
                Math.abs(s.residual) <= 1e-3 * (s.startRelevance + 1e-6),
                `${label}: residual`,
              );
            });
          });
        });
      }
    } finally {
      model.dispose();
    }
  }
});

Deno.test("relevancePass() streamed through the fused R-LSTM loop stops with the abort reason after a step, and leaks nothing", async () => {
  await initBackend("wasm");
  for (const architecture of FUSED) {
    const spec = tinySpec(architecture, { steps: 4 });
    const model = await createLiveModel(spec, { seed: 2 });
    const input = randomInput(spec, 2, 4);
    try {
      await assertNoLeak(async () => {
        const controller = new AbortController();
        const reason = new Error("client went away");
        const steps: number[] = [];
        await assert.rejects(
          relevancePass(
            model,
            input,
            createComposite("lrp_alpha_beta", { alpha: 1.5, beta: 0.5 }),
            {
              signal: controller.signal,
              // As the server's workers run it: no macrotask pause.
              yieldToEventLoop: () => {},
              onStep: (s) => {
                steps.push(s.step);
                controller.abort(reason);
              },
            },
          ),
          (e) => e === reason,
        );
        assert.deepEqual(
          steps,
          [3],
          `${architecture}: no step after the abort`,
        );
      });
      await assertNoLeak(async () => {
        await assert.rejects(
          relevancePass(model, input, createComposite("deep_taylor"), {
            onStep: (s) => {
              if (s.step === 2) throw new Error("sink failed");
            },
          }),
          /sink failed/,
        );
      });
    } finally {
      model.dispose();
    }
  }
});
