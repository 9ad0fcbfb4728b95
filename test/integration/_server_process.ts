/**
 * The server as its own process, for the crash tests (restart_test.ts,
 * faults_test.ts): started as `deno task start` runs it, scoped to one
 * checkpoint folder, so that a test can SIGKILL it.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Options of {@linkcode startServerProcess}. */
export interface ServerProcessOptions {
  /**
   * Extra environment variables (e.g. a fault point).
   * @default {}
   */
  env?: Record<string, string>;
  /**
   * What happens to the process's stderr.
   * @default "null"
   */
  stderr?: "piped" | "null";
}

/**
 * Spawns the server as `deno task start` runs it, scoped to a checkpoint
 * folder, on a free port with one worker.
 *
 * @param dir the checkpoint folder
 * @param options environment and stderr
 * @returns the child process; its stdout is the JSON log (see {@linkcode boundPort})
 */
export function startServerProcess(
  dir: string,
  options: ServerProcessOptions = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      `--allow-read=.,/usr/share/datasets,${dir}`,
      `--allow-write=${dir}`,
      "--allow-env",
      "--allow-sys=hostname,uid,gid",
      "server/main.ts",
      "--port=0",
      "--workers=1",
      "--backend=wasm",
      `--checkpoint-dir=${dir}`,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: options.stderr ?? "null",
    env: { NO_COLOR: "1", ...options.env },
  }).spawn();
}

/**
 * Reads the process's JSON log until the "Server started" line.
 *
 * @param stdout the process's stdout (a tee branch; keep draining the other)
 * @returns the bound port
 * @throws {Error} if the process exits first
 */
export async function boundPort(
  stdout: ReadableStream<Uint8Array>,
): Promise<number> {
  let buffer = "";
  for await (const chunk of stdout.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    for (const line of buffer.split("\n").slice(0, -1)) {
      const record = JSON.parse(line) as { msg?: string; port?: number };
      if (record.msg === "Server started") return record.port!;
    }
    buffer = buffer.slice(buffer.lastIndexOf("\n") + 1);
  }
  throw new Error("The server exited before it logged its port");
}

/**
 * SIGKILLs a process unless it is gone, and waits for it.
 *
 * @param child the process
 */
export async function killProcess(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch {
    // already gone
  }
  await child.status;
}
