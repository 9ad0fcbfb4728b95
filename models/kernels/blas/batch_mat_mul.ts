/**
 * `BatchMatMul` through `cblas_sgemm`, reading and writing the `wasm`
 * backend's heap in place (no copies).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { batchedGemm, planMatMul } from "./_batched_gemm.ts";
import type { OpenBlas } from "./_openblas.ts";
import { asWasm, heapView, type KernelArgs } from "./_wasm_heap.ts";

/**
 * Creates the `BatchMatMul` kernel function. Non-float32 operands go to
 * `fallback` (the `wasm` kernel), which rejects them the usual way.
 *
 * @param blas the loaded OpenBLAS
 * @param fallback the kernel function to use where BLAS does not apply
 * @returns a kernel function for `tf.registerKernel`
 */
export function createBatchMatMulKernel(
  blas: OpenBlas,
  fallback: tf.KernelFunc,
): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const a = args.inputs.a as tf.TensorInfo;
    const b = args.inputs.b as tf.TensorInfo;
    const attrs = args.attrs as unknown as tf.BatchMatMulAttrs;
    if (a.dtype !== "float32" || b.dtype !== "float32") {
      return fallback(args as tf.KernelConfig & KernelArgs);
    }
    const plan = planMatMul(
      a.shape,
      b.shape,
      attrs.transposeA,
      attrs.transposeB,
    );
    const backend = asWasm(args.backend);
    const out = backend.makeOutput(plan.outShape, "float32");
    // Views only after the output exists: allocating may replace the heap.
    batchedGemm(
      blas,
      plan,
      heapView(backend, a),
      heapView(backend, b),
      heapView(backend, out),
      0,
    );
    return out;
  }) as unknown as tf.KernelFunc;
}
