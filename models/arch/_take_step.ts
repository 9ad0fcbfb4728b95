/**
 * Reading one step's rows out of a time-major [T·N, ...] tensor.
 *
 * A step is rows t·N to (t + 1)·N, so this is `tf.slice` along axis 0: on
 * `wasm` and `blas`, `initBackend` replaces the `Slice` kernel with one that
 * copies only those rows inside the heap (`../kernels/heap_slice.ts`; the
 * stock kernel read the whole tensor out of the heap for every step), and
 * its gradient is the step's rows padded with zeros.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Returns rows [step·batch, (step+1)·batch) of a time-major tensor.
 *
 * @param t a tensor [steps·batch, ...rest]
 * @param step the step to take
 * @param steps the number of steps in `t`
 * @returns [batch, ...rest]; caller owns the returned tensor (`t` itself
 *   when there is one step)
 */
export function takeStep(t: tf.Tensor, step: number, steps: number): tf.Tensor {
  if (steps === 1) return t;
  const batch = t.shape[0]! / steps;
  return tf.slice(t, step * batch, batch);
}
