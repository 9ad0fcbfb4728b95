/**
 * Helpers shared by the benchmark scripts: order statistics, the machine's
 * description and load, the backend's matmul peak (in this thread and in
 * several workers at once), saving seeded models into a model store, and
 * the real server started as its own process with its log parsed.
 *
 * This file is also the entry point of the matmul peak workers: loaded as a
 * Worker it answers peak requests instead of exporting helpers (see
 * {@linkcode openPeakWorkers}).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { fileURLToPath } from "node:url";
import {
  BACKEND_CHOICES,
  type BackendChoice,
  createModel,
  encodeCheckpoint,
  initBackend,
  type ModelSpec,
} from "../models/mod.ts";
import type { ModelRef } from "../server/compute/mod.ts";
import { openModelStore } from "../server/storage/mod.ts";

/** The repository root (scripts run with it as their working directory). */
export const ROOT: string = fileURLToPath(new URL("../", import.meta.url));

/** Prints one line of results (STYLE.md §3.11 allows the console in scripts/). */
export function print(line: string): void {
  // deno-lint-ignore no-console
  console.log(line);
}

/**
 * The median of some values (the mean of the middle two for an even count).
 *
 * @param values at least one number
 * @returns the median
 * @throws {RangeError} if `values` is empty
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) {
    throw new RangeError("Cannot take the median: no values");
  }
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The nearest-rank percentile: the smallest value with at least `p` of the
 * values at or below it (with few values, p99 is the maximum).
 *
 * @param values at least one number
 * @param p the fraction, in (0, 1]
 * @returns the percentile
 * @throws {RangeError} if `values` is empty or `p` is outside (0, 1]
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) {
    throw new RangeError("Cannot take a percentile: no values");
  }
  if (!(p > 0 && p <= 1)) {
    throw new RangeError(`Cannot take a percentile: p must be in (0, 1]: ${p}`);
  }
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
}

/**
 * The 1, 5 and 15 minute load averages, or `undefined` without
 * `--allow-sys=loadavg`.
 */
export function loadavg(): number[] | undefined {
  try {
    return Deno.loadavg();
  } catch {
    return undefined;
  }
}

/** The load averages as text, or why they are unavailable. */
export function loadAverageText(): string {
  return loadavg()?.map((v) => v.toFixed(2)).join(", ") ??
    "unavailable (needs --allow-sys=loadavg)";
}

/**
 * The backend named by `--backend=NAME` among `args`, or `fallback` when the
 * flag is absent.
 *
 * @throws {RangeError} when the name is not one of `BACKEND_CHOICES`
 */
export function backendOption(
  args: readonly string[],
  fallback: BackendChoice,
): BackendChoice {
  const flag = args.findLast((a) => a.startsWith("--backend="));
  if (flag === undefined) return fallback;
  const name = flag.slice("--backend=".length);
  if (!(BACKEND_CHOICES as readonly string[]).includes(name)) {
    throw new RangeError(
      `--backend must be one of ${BACKEND_CHOICES.join(", ")}: got "${name}"`,
    );
  }
  return name as BackendChoice;
}

/** The machine a benchmark ran on. */
export interface MachineInfo {
  /** The CPU model from `/proc/cpuinfo` ("unknown" when unreadable). */
  cpu: string;
  /** Logical cores (`navigator.hardwareConcurrency`). */
  cores: number;
}

/**
 * Reads a file of `/proc`. Deno asks for `--allow-all` to read `/proc`
 * directly, so without it the file is read by `cat` (needs `--allow-run`).
 *
 * @param path the file, e.g. `/proc/cpuinfo`
 * @returns its text, or `undefined` when neither way may read it
 */
