import assert from "node:assert/strict";
import { openResultsLog, readResults } from "./results_log.ts";
import type { UnitResult } from "./unit_result.ts";

function result(key: string, fingerprint = "f"): UnitResult {
  return { key, fingerprint, explainers: [] } as unknown as UnitResult;
}

Deno.test("openResultsLog() counts only complete lines of its fingerprint as done, and appends after a torn line", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/r.jsonl`;
  try {
    await Deno.writeTextFile(
      path,
      JSON.stringify(result("a")) + "\n" + JSON.stringify(result("b", "old")) +
        "\n" + '{"key":"c","finger',
    );
    {
      using log = await openResultsLog(path, "f");
      assert.deepEqual([...log.done.keys()], ["a"]);
      await log.append(result("c"));
      assert.ok(log.done.has("c"));
    }
    const lines = await readResults(path);
    assert.deepEqual(lines.map((r) => r.key), ["a", "b", "c"]);
    using again = await openResultsLog(path, "f");
    assert.deepEqual([...again.done.keys()].sort(), ["a", "c"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readResults() returns [] for a missing file", async () => {
  assert.deepEqual(await readResults("/nonexistent/results.jsonl"), []);
});
