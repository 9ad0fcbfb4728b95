import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend.ts";
import { createSpec } from "../../arch/spec.ts";
import {
  createModel,
  disposeTrace,
  type RnnModel,
} from "../../arch/rnn_model.ts";
import {
  assertClose,
  assertNoLeak,
  createRandom,
  uniform,
} from "../_testing.ts";
import { createComposite } from "../composites.ts";
import { relevancePass } from "./relevance_pass.ts";
import { createLiveModel, randomInput, tinySpec } from "./_testing.ts";

type Edit = Record<string, { shape: readonly number[]; data: Float32Array }>;

/** Gate biases of +60: σ = 1 exactly in float32, whatever the gate kernels add. */
function saturateGates(w: Edit): void {
  w["lstm.gate_bias"]!.data.fill(60);
}

/** Adds noise in [−0.5, 0.5) to the i, f, o columns of the fused kernel (not to g). */
function perturbGateKernels(w: Edit, seed: number): void {
  const k = w["lstm.kernel"]!;
  const four = k.shape[1]!;
  const noise = uniform(createRandom(seed), k.data.length, -0.5, 0.5);
  for (let i = 0; i < k.data.length; i++) {
    if (i % four < (3 * four) / 4) k.data[i]! += noise[i]!;
  }
}

async function gatesOf(
  model: RnnModel,
  x: Float32Array,
  count: number,
): Promise<number[]> {
  const { steps, rows, columns } = model.spec;
  const input = tf.tensor3d(x, [count, steps, rows * columns]);
  const trace = model.trace(input);
  try {
    const out: number[] = [];
    for (const step of trace.steps) {
      for (const gate of ["i", "f", "o"]) out.push(...await step[gate]!.data());
    }
    return out;
  } finally {
    disposeTrace(trace);
    input.dispose();
  }
}

Deno.test("relevancePass() gives the R-LSTM gates no relevance: changing gate kernels that leave the gates' values fixed changes nothing", async () => {
  await initBackend("wasm");
  const spec = tinySpec("r_lstm", { steps: 4 });
  const input = randomInput(spec, 4, 2);
  const plain = await createLiveModel(spec, { seed: 9, edit: saturateGates });
  const perturbed = await createLiveModel(spec, {
    seed: 9,
    edit: (w) => {
      saturateGates(w);
      perturbGateKernels(w, 17);
    },
  });
  // Control: a change of the candidate's kernel must show.
  const candidate = await createLiveModel(spec, {
    seed: 9,
    edit: (w) => {
      saturateGates(w);
      const k = w["lstm.kernel"]!;
      const four = k.shape[1]!;
      for (let i = 0; i < k.data.length; i++) {
        if (i % four >= (3 * four) / 4) k.data[i]! *= 1.5;
      }
    },
  });
  try {
    const gates = await gatesOf(plain, input.x, 4);
    assert.ok(gates.every((g) => g === 1), "the set-up saturates every gate");
    assert.deepEqual(await gatesOf(perturbed, input.x, 4), gates);
    for (
      const [method, params] of [["deep_taylor", {}], ["lrp_alpha_beta", {
        alpha: 2,
        beta: 1,
      }], ["lrp_epsilon", { epsilon: 0 }]] as const
    ) {
      await assertNoLeak(async () => {
        const options = { target: { kind: "predicted" } } as const;
        const a = await relevancePass(
          plain,
          input,
          createComposite(method, params),
          options,
        );
        const b = await relevancePass(
          perturbed,
          input,
          createComposite(method, params),
          options,
        );
        const c = await relevancePass(
          candidate,
          input,
          createComposite(method, params),
          options,
        );
        assert.ok(
          a.summaries.every((s) => s.startRelevance > 0),
          `${method}: live start relevance`,
        );
        assert.deepEqual(
          Array.from(b.relevance),
          Array.from(a.relevance),
          `${method}: gate kernels moved relevance`,
        );
        const moved = c.relevance.some((v, i) =>
          Math.abs(v - a.relevance[i]!) > 1e-4 * Math.abs(v)
        );
        assert.ok(moved, `${method}: the candidate kernel must matter`);
      });
    }
  } finally {
    plain.dispose();
    perturbed.dispose();
    candidate.dispose();
  }
});