export async function readProcFile(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    // NotCapable without --allow-all: try cat below.
  }
  try {
    const { success, stdout } = await new Deno.Command("cat", {
      args: [path],
      stdout: "piped",
      stderr: "null",
    }).output();
    return success ? new TextDecoder().decode(stdout) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Describes this machine's CPU.
 *
 * @returns the CPU model (from `/proc/cpuinfo`) and the logical core count
 */
export async function machineInfo(): Promise<MachineInfo> {
  const text = await readProcFile("/proc/cpuinfo");
  const cpu = /^model name\s*:\s*(.+)$/m.exec(text ?? "")?.[1]?.trim();
  return { cpu: cpu ?? "unknown", cores: navigator.hardwareConcurrency };
}

/**
 * The checked-out commit, with "+ uncommitted changes" when tracked files
 * differ from it, or `undefined` outside a git checkout (or without
 * `--allow-run`). Read-only: it never writes the index.
 *
 * @returns e.g. `"3e5e29f"` or `"3e5e29f + uncommitted changes"`
 */
export async function gitRevision(): Promise<string | undefined> {
  const git = async (...args: string[]) => {
    try {
      return await new Deno.Command("git", {
        args,
        cwd: ROOT,
        stdout: "piped",
        stderr: "null",
      }).output();
    } catch {
      return undefined;
    }
  };
  const head = await git("rev-parse", "--short", "HEAD");
  if (head === undefined || !head.success) return undefined;
  const commit = new TextDecoder().decode(head.stdout).trim();
  // `git diff` compares without refreshing the (shared) index.
  const diff = await git("diff", "--quiet", "HEAD", "--");
  return diff?.code === 1 ? `${commit} + uncommitted changes` : commit;
}

/** The shape of a matrix product `[m, k] × [k, n]`. */
export interface MatmulShape {
  m: number;
  k: number;
  n: number;
}

/** The two products the benchmarks quote: 512³ and the batch-50 step's 50×196×256. */
export const MATMUL_SHAPES: readonly MatmulShape[] = [
  { m: 512, k: 512, n: 512 },
  { m: 50, k: 196, n: 256 },
];

/** Formats a shape as `m×k×n`. */
export function shapeName(s: MatmulShape): string {
  return `${s.m}×${s.k}×${s.n}`;
}

/**
 * Times `reps` products of random matrices of `shape` on the active backend,
 * reading each result back (so asynchronous backends finish their work).
 *
 * @param shape the product's shape
 * @param reps products to time
 * @param warmUp whether one untimed product runs first
 * @returns GFLOP/s, counting 2·m·k·n per product
 * @throws {RangeError} if `reps` is not a positive integer
 */
export function matmulGflops(
  shape: MatmulShape,
  reps: number,
  warmUp = true,
): number {
  if (!Number.isInteger(reps) || reps < 1) {
    throw new RangeError(`Cannot time matmul: reps must be ≥ 1: ${reps}`);
  }
  const a = tf.randomNormal([shape.m, shape.k], 0, 1, "float32", 1);
  const b = tf.randomNormal([shape.k, shape.n], 0, 1, "float32", 2);
  try {
    const once = () =>
      tf.tidy(() => {
        // Read back inside tidy; returning the values would walk them again.
        tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D).dataSync();
      });
    if (warmUp) once();
    const start = performance.now();
    for (let i = 0; i < reps; i++) once();
    const seconds = (performance.now() - start) / 1000;
    return (2 * shape.m * shape.k * shape.n * reps) / seconds / 1e9;
  } finally {
    tf.dispose([a, b]);
  }
}

/** Repetitions that make one timed round of `shape` about `ms` at `gflops`. */
export function repsFor(
  shape: MatmulShape,
  gflops: number,
  ms: number,
): number {
  const flops = 2 * shape.m * shape.k * shape.n;
  return Math.max(1, Math.round((gflops * 1e9 * ms) / 1000 / flops));
}

type PeakRequest =
  | { type: "init"; backend: BackendChoice }
  | { type: "run"; shape: MatmulShape; reps: number };
type PeakReply =
  | { type: "ready"; backend: string }
  | { type: "done"; gflops: number }
  | { type: "error"; message: string };

/**
 * Deno Workers that multiply matrices at the same moment, each on its own
 * backend as the server's compute workers are: the matmul peak of a pool.
 * Dispose of it to terminate the workers.
 */
