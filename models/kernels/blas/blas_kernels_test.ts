import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend.ts";
import { forwardUsesBlas, setChunkFloats } from "./_im2col.ts";
import {
  BLAS_KERNELS,
  BlasUnavailableError,
  openOpenBlas,
  registerBlasBackend,
} from "./mod.ts";

// Every BLAS kernel is run on the `blas` backend and on plain `wasm` (the
// same heap, switched with tf.setBackend) and the results compared.
await initBackend("wasm");
let skipReason: string | undefined;
try {
  registerBlasBackend();
} catch (err) {
  if (!(err instanceof BlasUnavailableError)) throw err;
  skipReason = err.message;
  // deno-lint-ignore no-console
  console.warn(`Skipping the BLAS kernel tests: ${skipReason}`);
}
const ignore = skipReason !== undefined;

type Make = () => tf.Tensor | tf.Tensor[];

async function runOn(backend: string, make: Make): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(make);
  const list = Array.isArray(out) ? out : [out];
  try {
    return await Promise.all(
      list.map(async (t) => Float32Array.from(await t.data())),
    );
  } finally {
    tf.dispose(list);
  }
}

/**
 * Asserts that `make` on blas agrees with `reference` (default `make`) on
 * wasm within float32 tolerance.
 */
async function assertSame(
  label: string,
  make: Make,
  reference: Make = make,
): Promise<void> {
  const wasm = await runOn("wasm", reference);
  const blas = await runOn("blas", make);
  assert.equal(blas.length, wasm.length);
  for (let t = 0; t < wasm.length; t++) {
    const [w, b] = [wasm[t]!, blas[t]!];
    assert.equal(b.length, w.length, `${label}: sizes differ`);
    let scale = 0;
    for (const v of w) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < w.length; i++) {
      assert.ok(
        Math.abs(w[i]! - b[i]!) <= 1e-5 * (1 + scale),
        `${label}[${t}][${i}]: wasm ${w[i]} vs blas ${b[i]}`,
      );
    }
  }
}

function normal(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, "float32", seed);
}

async function leakFree(body: () => Promise<void>): Promise<void> {
  const before = tf.memory().numTensors;
  await body();
  assert.equal(tf.memory().numTensors, before);
}

Deno.test({
  name:
    "BatchMatMul on blas matches wasm for transposes and batch broadcasting",
  ignore,
  fn: () =>
    leakFree(async () => {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          await assertSame(`2-D ${tA}/${tB}`, () => {
            const a = normal(tA ? [13, 7] : [7, 13], 1);
            const b = normal(tB ? [9, 13] : [13, 9], 2);
            return tf.matMul(a, b, tA, tB);
          });
          await assertSame(`3-D shared b ${tA}/${tB}`, () => {
            const a = normal(tA ? [4, 13, 7] : [4, 7, 13], 3);
            const b = normal(tB ? [9, 13] : [13, 9], 4);
            return tf.matMul(a, b, tA, tB);
          });
          await assertSame(`3-D batched ${tA}/${tB}`, () => {
            const a = normal(tA ? [3, 13, 7] : [3, 7, 13], 5);
            const b = normal(tB ? [3, 9, 13] : [3, 13, 9], 6);
            return tf.matMul(a, b, tA, tB);
          });
        }
      }
      await assertSame("shared a", () =>
        tf.matMul(normal([5, 6], 7), normal([4, 6, 3], 8)));
      // The wasm kernel mis-broadcasts batch dimensions that are 1 on
      // different sides ([2, 1] with [1, 3] gives 3 batches, not 6), so
      // these compare with wasm on operands broadcast beforehand.
      await assertSame(
        "4-D broadcast",
        () =>
          tf.matMul(normal([2, 1, 5, 6], 9), normal([1, 3, 6, 4], 10)),
        () =>
          tf.matMul(
            tf.broadcastTo(normal([2, 1, 5, 6], 9), [2, 3, 5, 6]),
            tf.broadcastTo(normal([1, 3, 6, 4], 10), [2, 3, 6, 4]),
          ),
      );
      await assertSame(
        "rank 3 against rank 4",
        () => tf.matMul(normal([3, 5, 6], 11), normal([2, 3, 6, 4], 12)),
        () =>
          tf.matMul(
            tf.broadcastTo(normal([3, 5, 6], 11), [2, 3, 5, 6]),
            normal([2, 3, 6, 4], 12),
          ),
      );
      await assertSame("one row", () =>
        tf.matMul(normal([1, 300], 13), normal([300, 288], 14)));
    }),
});

