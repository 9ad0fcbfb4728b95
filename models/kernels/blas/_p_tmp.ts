import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend.ts";
import { createModel, createSpec, explain } from "../../mod.ts";
await initBackend("blas", { blasThreads: 1 });
const stats: Record<string, Record<string, number[]>> = {};
for (const be of ["wasm", "blas"]) {
  const k = tf.getKernel("Conv2D", be)!;
  tf.unregisterKernel("Conv2D", be);
  tf.registerKernel({
    ...k,
    kernelFunc: ((args: any) => {
      const t0 = performance.now();
      const r = k.kernelFunc(args);
      const key =
        `${args.inputs.x.shape} * ${args.inputs.filter.shape} ${args.attrs.pad}`;
      ((stats[key] ??= {})[be] ??= []).push(performance.now() - t0);
      return r;
    }) as any,
  });
}
const spec = createSpec({ architecture: "conv_r_lstm", steps: 12, columns: 7 });
const model = createModel(spec, { seed: 1 });
const x = new Float32Array(50 * 12 * 196).map((_, i) => Math.sin(i));
const input = { x, count: 50, labels: new Uint8Array(50) };
for (let r = 0; r < 2; r++) {
  for (const be of ["wasm", "blas"]) {
    await tf.setBackend(be);
    await explain(model, input, "lrp_alpha_beta", {
      params: { alpha: 1.5, beta: 0.5 },
    });
  }
}
for (const [key, v] of Object.entries(stats)) {
  console.log(
    key,
    Object.entries(v).map(([b, t]) =>
      `${b} n=${t.length} sum=${t.reduce((a, c) => a + c, 0).toFixed(1)}`
    ).join("  "),
  );
}