export interface PeakWorkers extends Disposable {
  /** The backend the workers ended up on. */
  readonly backend: string;
  /**
   * Times `rounds` rounds in which every worker multiplies `shape` `reps`
   * times (each times its own products, not the creation of its inputs),
   * after one untimed product each.
   *
   * @returns each round's aggregate GFLOP/s: the slowest worker's rate
   * times the worker count (they did the same work at the same moment)
   */
  measure(shape: MatmulShape, reps: number, rounds: number): Promise<number[]>;
  /** Terminates the workers. Idempotent. */
  close(): void;
}

/**
 * Starts `count` matmul peak workers on `backend`.
 *
 * @param count how many (the server's pool size)
 * @param backend the backend each initialises
 * @returns the ready workers
 * @throws {Error} if a worker fails to start its backend
 */
export async function openPeakWorkers(
  count: number,
  backend: BackendChoice,
): Promise<PeakWorkers> {
  const workers = Array.from(
    { length: count },
    () => new Worker(import.meta.url, { type: "module" }),
  );
  const close = () => {
    for (const w of workers) w.terminate();
  };
  const ask = (w: Worker, request: PeakRequest) =>
    new Promise<PeakReply>((resolve, reject) => {
      w.onmessage = (e: MessageEvent<PeakReply>) => {
        if (e.data.type === "error") reject(new Error(e.data.message));
        else resolve(e.data);
      };
      w.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`Matmul peak worker failed: ${e.message}`));
      };
      w.postMessage(request);
    });
  const all = (request: PeakRequest) =>
    Promise.all(workers.map((w) => ask(w, request)));
  let ready: PeakReply[];
  try {
    ready = await all({ type: "init", backend });
  } catch (err) {
    close();
    throw err;
  }
  const first = ready[0];
  return {
    backend: first?.type === "ready" ? first.backend : "unknown",
    async measure(shape, reps, rounds) {
      await all({ type: "run", shape, reps: 1 });
      const result: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const replies = await all({ type: "run", shape, reps });
        const rates = replies.map((x) => x.type === "done" ? x.gflops : NaN);
        result.push(Math.min(...rates) * count);
      }
      return result;
    },
    close,
    [Symbol.dispose]: close,
  };
}

/** The worker side of {@linkcode openPeakWorkers}. */
function servePeakRequests(scope: {
  onmessage: ((e: MessageEvent<PeakRequest>) => void) | null;
  postMessage(message: PeakReply): void;
}): void {
  scope.onmessage = async (e) => {
    try {
      const request = e.data;
      if (request.type === "init") {
        const info = await initBackend(request.backend);
        scope.postMessage({ type: "ready", backend: info.name });
        return;
      }
      // The warm-up is its own untimed round.
      const gflops = matmulGflops(request.shape, request.reps, false);
      scope.postMessage({ type: "done", gflops });
    } catch (err) {
      scope.postMessage({ type: "error", message: String(err) });
    }
  };
}

// Loaded as a peak worker (see openPeakWorkers), serve requests.
// (`import.meta.main` is true in a worker's entry module too, so ask the scope.)
const workerScope =
  (globalThis as { WorkerGlobalScope?: abstract new () => unknown })
    .WorkerGlobalScope;
if (workerScope !== undefined && globalThis instanceof workerScope) {
  servePeakRequests(
    globalThis as unknown as Parameters<
      typeof servePeakRequests
    >[0],
  );
}

/**
 * Saves a seeded, randomly initialised model into a model store as the
 * server would (the server started on the same folder serves it).
 *
 * @param dir the store's folder (the server's `--checkpoint-dir`)
 * @param id the model id
 * @param spec the model's spec
 * @returns the saved model's parameter count, and the reference a compute
 *   worker loads it by
 */
export async function saveSeededModel(
  dir: string,
  id: string,
  spec: ModelSpec,
): Promise<{ parameters: number; ref: ModelRef }> {
  const model = createModel(spec, { seed: 1 });
  try {
    using store = await openModelStore({ dir });
    const record = await store.save(
      id,
      await encodeCheckpoint(model, {
        dataset: "mnist",
        problem: "majority",
        seed: 1,
        training: {
          optimizer: "adam",
          epochs: 0,
          batchSize: 50,
          learningRate: 0.0002,
          keepProb: 0.8,
        },
      }),
    );
    return {
      parameters: model.parameterCount(),
      // The store keeps checkpoints in `<dir>/models`.
      ref: {
        id: record.id,
        dir: `${dir}/models`,
        sha256: record.weightsSha256,
      },
    };
  } finally {
    model.dispose();
  }
}