Deno.test({
  name: "_FusedMatMul on blas matches wasm for every bias and activation",
  ignore,
  fn: () =>
    leakFree(async () => {
      const activations = [
        "linear",
        "relu",
        "relu6",
        "leakyrelu",
        "sigmoid",
        "elu",
      ] as const;
      for (const activation of activations) {
        // The wasm kernel takes rank-1 biases only.
        for (const biasShape of [[9], [1], undefined]) {
          const make = (broadcastBias: boolean) => () =>
            tf.fused.matMul({
              a: normal([7, 13], 1).mul(3),
              b: normal([13, 9], 2),
              ...(biasShape === undefined ? {} : {
                bias: broadcastBias
                  ? tf.broadcastTo(normal(biasShape, 3), [9])
                  : normal(biasShape, 3),
              }),
              activation,
              leakyreluAlpha: 0.1,
            });
          // The wasm kernel reads a size-1 bias as if it had 9 values, so
          // the reference gets it broadcast beforehand.
          await assertSame(
            `${activation} bias ${biasShape}`,
            make(false),
            make(true),
          );
        }
      }
      const transposed = (fused: boolean) => () => {
        const [a, b, bias] = [
          normal([2, 13, 7], 4),
          normal([2, 9, 13], 5),
          normal([9], 6),
        ];
        return fused
          ? tf.fused.matMul({
            a,
            b,
            transposeA: true,
            transposeB: true,
            bias,
            activation: "relu",
          })
          : tf.relu(tf.matMul(a, b, true, true).add(bias));
      };
      await assertSame(
        "transposed, batched",
        transposed(true),
        transposed(false),
      );
      await assertSame("prelu (left to wasm)", () =>
        tf.fused.matMul({
          a: normal([7, 13], 7),
          b: normal([13, 9], 8),
          bias: normal([9], 9),
          activation: "prelu",
          preluActivationWeights: normal([9], 10),
        }));
      await assertSame("its gradient", () => {
        const a = normal([6, 5], 11);
        const b = normal([5, 4], 12);
        const bias = normal([4], 13);
        const g = normal([6, 4], 14);
        return tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
          tf.fused.matMul({
            a: x as tf.Tensor2D,
            b: y as tf.Tensor2D,
            bias: z,
            activation: "relu",
          }).mul(g).sum()
        )([a, b, bias]);
      });
    }),
});

// 64 filters: forward convolutions with fewer stay with wasm (forwardUsesBlas).
const GEOMETRIES = [
  // One input channel: the forward pass stays with wasm, the gradients do not.
  {
    label: "5×5 1→4 same",
    x: [3, 12, 7, 1],
    f: [5, 5, 1, 4],
    s: 1,
    pad: "same",
  },
  {
    label: "5×5 4→64 same",
    x: [3, 12, 7, 4],
    f: [5, 5, 4, 64],
    s: 1,
    pad: "same",
  },
  {
    label: "3×3 5→64 valid",
    x: [2, 9, 8, 5],
    f: [3, 3, 5, 64],
    s: 1,
    pad: "valid",
  },
  {
    label: "3×3 stride 2 same",
    x: [2, 9, 8, 4],
    f: [3, 3, 4, 64],
    s: 2,
    pad: "same",
  },
  {
    label: "2×3 stride 2 valid",
    x: [2, 9, 8, 4],
    f: [2, 3, 4, 64],
    s: 2,
    pad: "valid",
  },
  {
    label: "explicit padding 1",
    x: [2, 6, 5, 4],
    f: [3, 3, 4, 64],
    s: 1,
    pad: 1,
  },
  {
    label: "1×1 pointwise",
    x: [2, 4, 5, 6],
    f: [1, 1, 6, 3],
    s: 1,
    pad: "valid",
  },
  {
    label: "3×3 24→32 same (wasm forward)",
    x: [2, 14, 4, 24],
    f: [3, 3, 24, 32],
    s: 1,
    pad: "same",
  },
] as const;

