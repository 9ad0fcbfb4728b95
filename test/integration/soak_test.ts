/**
 * The soak, scaled down for CI: `scripts/soak.ts` as `deno task soak` runs
 * it (same permissions), with 400 explanations from 16 concurrent clients
 * instead of 10,000. It must finish with no unexpected error, flat worker
 * tensor counts and bounded RSS after the warm-up.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

/** The fields of the soak's JSON report (`SoakReport` in scripts/soak.ts) this test reads. */
interface SoakReport {
  explanations: number;
  cancelled: number;
  errors: number;
  errorSamples: string[];
  serverErrors: number;
  samples: unknown[];
  verdict: {
    failures: string[];
    tensors: { baseline: number[]; peak: number[] };
    rss: { growth: number };
  };
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("scripts/soak.ts: 400 explanations from 16 concurrent clients, with cancels, leave no errors, flat worker tensors and bounded RSS", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read=.",
      "--allow-write=./data",
      "--allow-run",
      "--allow-net=127.0.0.1",
      "--allow-env",
      "--allow-sys",
      "scripts/soak.ts",
      "--explanations=400",
      "--clients=16",
      "--sample-ms=250",
      "--cancel-every=25",
      "--json",
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(stdout).trim();
  assert.ok(text !== "", new TextDecoder().decode(stderr));
  const report = JSON.parse(text) as SoakReport;
  assert.deepEqual(report.verdict.failures, [], report.errorSamples.join("\n"));
  assert.equal(code, 0);
  assert.equal(report.explanations, 400);
  assert.equal(report.cancelled, 16);
  assert.equal(report.errors, 0);
  assert.equal(report.serverErrors, 0);
  // Both workers ran explanations and hold the model's weights, no more.
  assert.equal(report.verdict.tensors.baseline.length, 2);
  assert.ok(report.verdict.tensors.baseline.every((n) => n > 0));
  assert.deepEqual(
    report.verdict.tensors.peak,
    report.verdict.tensors.baseline,
  );
  assert.ok(Number.isFinite(report.verdict.rss.growth));
  assert.ok(report.samples.length >= 4, `${report.samples.length} samples`);
});