Deno.test("relevancePass() matches a hand-computed two-step R-LSTM example (deep Taylor)", async () => {
  await initBackend("wasm");
  // T = 2 steps of 1×2 pixels, in1 = 2 units, R = 1 cell, no biases; the
  // gates have zero kernels and biases ln 3, 0, −ln 3: i = ¾, f = ½, o = ¼.
  const spec = createSpec({
    architecture: "r_lstm",
    steps: 2,
    rows: 1,
    columns: 2,
    bias: "none",
    dropout: "none",
    layers: { in1: 2, recur: 1 },
  });
  const f32 = (v: number[]) => new Float32Array(v);
  const model = createModel(spec, {
    weights: {
      // in1 = relu(x · W1); unit 0 reads x with weights (1, 0.5), unit 1 with (−1, 1).
      "in1.kernel": { shape: [2, 2], data: f32([1, -1, 0.5, 1]) },
      // rows in1₀, in1₁, h; columns i, f, o, g.
      "lstm.kernel": {
        shape: [3, 4],
        data: f32([0, 0, 0, 1, 0, 0, 0, 0.5, 0, 0, 0, 2]),
      },
      "lstm.gate_bias": {
        shape: [3],
        data: f32([Math.log(3), 0, -Math.log(3)]),
      },
      "out2.kernel": {
        shape: [1, 10],
        data: f32([0.1, 0.2, 0.3, 2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]),
      },
    },
  });
  const x = f32([0.5, -0.25, 1, 0.5]);
  try {
    await assertNoLeak(async () => {
      const { relevance, summaries } = await relevancePass(
        model,
        { x, count: 1, labels: Uint8Array.of(3) },
        createComposite("deep_taylor"),
      );
      // Forward. t = 0: in1 = relu(0.5 − 0.125, −0.5 − 0.25) = (0.375, 0);
      // g = 0.375, c₀ = ¾·0.375 = 0.28125, h₀ = ¼·c₀ = 0.0703125.
      // t = 1: in1 = relu(1 + 0.25, −1 + 0.5) = (1.25, 0);
      // g = 1.25 + 2·h₀ = 1.390625, c₁ = ¾·g + ½·c₀ = 1.18359375, h₁ = ¼·c₁.
      // Logit 3 = 2·h₁ = 0.591796875 = R, and R/c₁ = ½.
      const start = 0.591796875;
      // t = 1: R(c₁) = R(h₁) = R; p = ½c₀/c₁ → R(c₀ part) = ½c₀·½ = 0.0703125;
      // R(g₁) = R − 0.0703125 = 0.521484375; z⁺ over (1.25, 0, h₀): 1.25 +
      // 2h₀ = g₁, s = R(g₁)/g₁ = 0.375 → R(in1₀) = 0.46875, R(h₀) = 0.140625·s.
      // zᴮ on x₁ = (1, 0.5) through unit 0's weights (1, 0.5), l = −1, h = 1:
      // terms 1 + 1 = 2 and 0.25 + 0.5 = 0.75, sum 2.75.
      const rIn1At1 = 0.46875;
      const rx1 = [rIn1At1 * 2 / 2.75, rIn1At1 * 0.75 / 2.75];
      // t = 0: R(c₀) = 0.0703125 + 0.052734375 = 0.123046875; c₋₁ = 0 → all
      // to g₀ and in1₀ (h₋₁ = 0 takes none). zᴮ on x₀ = (0.5, −0.25): terms
      // 0.5 + 1 = 1.5 and −0.125 + 0.5 = 0.375, sum 1.875.
      const rIn1At0 = 0.0703125 + 0.140625 * 0.375;
      const rx0 = [rIn1At0 * 1.5 / 1.875, rIn1At0 * 0.375 / 1.875];
      assertClose(relevance, [...rx0, ...rx1], 1e-5, "relevance");
      const s = summaries[0]!;
      assert.equal(s.targetClass, 3);
      assert.ok(Math.abs(s.startRelevance - start) < 1e-6);
      assert.ok(Math.abs(s.inputRelevance - start) < 1e-6);
      assert.ok(Math.abs(s.initialStateRelevance) < 1e-12);
      assert.ok(Math.abs(s.absorbedRelevance) < 1e-7);
    });
  } finally {
    model.dispose();
  }
});
