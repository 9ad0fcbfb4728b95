import assert from "node:assert/strict";

// initBackend() chooses once per process, so each case runs in a fresh Deno
// (`deno run`: `deno eval` would grant every permission).
const PROBE = `
import { initBackend } from "${new URL("./backend.ts", import.meta.url).href}";
const info = await initBackend("auto");
console.log(JSON.stringify({ name: info.name, skipped: info.skipped, blas: info.blas }));
`;

async function probe(
  flags: string[],
  env: Record<string, string> = {},
): Promise<{ name: string; skipped: { name: string; reason: string }[] }> {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  let result: Deno.CommandOutput;
  try {
    await Deno.writeTextFile(file, PROBE);
    result = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        new URL("../deno.json", import.meta.url).pathname,
        ...flags,
        file,
      ],
      env: { NO_COLOR: "1", RNN_EXPLAIN_FORCE_BACKEND: "", ...env },
      stdout: "piped",
      stderr: "piped",
    }).output();
  } finally {
    await Deno.remove(file);
  }
  const { code, stdout, stderr } = result;
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

Deno.test('initBackend("auto") falls back to wasm and says why when FFI is not permitted', async () => {
  const info = await probe(["--allow-read", "--allow-env"]);
  assert.equal(info.name, "wasm");
  const blas = info.skipped.find((s) => s.name === "blas");
  assert.ok(blas !== undefined, JSON.stringify(info.skipped));
  assert.match(blas.reason, /FFI is not permitted \(run with --allow-ffi\)/);
});

Deno.test("initBackend() takes RNN_EXPLAIN_FORCE_BACKEND over the caller's choice", async () => {
  const info = await probe(["--allow-read", "--allow-env", "--allow-ffi"], {
    RNN_EXPLAIN_FORCE_BACKEND: "wasm",
  });
  assert.equal(info.name, "wasm");
  assert.deepEqual(info.skipped, []);
});
