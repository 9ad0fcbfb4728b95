/**
 * The benchmark report's smoke test: `scripts/bench_report.ts --quick` run
 * as `deno task bench` runs it (its own process, the task's permissions,
 * the real server as a child process) writes a Markdown report with every
 * section, every table filled in and no NaN, formatted as `deno fmt` wants.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The sections the report must have, in order. */
const SECTIONS = [
  "# Benchmarks",
  "## Machine and run",
  "## GEMM peak (same run)",
  "## Explain (end to end over gRPC)",
  "## Time to the first streamed timestep",
  "## Batch-1 latency, one call at a time",
  "## Classify (end to end over gRPC)",
  "## Training (StartTraining over RPC)",
  "## Memory per loaded model",
  "## Against PyTorch (issue #8)",
  "## Acceptance targets of issue #8",
];

/** The data rows of the Markdown table under `heading`. */
function tableRows(markdown: string, heading: string): string[][] {
  const from = markdown.indexOf(`${heading}\n`);
  assert.ok(from >= 0, `missing ${heading}`);
  const rest = markdown.slice(from + heading.length + 1);
  const next = rest.search(/^## /m);
  const section = next < 0 ? rest : rest.slice(0, next);
  return section.split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| ---"))
    .slice(1) // the header
    .map((l) => l.slice(1, -1).split("|").map((cell) => cell.trim()));
}

/** The leading number of a cell such as "12.3 ms" or "4.5%". */
function numberIn(cell: string): number {
  return Number.parseFloat(cell.replace(/,/g, ""));
}

Deno.test("bench_report.ts --quick writes every section with measured figures", async () => {
  await Deno.mkdir(`${ROOT}data`, { recursive: true });
  const dir = await Deno.makeTempDir({
    dir: `${ROOT}data`,
    prefix: "bench_report_test_",
  });
  try {
    const out = `${dir}/benchmarks.md`;
    // The `bench` task's permissions, with write access to this test's folder.
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-ffi",
        "--allow-read",
        `--allow-write=./data,${dir}`,
        "--allow-run",
        "--allow-net=127.0.0.1",
        "--allow-env",
        "--allow-sys",
        "scripts/bench_report.ts",
        "--quick",
        `--out=${out}`,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const errors = new TextDecoder().decode(stderr);
    assert.equal(code, 0, `bench_report.ts failed:\n${errors}`);
    const markdown = await Deno.readTextFile(out);
    assert.equal(
      new TextDecoder().decode(stdout).trim(),
      markdown.trim(),
      "stdout is the report",
    );

    let at = -1;
    for (const section of SECTIONS) {
      const found = markdown.indexOf(`${section}\n`);
      assert.ok(found > at, `"${section}" missing or out of order`);
      at = found;
    }
    assert.doesNotMatch(markdown, /NaN|undefined|Infinity/);
    const check = await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--check", out],
      cwd: ROOT,
      stdout: "null",
      stderr: "null",
    }).output();
    assert.ok(check.success, "deno fmt --check passes on the report");
    // deno fmt wraps paragraphs and pads table cells.
    const flat = markdown.replace(/\s+/g, " ");
    assert.match(flat, /Quick smoke run/);
    assert.match(flat, /\| CPU \| \S.* \|/);

    const peak = tableRows(markdown, "## GEMM peak (same run)");
    assert.ok(peak.length >= 2, "both products");
    for (const row of peak.slice(0, 2)) {
      assert.ok(numberIn(row[1]!) > 0, `1-worker peak of ${row[0]}`);
      assert.ok(numberIn(row[2]!) > 0, `pool peak of ${row[0]}`);
    }

    const explain = tableRows(markdown, "## Explain (end to end over gRPC)");
    // 4 methods on R-LSTM and ConvR-LSTM, 2 on Deep, each at 2 batch sizes.
    assert.equal(explain.length, (4 + 4 + 2) * 2);
    for (const methods of ["sensitivity", "guided backprop", "deep Taylor"]) {
      assert.ok(explain.some((r) => r[1] === methods), methods);
    }
    for (const row of explain) {
      assert.ok(numberIn(row[3]!) >= 2, `calls of ${row.join(" ")}`);
      assert.ok(numberIn(row[4]!) > 0, `rate of ${row.join(" ")}`);
      const [p50, p99] = [numberIn(row[5]!), numberIn(row[6]!)];
      assert.ok(p50 > 0 && p99 >= p50, `latencies of ${row.join(" ")}`);
    }

    const first = tableRows(markdown, "## Time to the first streamed timestep");
    assert.equal(first.length, 4 + 4 + 2);
    for (const row of first) {
      assert.ok(numberIn(row[2]!) > 0);
      assert.ok(numberIn(row[2]!) <= numberIn(row[3]!), "first ≤ whole");
    }

    const latency = tableRows(
      markdown,
      "## Batch-1 latency, one call at a time",
    );
    assert.deepEqual(latency.map((r) => r[0]), [
      "R-LSTM",
      "ConvR-LSTM",
      "Deep",
    ]);
    for (const row of latency) {
      assert.ok(
        numberIn(row[2]!) > 0 && numberIn(row[3]!) >= numberIn(row[2]!),
      );
      assert.ok(numberIn(row[4]!) <= numberIn(row[2]!), "first ≤ whole");
    }

    const classify = tableRows(markdown, "## Classify (end to end over gRPC)");
    assert.equal(classify.length, 3 * 2);
    for (const row of classify) assert.ok(numberIn(row[3]!) > 0);

    const training = tableRows(
      markdown,
      "## Training (StartTraining over RPC)",
    );
    assert.deepEqual(training.map((r) => r[0]), [
      "R-LSTM",
      "ConvR-LSTM",
      "Deep",
    ]);
    for (const row of training) assert.ok(numberIn(row[1]!) > 0);

    const memory = tableRows(markdown, "## Memory per loaded model");
    assert.equal(memory.length, 3);
    for (const row of memory) {
      const [parameters, , bytes] = [row[1]!, row[2]!, row[3]!];
      // float32 weights: 4 bytes per parameter.
      const expected = 4 * numberIn(parameters);
      assert.ok(
        Math.abs(numberIn(bytes) * 1024 - expected) < 0.01 * expected,
        `tensor bytes of ${row[0]}`,
      );
      assert.ok(numberIn(row[5]!) > 0, `server RSS of ${row[0]}`);
      assert.match(row[7]!, /^\d+(, \d+)*$/, `worker tensors of ${row[0]}`);
    }

    const targets = tableRows(markdown, "## Acceptance targets of issue #8");
    assert.equal(targets.length, 7);
    for (const row of targets) assert.match(row[2]!, /^(yes|no)$/);

    const torch = tableRows(markdown, "## Against PyTorch (issue #8)");
    assert.equal(torch.length, 3 * 5);
    for (const row of torch) {
      for (const cell of row.slice(2)) {
        assert.ok(numberIn(cell) > 0, `${row[0]} ${row[1]}: "${cell}"`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
