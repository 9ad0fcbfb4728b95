/**
 * Batched, broadcasting matrix products through `cblas_sgemm`, the shared
 * core of the `BatchMatMul` and `_FusedMatMul` kernels.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { OpenBlas } from "./_openblas.ts";

/** The geometry of one `matMul(a, b)` with TF.js's BatchMatMul semantics. */
export interface MatMulPlan {
  /** Rows of op(A), columns of op(B), inner size. */
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  /** Broadcast batch shape of the output. */
  readonly batchShape: number[];
  /** Output shape: batchShape then [m, n]. */
  readonly outShape: number[];
  readonly aBatchShape: number[];
  readonly bBatchShape: number[];
}

function size(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/**
 * Works out the product's geometry, checking it as tfjs-core does.
 *
 * @throws {RangeError} when the operands' ranks or inner sizes do not fit
 */
export function planMatMul(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): MatMulPlan {
  const ra = aShape.length;
  const rb = bShape.length;
  if (ra < 2 || rb < 2) {
    throw new RangeError(
      `Cannot multiply matrices: ranks ${ra} and ${rb} are below 2`,
    );
  }
  const k = transposeA ? aShape[ra - 2]! : aShape[ra - 1]!;
  const kb = transposeB ? bShape[rb - 1]! : bShape[rb - 2]!;
  if (k !== kb) {
    throw new RangeError(
      `Cannot multiply matrices: inner sizes ${k} and ${kb} of shapes [${aShape}] and [${bShape}] differ`,
    );
  }
  const m = transposeA ? aShape[ra - 1]! : aShape[ra - 2]!;
  const n = transposeB ? bShape[rb - 2]! : bShape[rb - 1]!;
  const aBatchShape = aShape.slice(0, -2);
  const bBatchShape = bShape.slice(0, -2);
  const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(
    aBatchShape,
    bBatchShape,
  );
  return {
    m,
    n,
    k,
    transposeA,
    transposeB,
    batchShape,
    outShape: [...batchShape, m, n],
    aBatchShape,
    bBatchShape,
  };
}

/** Index of the operand's matrix used for output batch `index` (broadcasting). */
function operandBatch(
  index: number,
  outBatch: readonly number[],
  operandBatchShape: readonly number[],
): number {
  const offset = outBatch.length - operandBatchShape.length;
  let rem = index;
  let result = 0;
  let stride = 1;
  for (let d = outBatch.length - 1; d >= 0; d--) {
    const coord = rem % outBatch[d]!;
    rem = Math.floor(rem / outBatch[d]!);
    const od = d - offset;
    if (od < 0) continue;
    const dim = operandBatchShape[od]!;
    if (dim !== 1) result += coord * stride;
    stride *= dim;
  }
  return result;
}

/**
 * Computes `out = op(a) · op(b) + beta · out` for every batch of `plan`.
 * `out` holds [batch, m, n] row-major; with `beta` 1 it must hold the addend.
 */
export function batchedGemm(
  blas: OpenBlas,
  plan: MatMulPlan,
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  beta: number,
): void {
  const { m, n, k, transposeA, transposeB } = plan;
  if (m === 0 || n === 0) return;
  const batches = size(plan.batchShape);
  const aBatches = size(plan.aBatchShape);
  const bBatches = size(plan.bBatchShape);
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  if (k === 0) {
    if (beta === 0) out.fill(0);
    return;
  }
  // One shared right operand and an untransposed left one: the batches of
  // A are consecutive rows, so a single call covers them all.
  if (bBatches === 1 && !transposeA && aBatches === batches) {
    blas.sgemm(
      false,
      transposeB,
      batches * m,
      n,
      k,
      1,
      a,
      k,
      b,
      ldb,
      beta,
      out,
      n,
    );
    return;
  }
  const aStride = m * k;
  const bStride = k * n;
  const cStride = m * n;
  for (let i = 0; i < batches; i++) {
    const ai = aBatches === batches
      ? i
      : operandBatch(i, plan.batchShape, plan.aBatchShape);
    const bi = bBatches === batches
      ? i
      : operandBatch(i, plan.batchShape, plan.bBatchShape);
    blas.sgemm(
      transposeA,
      transposeB,
      m,
      n,
      k,
      1,
      a.subarray(ai * aStride, (ai + 1) * aStride),
      lda,
      b.subarray(bi * bStride, (bi + 1) * bStride),
      ldb,
      beta,
      out.subarray(i * cStride, (i + 1) * cStride),
      n,
    );
  }
}
