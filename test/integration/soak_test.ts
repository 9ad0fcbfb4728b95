/**
 * The soak, scaled down for CI: `scripts/soak.ts` as `deno task soak` runs
 * it (same permissions), with 400 explanations from 16 concurrent clients
 * instead of 10,000. It must finish with no unexpected error, flat worker
 * tensor counts and bounded RSS after the warm-up, and the server must
 * outlive its clients' close and exit 0 on SIGTERM.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

/** The fields of the soak's JSON report (`SoakReport` in scripts/soak.ts) this test reads. */
interface SoakReport {
  explanations: number;
  cancelled: number;
  dropped: number;
  errors: number;
  errorSamples: string[];
  serverErrors: number;
  samples: unknown[];
  serverExit: { code: number; signal: string | null; aliveAfterClose: boolean };
  verdict: {
    failures: string[];
    tensors: { baseline: number[]; peak: number[] };
    rss: { growth: number };
  };
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Runs the soak script as `deno task soak` does; returns its JSON report and exit code. */
async function runSoak(
  flags: string[],
): Promise<{ code: number; report: SoakReport }> {
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
      "--json",
      ...flags,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(stdout).trim();
  assert.ok(text !== "", new TextDecoder().decode(stderr));
  return { code, report: JSON.parse(text) as SoakReport };
}

Deno.test("scripts/soak.ts: 400 explanations from 16 concurrent clients, with cancels, leave no errors, flat worker tensors and bounded RSS, and the server exits 0 on SIGTERM", async () => {
  // The server is stopped before the clients close: its GOAWAY reaches the
  // clients (client/_defer_goaway_close.ts); the test below has the clients
  // close first.
  const { code, report } = await runSoak([
    "--explanations=400",
    "--clients=16",
    "--sample-ms=250",
    "--cancel-every=25",
    "--shutdown-first",
    "--max-dropped=0",
  ]);
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
  assert.deepEqual(report.serverExit, {
    code: 0,
    aliveAfterClose: true,
    signal: null,
  });
});

Deno.test("scripts/soak.ts: the server outlives 16 clients closing their channels after 400 explanations", async () => {
  // Deno 2.9.6 aborts a process that closes an HTTP/2 session inside
  // nghttp2's GOAWAY callback (find_stream_on_goaway_func: `stream->closed_next
  // == NULL`, `free(): invalid pointer`, or SIGSEGV) once the connection has
  // carried ~100 streams (denoland/deno#36788); every client's close sends
  // that GOAWAY. This run killed the server in 2/2 runs with no guard;
  // server/defer_goaway_close.ts defers the close, so nothing may abort and
  // no call may drop.
  const { code, report } = await runSoak([
    "--explanations=400",
    "--clients=16",
    "--sample-ms=250",
    "--max-dropped=0",
  ]);
  assert.deepEqual(report.serverExit, {
    code: 0,
    aliveAfterClose: true,
    signal: null,
  });
  assert.equal(report.errors, 0, report.errorSamples.join("\n"));
  assert.deepEqual(report.verdict.failures, []);
  assert.equal(code, 0);
});
