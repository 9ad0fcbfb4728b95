// openPeakWorkers() is exercised by bench_report_test.ts (the pool peaks it
// asserts): a worker here would be type-checked again by deno test (~20 s).
import assert from "node:assert/strict";
import { initBackend, tensorMemory } from "../models/mod.ts";
import {
  backendOption,
  matmulGflops,
  median,
  percentile,
  readProcFile,
  repsFor,
  shapeName,
} from "./_bench.ts";

Deno.test("median() takes the middle value, or the mean of the middle two", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), RangeError);
});

Deno.test("percentile() is the nearest rank", () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(values, 0.5), 50);
  assert.equal(percentile(values, 0.99), 99);
  assert.equal(percentile(values, 1), 100);
  assert.equal(percentile([7, 1], 0.99), 7, "few values: p99 is the maximum");
  assert.throws(() => percentile([], 0.5), RangeError);
  assert.throws(() => percentile([1], 0), RangeError);
  assert.throws(() => percentile([1], 1.5), RangeError);
});

Deno.test("repsFor() sizes a round to the time asked for", () => {
  const shape = { m: 100, k: 100, n: 50 }; // 1 MFLOP per product
  assert.equal(repsFor(shape, 10, 100), 1000); // 10 GFLOP/s for 0.1 s
  assert.equal(repsFor(shape, 0.001, 1), 1, "at least one");
  assert.equal(shapeName(shape), "100×100×50");
});

Deno.test("matmulGflops() measures a positive rate and frees its tensors", async () => {
  await initBackend("wasm");
  const before = tensorMemory().numTensors;
  const rate = matmulGflops({ m: 32, k: 16, n: 8 }, 3);
  assert.ok(Number.isFinite(rate) && rate > 0, `rate ${rate}`);
  assert.throws(() => matmulGflops({ m: 2, k: 2, n: 2 }, 0), RangeError);
  assert.equal(tensorMemory().numTensors, before);
});

Deno.test("readProcFile() reads /proc without --allow-all, or says it cannot", async () => {
  const text = await readProcFile("/proc/self/status");
  if (Deno.build.os === "linux") assert.match(text ?? "", /^Name:/m);
  assert.equal(await readProcFile("/proc/no-such-file"), undefined);
});

Deno.test("backendOption() reads the last --backend=NAME, falls back without one, and refuses unknown names", () => {
  assert.equal(backendOption([], "wasm"), "wasm");
  assert.equal(backendOption(["--seconds=1"], "auto"), "auto");
  assert.equal(backendOption(["--backend=blas"], "wasm"), "blas");
  assert.equal(
    backendOption(["--backend=cpu", "--backend=blas"], "wasm"),
    "blas",
  );
  assert.throws(
    () => backendOption(["--backend=gpu"], "wasm"),
    new RangeError(
      '--backend must be one of auto, tensorflow, blas, wasm, cpu: got "gpu"',
    ),
  );
});
