/**
 * Reading one step's rows out of a time-major [T·N, ...] tensor.
 *
 * `tf.slice`/`tf.split` on the `wasm` backend of TensorFlow.js 4.22 copy the
 * *whole* input out of the wasm heap for every piece (`readSync`), so
 * splitting a [T·N, …] tensor into T steps moves T times its size through
 * fresh JavaScript buffers (measured 15–400 ms for an 11 MB tensor, from page
 * faults), and its `GatherV2` is slow too (about 0.5 ms for one 57 KB row).
 * `takeRows` (`models/kernels/take_rows.ts`) copies only the step's rows,
 * inside the heap. The gradient is given here: the step's rows padded with
 * zeros.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { takeRows } from "../kernels/take_rows.ts";

type GradArgs = (tf.Tensor | tf.GradSaveFunc)[];

/**
 * Returns rows [step·batch, (step+1)·batch) of a time-major tensor.
 *
 * @param t a tensor [steps·batch, ...rest]
 * @param step the step to take
 * @param steps the number of steps in `t`
 * @returns [batch, ...rest]; caller owns the returned tensor
 */
export function takeStep(t: tf.Tensor, step: number, steps: number): tf.Tensor {
  if (steps === 1) return t;
  const rest = t.shape.slice(1);
  const batch = t.shape[0]! / steps;
  const width = batch * rest.reduce((a, d) => a * d, 1);
  const op = tf.customGrad((...args: GradArgs) => {
    const x = args[0] as tf.Tensor;
    return {
      value: tf.reshape(
        takeRows(tf.reshape(x, [steps, width]), step, 1),
        [batch, ...rest],
      ),
      gradFunc: (dy: tf.Tensor) =>
        tf.reshape(
          tf.pad(tf.reshape(dy, [1, width]), [[step, steps - step - 1], [
            0,
            0,
          ]]),
          x.shape,
        ),
    };
  });
  return (op as (x: tf.Tensor) => tf.Tensor)(t);
}