Deno.test({
  name: "Conv2D and FusedConv2D on blas match wasm for our geometries",
  ignore,
  fn: () =>
    leakFree(async () => {
      for (const g of GEOMETRIES) {
        await assertSame(g.label, () =>
          tf.conv2d(
            normal([...g.x], 1) as tf.Tensor4D,
            normal([...g.f], 2) as tf.Tensor4D,
            g.s,
            g.pad,
          ));
        await assertSame(`${g.label} fused`, () =>
          tf.fused.conv2d({
            x: normal([...g.x], 3) as tf.Tensor4D,
            filter: normal([...g.f], 4) as tf.Tensor4D,
            strides: g.s,
            pad: g.pad,
            bias: normal([g.f[3]], 5),
            activation: "relu",
          }));
      }
      await assertSame("dilation 2", () =>
        tf.conv2d(
          normal([2, 9, 8, 4], 6) as tf.Tensor4D,
          normal([3, 3, 4, 64], 7) as tf.Tensor4D,
          1,
          "same",
          "NHWC",
          2,
        ));
      // Two images per im2col chunk, and a last chunk of one.
      const previous = setChunkFloats(2 * 8 * 8 * 9 * 9);
      try {
        await assertSame("several chunks", () =>
          tf.conv2d(
            normal([5, 8, 8, 9], 8) as tf.Tensor4D,
            normal([3, 3, 9, 64], 9) as tf.Tensor4D,
            1,
            "same",
          ));
      } finally {
        setChunkFloats(previous);
      }
    }),
});

Deno.test({
  name: "Conv2DBackpropInput and Conv2DBackpropFilter on blas match wasm",
  ignore,
  fn: () =>
    leakFree(async () => {
      for (const g of GEOMETRIES) {
        await assertSame(`${g.label} gradients`, () => {
          const x = normal([...g.x], 1) as tf.Tensor4D;
          const f = normal([...g.f], 2) as tf.Tensor4D;
          const y = tf.conv2d(x, f, g.s, g.pad);
          const dy = normal(y.shape, 3);
          return tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, g.s, g.pad).mul(dy)
              .sum()
          )([x, f]);
        });
      }
      const previous = setChunkFloats(2 * 8 * 8 * 9 * 9);
      try {
        await assertSame("gradients over several chunks", () => {
          const x = normal([5, 8, 8, 9], 4) as tf.Tensor4D;
          const f = normal([3, 3, 9, 2], 5) as tf.Tensor4D;
          const dy = normal([5, 8, 8, 2], 6);
          return tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "same").mul(dy)
              .sum()
          )([x, f]);
        });
      } finally {
        setChunkFloats(previous);
      }
    }),
});

Deno.test({
  name: "registerBlasBackend() replaces exactly the BLAS kernels on blas",
  ignore,
  fn: () => {
    const info = registerBlasBackend();
    assert.deepEqual(info.kernels, BLAS_KERNELS);
    assert.equal(info.threads, 1);
    for (const name of ["BatchMatMul", "Conv2D", "Add", "Relu", "Sum"]) {
      const ours = tf.getKernel(name, "blas")?.kernelFunc;
      const theirs = tf.getKernel(name, "wasm")?.kernelFunc;
      assert.ok(ours !== undefined && theirs !== undefined, name);
      assert.equal(ours !== theirs, BLAS_KERNELS.includes(name), name);
    }
  },
});

Deno.test("openOpenBlas() throws BlasUnavailableError when no path opens", () => {
  assert.throws(
    () => openOpenBlas(["/nonexistent/libopenblas.so.0"]),
    (err: unknown) =>
      err instanceof BlasUnavailableError &&
      err.message.startsWith("Cannot load OpenBLAS: no library opened"),
  );
});

Deno.test({
  name:
    "OpenBlas.setThreads() sets the thread count and refuses non-positive counts",
  ignore,
  fn: () => {
    const blas = openOpenBlas();
    try {
      const before = blas.threads();
      blas.setThreads(1);
      assert.equal(blas.threads(), 1);
      assert.throws(() => blas.setThreads(0), RangeError);
      blas.setThreads(before);
    } finally {
      blas.close();
    }
  },
});

Deno.test("forwardUsesBlas() takes pointwise and wide convolutions with 4+ channels only", () => {
  const uses = (x: number[], f: number[]) =>
    forwardUsesBlas(
      tf.backend_util.computeConv2DInfo(
        x as [number, number, number, number],
        f as [number, number, number, number],
        1,
        1,
        "same",
      ),
    );
  // The tests above run the BLAS forward path on these geometries.
  for (const g of GEOMETRIES) {
    if (g.f[3] === 64) assert.ok(uses([...g.x], [...g.f]), g.label);
  }
  assert.ok(uses([2, 4, 5, 6], [1, 1, 6, 3]));
  assert.ok(!uses([600, 28, 7, 1], [5, 5, 1, 64]));
  assert.ok(!uses([600, 14, 4, 24], [3, 3, 24, 32]));
});
