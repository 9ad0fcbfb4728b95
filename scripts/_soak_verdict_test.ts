import assert from "node:assert/strict";
import { type SoakSample, soakVerdict } from "./_soak_verdict.ts";

const MIB = 2 ** 20;
const LIMITS = {
  warmupDone: 100,
  tensorTolerance: 0,
  rssToleranceBytes: 64 * MIB,
  errors: 0,
};

/** Ten samples, 50 explanations apart, with the given series. */
function series(
  tensors: (i: number) => number[],
  rssMib: (i: number) => number,
): SoakSample[] {
  return Array.from({ length: 10 }, (_, i) => ({
    atMs: i * 1000,
    done: i * 50,
    workerTensors: tensors(i),
    rssBytes: rssMib(i) * MIB,
  }));
}

Deno.test("soakVerdict() passes a run whose tensors stay flat and RSS stays within tolerance after warm-up", () => {
  // Warm-up: models load (tensors and RSS jump) before 100 explanations.
  const v = soakVerdict(
    series((i) => (i < 2 ? [0, 7] : [7, 7]), (i) => (i < 2 ? 90 : 200 + i)),
    LIMITS,
  );
  assert.deepEqual(v.failures, []);
  assert.equal(v.ok, true);
  assert.deepEqual(v.tensors, { baseline: [7, 7], peak: [7, 7] });
  // Floors: the lowest of samples 2–5 against the lowest of samples 6–9.
  assert.equal(v.rss.growth, 4 * MIB);
});

Deno.test("soakVerdict() fails when a worker's tensors grow after warm-up", () => {
  const v = soakVerdict(series((i) => [7, 7 + i], () => 200), LIMITS);
  assert.equal(v.ok, false);
  assert.deepEqual(v.failures, [
    "Worker 1 grew from 9 to 16 live tensors after the warm-up (tolerance 0)",
  ]);
});

Deno.test("soakVerdict() fails when RSS grows beyond the tolerance, and on unexpected errors", () => {
  const v = soakVerdict(series(() => [7], (i) => 200 + 20 * i), {
    ...LIMITS,
    errors: 2,
  });
  assert.equal(v.ok, false);
  assert.deepEqual(v.failures, [
    "2 unexpected errors (expected none)",
    "RSS grew by 80.0 MiB after the warm-up, from 240.0 to 320.0 MiB (tolerance 64.0 MiB)",
  ]);
});

Deno.test("soakVerdict() fails when too few samples follow the warm-up", () => {
  const v = soakVerdict(series(() => [7], () => 200), {
    ...LIMITS,
    warmupDone: 450,
  });
  assert.equal(v.ok, false);
  assert.match(v.failures[0]!, /1 samples after the warm-up, need at least 2/);
});

Deno.test("soakVerdict() fails when the RSS could not be read", () => {
  const samples = series(() => [7], () => 200).map((s) => ({
    ...s,
    rssBytes: undefined,
  }));
  const v = soakVerdict(samples, LIMITS);
  assert.equal(v.ok, false);
  assert.deepEqual(v.failures, [
    "Cannot judge RSS: 0 readable samples after the warm-up, need at least 2",
  ]);
});

Deno.test("soakVerdict() fails when the server process died", () => {
  const v = soakVerdict(series(() => [7], () => 200), {
    ...LIMITS,
    serverDeath: "signal SIGABRT",
  });
  assert.deepEqual(v.failures, [
    "The server process died (signal SIGABRT) instead of outliving its clients",
  ]);
});

Deno.test("soakVerdict() passes a sawtooth RSS whose floor stays put", () => {
  // Grows 40 MiB per sample, and a collection gives it all back every 4.
  const v = soakVerdict(
    series(() => [7], (i) => 300 + 40 * ((i - 2) % 4)),
    LIMITS,
  );
  assert.deepEqual(v.failures, []);
  assert.equal(v.rss.growth, 0);
});