/** A parsed line of the server's JSON log. */
export type LogRecord = Record<string, unknown>;

/** Options of {@linkcode spawnServer}. */
export interface SpawnServerOptions {
  /** The checkpoint folder (inside the working directory; read and written by the server). */
  checkpointDir: string;
  /** Extra server flags, e.g. `--workers=2` or `--backend=wasm`. */
  flags?: readonly string[];
  /** Called with every log line the server writes. */
  onLog?: (record: LogRecord) => void;
}

/** The real server running as a child process. */
export interface ServerProcess extends AsyncDisposable {
  /** Its process id. */
  readonly pid: number;
  /** The port it bound. */
  readonly port: number;
  /** The backend each compute worker chose, from the "Compute workers ready" log. */
  readonly workerBackends: readonly string[];
  /** Its resident set size now, in bytes (`VmRSS` of `/proc/<pid>/status`); NaN if unreadable. */
  rssBytes(): Promise<number>;
  /** Stops it with SIGTERM and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * The run flags of `deno task start`, read from deno.json, without its write
 * permission (the benchmark's own folder replaces it). Falls back to the
 * flags the server needs if the task cannot be read.
 */
async function startTaskFlags(): Promise<string[]> {
  try {
    const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
    const words = String(config.tasks.start).split(/\s+/);
    const from = words.indexOf("run");
    const to = words.indexOf("server/main.ts");
    if (from >= 0 && to > from) {
      return words.slice(from + 1, to).filter((w) =>
        !w.startsWith("--allow-write")
      );
    }
  } catch {
    // Fall through to the defaults below.
  }
  return [
    "--allow-net",
    "--allow-read=.",
    "--allow-env",
    "--allow-sys=hostname,uid,gid",
  ];
}

/**
 * Starts `server/main.ts` as its own process with the permissions of
 * `deno task start` (write access only to `checkpointDir`), on a free port,
 * at log level debug, and waits until it serves and its workers are ready.
 * Its log is read to the end, so the pipe never fills.
 *
 * @param options the checkpoint folder, extra flags and a log callback
 * @returns the running server
 * @throws {Error} if the server exits before it is ready
 */
export async function spawnServer(
  options: SpawnServerOptions,
): Promise<ServerProcess> {
  const flags = await startTaskFlags();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...flags,
      `--allow-write=${options.checkpointDir}`,
      "server/main.ts",
      "--port=0",
      "--log-level=debug",
      `--checkpoint-dir=${options.checkpointDir}`,
      ...(options.flags ?? []),
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let port: number | undefined;
  let workerBackends: string[] | undefined;
  let buffer = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const handle = (line: string) => {
    if (line.trim() === "") return;
    let r: LogRecord;
    try {
      r = JSON.parse(line) as LogRecord;
    } catch {
      return;
    }
    if (r.msg === "Server started") port = r.port as number;
    if (r.msg === "Compute workers ready") {
      workerBackends = (r.backends as unknown[]).map(String);
    }
    options.onLog?.(r);
  };
  try {
    while (port === undefined || workerBackends === undefined) {
      const { value, done } = await reader.read();
      if (done) throw new Error("Cannot start the server: it exited early");
      buffer += value;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      lines.forEach(handle);
    }
  } catch (err) {
    try {
      child.kill("SIGKILL");
    } catch {
      // It had exited already.
    }
    await child.status;
    throw err;
  }
  const drained = (async () => {
    for (let n = await reader.read(); !n.done; n = await reader.read()) {
      buffer += n.value;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      lines.forEach(handle);
    }
  })().catch(() => {});
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      await child.status;
      await drained;
    })();
  return {
    pid: child.pid,
    port,
    workerBackends,
    rssBytes: async () => {
      const status = await readProcFile(`/proc/${child.pid}/status`);
      const kb = /^VmRSS:\s*(\d+)\s*kB/m.exec(status ?? "")?.[1];
      return kb === undefined ? NaN : Number(kb) * 1024;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
