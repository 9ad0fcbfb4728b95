/**
 * `_FusedMatMul` (matmul, bias, activation) through `cblas_sgemm`: the bias
 * is broadcast into the output first and the product added onto it
 * (beta = 1), then the activation runs in place on the heap.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import {
  activationSupported,
  applyActivation,
  biasSupported,
  fillBias,
} from "./_activation.ts";
import { batchedGemm, planMatMul } from "./_batched_gemm.ts";
import type { OpenBlas } from "./_openblas.ts";
import { asWasm, heapView, type KernelArgs } from "./_wasm_heap.ts";

/**
 * Creates the `_FusedMatMul` kernel function. PReLU, biases that are not one
 * value per output column, and non-float32 operands go to `fallback`.
 *
 * @param blas the loaded OpenBLAS
 * @param fallback the kernel function to use where BLAS does not apply
 * @returns a kernel function for `tf.registerKernel`
 */
export function createFusedMatMulKernel(
  blas: OpenBlas,
  fallback: tf.KernelFunc,
): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const a = args.inputs.a as tf.TensorInfo;
    const b = args.inputs.b as tf.TensorInfo;
    const bias = args.inputs.bias as tf.TensorInfo | undefined;
    const attrs = args.attrs as unknown as tf.BatchMatMulAttrs & {
      activation?: tf.fused.Activation;
      leakyreluAlpha?: number;
    };
    const plan = planMatMul(
      a.shape,
      b.shape,
      attrs.transposeA,
      attrs.transposeB,
    );
    if (
      a.dtype !== "float32" || b.dtype !== "float32" ||
      !activationSupported(attrs.activation) ||
      (bias !== undefined &&
        (bias.dtype !== "float32" || !biasSupported(bias.shape, plan.n)))
    ) {
      return fallback(args as tf.KernelConfig & KernelArgs);
    }
    const backend = asWasm(args.backend);
    const out = backend.makeOutput(plan.outShape, "float32");
    const outView = heapView(backend, out);
    if (bias !== undefined) fillBias(outView, heapView(backend, bias), plan.n);
    batchedGemm(
      blas,
      plan,
      heapView(backend, a),
      heapView(backend, b),
      outView,
      bias === undefined ? 0 : 1,
    );
    applyActivation(outView, attrs.activation, attrs.leakyreluAlpha);
    return out;
  }) as unknown as tf.KernelFunc;
}
