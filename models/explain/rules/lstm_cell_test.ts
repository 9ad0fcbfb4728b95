import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend.ts";
import { replicaLstmCell } from "../_replica.ts";
import {
  assertClose,
  assertNoLeak,
  createRandom,
  normal,
  uniform,
  values,
} from "../_testing.ts";
import { lstmCellRelevance } from "./lstm_cell.ts";

/** Seeded R-LSTM cell quantities `[3, 6]`; sample 0 is a first step (c_{t−1} = 0). */
function cellCase(seed: number) {
  const random = createRandom(seed);
  const size = 3 * 6;
  const previous = uniform(random, size, 0, 2);
  for (let k = 0; k < 6; k++) previous[k] = 0;
  const forget = uniform(random, size, 0.05, 0.95);
  const gate = uniform(random, size, 0.05, 0.95);
  const candidate = normal(random, size).map((v) => Math.abs(v) + 0.1);
  // Unit 5 of sample 0 has c_t = 0 exactly (c_{t−1} = 0 and g = 0).
  candidate[5] = 0;
  const cell = new Float32Array(size);
  for (let k = 0; k < size; k++) {
    cell[k] = gate[k]! * candidate[k]! + forget[k]! * previous[k]!;
  }
  const relevance = uniform(random, size, 0, 1);
  return { previousCell: previous, forget, cell, relevance };
}

Deno.test("lstmCellRelevance() matches the plain-loop replica and conserves relevance", async (t) => {
  await initBackend("wasm");
  for (const mode of ["candidate", "absorbed"] as const) {
    await t.step(`stabilizerShare "${mode}"`, async () => {
      const data = cellCase(mode === "candidate" ? 1 : 2);
      const tensors = {
        previousCell: tf.tensor2d(data.previousCell, [3, 6]),
        forget: tf.tensor2d(data.forget, [3, 6]),
        cell: tf.tensor2d(data.cell, [3, 6]),
        relevance: tf.tensor2d(data.relevance, [3, 6]),
      };
      try {
        await assertNoLeak(async () => {
          const out = lstmCellRelevance(tensors, { stabilizerShare: mode });
          try {
            const want = replicaLstmCell(6, data, 1e-10, mode);
            const previous = await values(out.previousCell);
            const candidate = await values(out.candidate);
            const absorbed = await values(out.absorbed);
            assertClose(previous, want.previousCell, 1e-4, "previousCell");
            assertClose(candidate, want.candidate, 1e-4, "candidate");
            assertClose(absorbed, want.absorbed, 1e-4, "absorbed");
            for (let n = 0; n < 3; n++) {
              let sum = absorbed[n]!;
              let total = 0;
              for (let k = n * 6; k < n * 6 + 6; k++) {
                sum += previous[k]! + candidate[k]!;
                total += data.relevance[k]!;
              }
              assert.ok(
                Math.abs(sum - total) <= 1e-5 * total,
                `sample ${n}: ${sum} vs ${total}`,
              );
            }
            // Sample 0 is a first step: nothing goes to c_0.
            assert.deepEqual(Array.from(previous.slice(0, 6)), [
              0,
              0,
              0,
              0,
              0,
              0,
            ]);
            // Unit 5 of sample 0 has c_t = 0: its relevance goes to the
            // candidate (thesis code) or is absorbed.
            if (mode === "candidate") {
              assert.equal(candidate[5], data.relevance[5]);
            } else {assert.ok(
                Math.abs(absorbed[0]! - data.relevance[5]!) < 1e-6,
              );}
          } finally {
            tf.dispose([out.previousCell, out.candidate, out.absorbed]);
          }
        });
      } finally {
        tf.dispose(Object.values(tensors));
      }
    });
  }
});

Deno.test("lstmCellRelevance() splits a hand-computed cell by f ⊙ c_{t−1} and i ⊙ g", async () => {
  await initBackend("wasm");
  // c_{t−1} = [2, 0, 1], f = [0.5, 0.9, 0.25], i = [1, 0.5, 0.8], g = [3, 4, 0]:
  // c_t = i g + f c_{t−1} = [4, 2, 0.25], p = f c_{t−1} / c_t = [0.25, 0, 1].
  const tensors = {
    previousCell: tf.tensor2d([[2, 0, 1]]),
    forget: tf.tensor2d([[0.5, 0.9, 0.25]]),
    cell: tf.tensor2d([[4, 2, 0.25]]),
    relevance: tf.tensor2d([[8, 2, 3]]),
  };
  try {
    await assertNoLeak(async () => {
      const out = lstmCellRelevance(tensors);
      try {
        assertClose(
          await values(out.previousCell),
          [2, 0, 3],
          1e-6,
          "R(c_{t−1})",
        );
        assertClose(await values(out.candidate), [6, 2, 0], 1e-6, "R(g)");
        assert.deepEqual(Array.from(await values(out.absorbed)), [0]);
      } finally {
        tf.dispose([out.previousCell, out.candidate, out.absorbed]);
      }
    });
  } finally {
    tf.dispose(Object.values(tensors));
  }
});
