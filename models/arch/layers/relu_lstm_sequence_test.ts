import * as tf from "@tensorflow/tfjs";
import {
  reluLstmSequence,
  type ReluLstmSequenceMasks,
} from "./relu_lstm_sequence.ts";
import { reluLstmCell } from "./relu_lstm_cell.ts";
import { assertClose, read, uniformArray, withoutLeaks } from "../_testing.ts";

/** The same recurrence with taped tensor ops, step by step. */
function replica(
  pre: tf.Tensor2D,
  kernel: tf.Tensor2D,
  steps: number,
  masks: ReluLstmSequenceMasks,
): tf.Tensor2D {
  const r = kernel.shape[0];
  const n = pre.shape[0] / steps;
  let h: tf.Tensor2D | undefined;
  let c: tf.Tensor2D | null = null;
  for (let t = 0; t < steps; t++) {
    const preT = tf.slice(pre, [t * n, 0], [n, 4 * r]);
    const z = h === undefined ? preT : tf.add(preT, tf.matMul(h, kernel));
    const gates = masks.gates;
    const step = reluLstmCell(z as tf.Tensor2D, c, {
      ...(gates
        ? {
          dropGate: (gate: "i" | "f" | "o", v: tf.Tensor2D) => {
            const k = ["i", "f", "o"].indexOf(gate);
            const m = tf.tensor2d(
              gates.subarray(t * n * 3 * r, (t + 1) * n * 3 * r),
              [n, 3 * r],
            );
            return tf.mul(v, tf.slice(m, [0, k * r], [n, r])) as tf.Tensor2D;
          },
        }
        : {}),
    });
    c = step.c;
    h = masks.h
      ? tf.mul(
        step.h,
        tf.tensor2d(masks.h.subarray(t * n * r, (t + 1) * n * r), [n, r]),
      ) as tf.Tensor2D
      : step.h;
  }
  return h!;
}

function maskArray(seed: number, size: number): Float32Array {
  return uniformArray(seed, size, 0, 1).map((u) => (u < 0.2 ? 0 : 1.25));
}

Deno.test("reluLstmSequence() equals a taped step-by-step replica, values and gradients", async (t) => {
  for (
    const [steps, withMasks] of [[1, false], [3, false], [4, true]] as const
  ) {
    await t.step(
      `T=${steps}${withMasks ? " with dropout masks" : ""}`,
      async () => {
        await withoutLeaks(async () => {
          const [n, r] = [3, 5];
          const pre = tf.tensor2d(uniformArray(1, steps * n * 4 * r, -1, 1), [
            steps * n,
            4 * r,
          ]);
          const kernel = tf.tensor2d(uniformArray(2, r * 4 * r, -0.8, 0.8), [
            r,
            4 * r,
          ]);
          const dy = tf.tensor2d(uniformArray(3, n * r), [n, r]);
          const masks: ReluLstmSequenceMasks = withMasks
            ? {
              gates: maskArray(4, steps * n * 3 * r),
              h: maskArray(5, steps * n * r),
            }
            : {};
          const loss = (f: typeof replica) => (p: tf.Tensor, k: tf.Tensor) =>
            tf.sum(
              tf.mul(f(p as tf.Tensor2D, k as tf.Tensor2D, steps, masks), dy),
            );
          assertClose(
            await read(() => reluLstmSequence(pre, kernel, steps, masks)),
            await read(() => replica(pre, kernel, steps, masks)),
            1e-5,
            1e-6,
          );
          const byPre = (f: typeof replica) =>
            tf.grad((p: tf.Tensor) => loss(f)(p, kernel))(pre);
          const byKernel = (f: typeof replica) =>
            tf.grad((k: tf.Tensor) => loss(f)(pre, k))(kernel);
          assertClose(
            await read(() => byPre(reluLstmSequence)),
            await read(() => byPre(replica)),
            1e-4,
            1e-6,
          );
          if (steps === 1) {
            // h_{−1} = 0: the recurrent kernel gets no gradient (and the replica no path).
            assertClose(
              await read(() => byKernel(reluLstmSequence)),
              new Float32Array(r * 4 * r),
            );
          } else {
            assertClose(
              await read(() => byKernel(reluLstmSequence)),
              await read(() => byKernel(replica)),
              1e-4,
              1e-6,
            );
          }
          tf.dispose([pre, kernel, dy]);
        });
      },
    );
  }
});
