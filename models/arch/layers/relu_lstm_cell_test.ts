import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { reluLstmCell } from "./relu_lstm_cell.ts";
import { assertClose, read, uniformArray, withoutLeaks } from "../_testing.ts";

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

Deno.test("reluLstmCell() computes sigmoid gates, a ReLU candidate and h = o ⊙ c", async () => {
  await withoutLeaks(async () => {
    const r = 3;
    const zv = uniformArray(1, 2 * 4 * r, -2, 2);
    const cv = uniformArray(2, 2 * r, 0, 1);
    const z = tf.tensor2d(zv, [2, 4 * r]);
    const cPrev = tf.tensor2d(cv, [2, r]);
    const step = reluLstmCell(z, cPrev);
    const at = (n: number, block: number, j: number) =>
      zv[n * 4 * r + block * r + j]!;
    const want = {
      i: [] as number[],
      f: [] as number[],
      o: [] as number[],
      g: [] as number[],
      c: [] as number[],
      h: [] as number[],
    };
    for (let n = 0; n < 2; n++) {
      for (let j = 0; j < r; j++) {
        const [i, f, o] = [0, 1, 2].map((b) => sigmoid(at(n, b, j))) as [
          number,
          number,
          number,
        ];
        const g = Math.max(0, at(n, 3, j));
        const c = i * g + f * cv[n * r + j]!;
        want.i.push(i);
        want.f.push(f);
        want.o.push(o);
        want.g.push(g);
        want.c.push(c);
        want.h.push(o * c);
      }
    }
    for (const part of ["i", "f", "o", "g", "c", "h"] as const) {
      assertClose(await step[part].data(), want[part], 1e-5, 1e-6);
    }
    const fresh = reluLstmCell(z, null);
    assertClose(await fresh.c.data(), await read(() => tf.mul(step.i, step.g)));
    tf.dispose([z, cPrev, ...Object.values(step), ...Object.values(fresh)]);
  });
});

Deno.test("reluLstmCell() applies the caller's ReLU, sigmoid and gate dropout", async () => {
  await withoutLeaks(async () => {
    const z = tf.tensor2d(uniformArray(3, 8), [1, 8]);
    const seen: string[] = [];
    const step = reluLstmCell(z, null, {
      relu: (v) => tf.mul(tf.relu(v), 0),
      sigmoid: (v) => tf.onesLike(v),
      dropGate: (gate, v) => {
        seen.push(gate);
        return tf.mul(v, 2) as tf.Tensor2D;
      },
    });
    assert.deepEqual(seen, ["i", "f", "o"]);
    assert.deepEqual(Array.from(await step.i.data()), [2, 2]);
    assert.deepEqual(Array.from(await step.h.data()), [0, 0]);
    tf.dispose([z, ...Object.values(step)]);
  });
});
