import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend.ts";
import {
  type Architecture,
  createModel,
  createSpec,
  explain,
  fit,
  predict,
} from "../../mod.ts";
import { BlasUnavailableError, registerBlasBackend } from "./mod.ts";

// Forward pass, explanations and training of whole models agree between
// the blas backend and plain wasm.
await initBackend("wasm");
let skipReason: string | undefined;
try {
  registerBlasBackend();
} catch (err) {
  if (!(err instanceof BlasUnavailableError)) throw err;
  skipReason = err.message;
  // deno-lint-ignore no-console
  console.warn(`Skipping the BLAS model tests: ${skipReason}`);
}

const STEPS = 3;
const COLUMNS = 7;
const COUNT = 4;

function inputs(seed: number): Float32Array {
  const x = new Float32Array(COUNT * STEPS * 28 * COLUMNS);
  let state = seed;
  for (let i = 0; i < x.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    x[i] = state / 4294967296;
  }
  return x;
}

/** Logits, LRP-α1.5β0.5, deep Taylor and sensitivity, then logits after two training steps. */
async function run(
  backend: string,
  architecture: Architecture,
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const spec = createSpec({ architecture, steps: STEPS, columns: COLUMNS });
  const model = createModel(spec, { seed: 1 });
  try {
    const x = inputs(7);
    const labels = Uint8Array.from({ length: COUNT }, (_, i) => (3 * i) % 10);
    const input = { x, count: COUNT, labels };
    const out = [(await predict(model, x, COUNT)).logits];
    for (
      const [method, params] of [
        ["lrp_alpha_beta", { alpha: 1.5, beta: 0.5 }],
        ["deep_taylor", {}],
        ["sensitivity", {}],
      ] as const
    ) {
      out.push((await explain(model, input, method, { params })).relevance);
    }
    await fit(model, { x, labels, count: COUNT }, {
      epochs: 1,
      batchSize: 2,
      seed: 3,
    });
    out.push((await predict(model, x, COUNT)).logits);
    return out;
  } finally {
    model.dispose();
  }
}

for (const architecture of ["deep", "r_lstm", "conv_r_lstm"] as const) {
  Deno.test({
    name:
      `${architecture}: forward, LRP, deep Taylor, sensitivity and training agree on blas and wasm`,
    ignore: skipReason !== undefined,
    fn: async () => {
      const before = tf.memory().numTensors;
      const wasm = await run("wasm", architecture);
      const blas = await run("blas", architecture);
      const labels = ["logits", "LRP", "deep Taylor", "sensitivity", "trained"];
      for (let k = 0; k < wasm.length; k++) {
        const [w, b] = [wasm[k]!, blas[k]!];
        assert.equal(b.length, w.length);
        let scale = 0;
        for (const v of w) scale = Math.max(scale, Math.abs(v));
        assert.ok(scale > 0, `${labels[k]}: all zero`);
        for (let i = 0; i < w.length; i++) {
          assert.ok(
            Math.abs(w[i]! - b[i]!) <= 1e-4 * scale,
            `${labels[k]}[${i}]: wasm ${w[i]} vs blas ${b[i]} (scale ${scale})`,
          );
        }
      }
      assert.equal(tf.memory().numTensors, before);
    },
  });
}
