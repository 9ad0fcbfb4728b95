import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { heapFloats } from "./heap_floats.ts";

Deno.test("heapFloats() views a float32 tensor's values on the wasm heap, and nothing else", async () => {
  await initBackend("wasm");
  const before = tf.memory().numTensors;
  const x = tf.tensor2d([1.5, -2, 3, 4.25, 0, -7], [3, 2]);
  // A tensor allocated after x, so x does not sit at offset 0.
  const y = tf.mul(x, 2);
  const view = heapFloats(y);
  assert.ok(view !== undefined);
  assert.deepEqual(Array.from(view), [3, -4, 6, 8.5, 0, -14]);
  // A view, not a copy: a reshape shares its data and its view.
  const r = tf.reshape(y, [6]);
  assert.equal(heapFloats(r)!.byteOffset, view.byteOffset);
  const ints = tf.cast(x, "int32");
  assert.equal(heapFloats(ints), undefined, "int32");
  tf.dispose([x, y, r, ints]);
  await tf.setBackend("cpu");
  const onCpu = tf.tensor1d([1, 2]);
  assert.equal(heapFloats(onCpu), undefined, "cpu backend");
  onCpu.dispose();
  await tf.setBackend("wasm");
  assert.equal(tf.memory().numTensors, before);
});
