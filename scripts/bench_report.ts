/**
 * The benchmark report (`deno task bench`): every figure of issue #7 item 3
 * and issue #8 item 4, measured end to end in one run and written to
 * `docs/benchmarks.md`.
 *
 * It saves randomly initialised thesis-size models (R-LSTM, ConvR-LSTM and
 * Deep at T = 12, 28 × 84 inputs, c = 7) into a temporary model store,
 * starts the real server on it as its own process with the default worker
 * pool, and measures over gRPC with the real client:
 *
 * 1. memory per loaded model: the server's RSS and its workers' live tensor
 *    count (from its debug log) after each model is first used by every
 *    worker, and the model's tensor bytes measured in this process on the
 *    same backend;
 * 2. the backend's matmul peak (512³ and 50×196×256) in this thread and in
 *    as many workers at once as the server has, measured before, between
 *    and after the other figures; the best round of each is the peak;
 * 3. Explain (streamed, batch 1) and ExplainBatch (batch 50) for
 *    sensitivity, guided backprop, LRP-α1.5β0.5 and deep Taylor on R-LSTM
 *    and ConvR-LSTM (LRP and deep Taylor on Deep too): explanations/s, p50
 *    and p99 latency, time to the first streamed timestep, with as many
 *    calls in flight as the pool has workers;
 * 4. Classify at batch 50 and batch 1, the same way;
 * 5. training samples/s of a StartTraining job over RPC (embedded MNIST),
 *    from the job's progress stream, cancelled after a few seconds;
 *
 * then prints the report and writes it, with a table against the PyTorch
 * figures of issue #8, as absolute numbers and per GFLOP/s of GEMM peak.
 *
 * Usage: `deno task bench [--quick] [--out=PATH] [--workers=N]
 * [--backend=NAME]` (`--workers` and `--backend` are passed to the server;
 * left out, it uses its defaults). `--quick` is a smoke run on tiny sizes
 * (T = 4, batch 4, fractions of a second per figure): its numbers mean
 * nothing. Permissions: `--allow-read` (code, the wasm binary, deno.json,
 * `/proc`), `--allow-write=./data,./docs` (the temporary store, the report),
 * `--allow-run` (the server), `--allow-net=127.0.0.1` (the client),
 * `--allow-env` and `--allow-sys` (the server's logger, the load average).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  Architecture as WireArchitecture,
  createRnnExplainClient,
  Dataset,
  encodeTensor,
  type ExplainerParams,
  type Input,
  JobState,
  Method,
  type PartialMessage,
  Problem,
  type RnnExplainClient,
  RpcError,
  Status,
} from "../client/mod.ts";
import {
  type Architecture,
  type BackendChoice,
  countFlops,
  createModel,
  createSpec,
  initBackend,
  type ModelSpec,
  Random,
  tensorMemory,
} from "../models/mod.ts";
import {
  backendOption,
  gitRevision,
  loadavg,
  type LogRecord,
  type MachineInfo,
  machineInfo,
  MATMUL_SHAPES,
  matmulGflops,
  type MatmulShape,
  median,
  openPeakWorkers,
  type PeakWorkers,
  percentile,
  print,
  repsFor,
  ROOT,
  saveSeededModel,
  type ServerProcess,
  shapeName,
  spawnServer,
} from "./_bench.ts";

/** The sizes and time budgets of one run. */
export interface RunSizes {
  /** Timesteps T (the image is 28 × 7T). */
  steps: number;
  /** The large batch (50 in the issues). */
  batch: number;
  /**
   * Seconds of untimed calls before each figure's timed ones: V8 compiles
   * the hot paths of the server's workers over hundreds of calls (the
   * in-process pool ran ExplainBatch R-LSTM LRP at 3,410/s after 8 warm-up
   * batches and at 5,594/s after 400, and its V8 helper threads' CPU per
   * batch fell from 4.3 to 1.3 ms), and a long-running server is measured
   * in that steady state.
   */
  warmUpSeconds: number;
  /** Seconds of timed calls per figure. */
  cellSeconds: number;
  /** Fewest timed calls per figure. */
  minCalls: number;
  /** Milliseconds of one timed matmul round. */
  peakRoundMs: number;
  /** Timed matmul rounds per measuring point. */
  peakRounds: number;
  /** Seconds of training progress per architecture. */
  trainSeconds: number;
}

/** Thesis sizes: T = 12, batch 50. */
export const FULL_SIZES: RunSizes = {
  steps: 12,
  batch: 50,
  warmUpSeconds: 5,
  cellSeconds: 3,
  minCalls: 6,
  peakRoundMs: 250,
  peakRounds: 3,
  trainSeconds: 8,
};

/** A smoke run: tiny sizes, a fraction of a second per figure. */
export const QUICK_SIZES: RunSizes = {
  steps: 4,
  batch: 4,
  warmUpSeconds: 0,
  cellSeconds: 0.1,
  minCalls: 2,
  peakRoundMs: 20,
  peakRounds: 1,
  trainSeconds: 0.5,
};

const COLUMNS = 7;
const ROWS = 28;
const ARCHS: readonly Architecture[] = ["r_lstm", "conv_r_lstm", "deep"];
const ARCH_LABEL: Record<string, string> = {
  "r_lstm": "R-LSTM",
  "conv_r_lstm": "ConvR-LSTM",
  deep: "Deep",
};
const WIRE_ARCH: Record<string, WireArchitecture> = {
  "r_lstm": WireArchitecture.ARCHITECTURE_R_LSTM,
  "conv_r_lstm": WireArchitecture.ARCHITECTURE_CONV_R_LSTM,
  deep: WireArchitecture.ARCHITECTURE_DEEP,
};

/** One explanation method as sent on the wire. */
interface Explainer {
  label: string;
  method: Method;
  params: PartialMessage<ExplainerParams>;
}

const SENSITIVITY: Explainer = {
  label: "sensitivity",
  method: Method.METHOD_SENSITIVITY,
  params: {},
};
const GUIDED: Explainer = {
  label: "guided backprop",
  method: Method.METHOD_GUIDED_BACKPROP,
  params: {},
};
const LRP: Explainer = {
  label: "LRP-α1.5β0.5",
  method: Method.METHOD_LRP_ALPHA_BETA,
  params: { alpha: 1.5, beta: 0.5 },
};
const DEEP_TAYLOR: Explainer = {
  label: "deep Taylor",
  method: Method.METHOD_DEEP_TAYLOR,
  params: {},
};

/** Which methods each architecture is measured with (Deep: the PyTorch table's). */
const EXPLAIN_CASES: readonly [Architecture, readonly Explainer[]][] = [
  ["r_lstm", [SENSITIVITY, GUIDED, LRP, DEEP_TAYLOR]],
  ["conv_r_lstm", [SENSITIVITY, GUIDED, LRP, DEEP_TAYLOR]],
  ["deep", [LRP, DEEP_TAYLOR]],
];

/** PyTorch 1.13 + OpenBLAS on a 2-core machine, batch 50, T = 12 (issue #8). */
export const PYTORCH: Record<string, {
  training: number;
  classify: number;
  lrp: number;
  deepTaylor: number;
  lrpLatencyMs: number;
}> = {
  deep: {
    training: 4070,
    classify: 19220,
    lrp: 2895,
    deepTaylor: 3773,
    lrpLatencyMs: 5.6,
  },
  "r_lstm": {
    training: 3785,
    classify: 17605,
    lrp: 4399,
    deepTaylor: 4794,
    lrpLatencyMs: 3.7,
  },
  "conv_r_lstm": {
    training: 591,
    classify: 3265,
    lrp: 688,
    deepTaylor: 944,
    lrpLatencyMs: 14.5,
  },
};

/** cblas_sgemm 512³ on two threads on these machines, the PyTorch figures' peak (issue #8). */
export const PYTORCH_GEMM_PEAK_GFLOPS = 201;

/** Timings of one figure: every call's latency, and the wall time of all. */
interface Cell {
  /** Per-call latency, ms. */
  latencies: number[];
  /** Per-call time to the first streamed message, ms (streams only). */
  firsts: number[];
  /** Wall time from the first timed call's start to the last one's end, ms. */
  wallMs: number;
  /** Items (sequences) per call. */
  batch: number;
  /** Calls in flight at once. */
  concurrency: number;
}

interface Timed {
  latency: number;
  first?: number;
}

/**
 * Timed calls that failed with UNAVAILABLE, by message: they are left out
 * of the figures and counted in the report. None are expected (the server
 * no longer recycles HTTP/2 connections, which cost calls; see
 * docs/deployment.md), so a count above zero is a finding. Any other
 * failure ends the run.
 */
const failedCalls = new Map<string, number>();

/** Runs one timed call; `undefined` when it failed with UNAVAILABLE (counted). */
async function attempt(call: () => Promise<Timed>): Promise<Timed | undefined> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof RpcError) || error.code !== Status.UNAVAILABLE) {
      throw error;
    }
    failedCalls.set(error.details, (failedCalls.get(error.details) ?? 0) + 1);
    return undefined;
  }
}

/**
 * Runs `call` from `concurrency` loops, first once per loop untimed (each
 * worker loads the model) and then untimed for `warmUpSeconds`, then timed
 * until `cellSeconds` passed and at least `minCalls` calls were timed.
 */
async function measure(
  concurrency: number,
  sizes: RunSizes,
  batch: number,
  call: () => Promise<Timed>,
): Promise<Cell> {
  await Promise.all(Array.from({ length: concurrency }, () => attempt(call)));
  const warm = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() - warm < sizes.warmUpSeconds * 1000) {
      await attempt(call);
    }
  }));
  const latencies: number[] = [];
  const firsts: number[] = [];
  const start = performance.now();
  const loop = async () => {
    while (
      performance.now() - start < sizes.cellSeconds * 1000 ||
      latencies.length < sizes.minCalls
    ) {
      const t = await attempt(call);
      if (t === undefined) continue;
      latencies.push(t.latency);
      if (t.first !== undefined) firsts.push(t.first);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return {
    latencies,
    firsts,
    wallMs: performance.now() - start,
    batch,
    concurrency,
  };
}

function perSecond(cell: Cell): number {
  return (cell.latencies.length * cell.batch) / (cell.wallMs / 1000);
}

/** A peak measuring point: this thread and the pool, each shape. */
interface PeakPoint {
  single: number[];
  pool: number[];
}

/** The GEMM peaks of the run, by shape name. */
type Peaks = Map<string, PeakPoint>;

async function measurePeaks(
  peaks: Peaks,
  sizes: RunSizes,
  workers: PeakWorkers,
): Promise<void> {
  for (const shape of MATMUL_SHAPES) {
    const point = peaks.get(shapeName(shape)) ?? { single: [], pool: [] };
    peaks.set(shapeName(shape), point);
    // Size the rounds from a short probe, so each lasts about peakRoundMs.
    const reps = repsFor(shape, matmulGflops(shape, 2), sizes.peakRoundMs);
    for (let r = 0; r < sizes.peakRounds; r++) {
      point.single.push(matmulGflops(shape, reps));
    }
    point.pool.push(...await workers.measure(shape, reps, sizes.peakRounds));
  }
}

function best(values: readonly number[]): number {
  return Math.max(...values);
}

function randomInputs(count: number, size: number, seed: number): Float32Array {
  const random = new Random(seed);
  return Float32Array.from(
    { length: count * size },
    () => 2 * random.next() - 1,
  );
}

/** What the run measured, ready to format. */
interface Results {
  sizes: RunSizes;
  quick: boolean;
  command: string;
  /** The commit measured, if known. */
  revision: string | undefined;
  date: string;
  durationS: number;
  machine: MachineInfo;
  loadBefore: number[] | undefined;
  loadAfter: number[] | undefined;
  backend: string;
  workerBackends: readonly string[];
  peaks: Peaks;
  /** The pool's 512³ peak on plain wasm when the server's backend is another. */
  wasmPeak: number | undefined;
  flops: Map<string, { forward: number; training: number }>;
  memory: MemoryRow[];
  explain: ExplainRow[];
  /** LRP batch 1, one call at a time. */
  latency: ExplainRow[];
  classify: ClassifyRow[];
  training: TrainingRow[];
}

interface MemoryRow {
  arch: Architecture;
  parameters: number;
  tensorBytes: number;
  tensors: number;
  rssBefore: number;
  rssAfter: number;
  workerTensors: number[];
}

interface ExplainRow {
  arch: Architecture;
  explainer: Explainer;
  cell: Cell;
  streamed: boolean;
}

interface ClassifyRow {
  arch: Architecture;
  cell: Cell;
}

interface TrainingRow {
  arch: Architecture;
  /** From the progress stream's step counter over the client's clock, after the first update. */
  steady: number;
  /** The job's own last reported samples/s (cumulative since its first step). */
  reported: number;
  updates: number;
}

/** Options of {@linkcode runReport}. */
export interface ReportOptions {
  /** Tiny sizes for a smoke run. */
  quick: boolean;
  /** Where the Markdown goes. */
  out: string;
  /** Extra server flags (`--workers=N`, `--backend=NAME`). */
  serverFlags: readonly string[];
  /** The command line quoted in the report. */
  command: string;
}

/**
 * Runs every benchmark, prints the report and writes it to `options.out`,
 * formatted by `deno fmt` with the project's settings.
 *
 * @param options sizes, output path, server flags and the quoted command
 * @returns the Markdown written
 * @throws {Error} if the server fails to start or a call fails
 */
export async function runReport(options: ReportOptions): Promise<string> {
  const started = performance.now();
  const sizes = options.quick ? QUICK_SIZES : FULL_SIZES;
  const loadBefore = loadavg();
  const machine = await machineInfo();
  const revision = await gitRevision();
  await Deno.mkdir(`${ROOT}data`, { recursive: true });
  const dir = await Deno.makeTempDir({
    dir: `${ROOT}data`,
    prefix: "bench_report_",
  });
  const relativeDir = dir.slice(ROOT.length);
  try {
    const specs = new Map<Architecture, ModelSpec>(
      ARCHS.map((a) => [
        a,
        createSpec({
          architecture: a,
          steps: sizes.steps,
          columns: COLUMNS,
        }),
      ]),
    );
    const parameters = new Map<Architecture, number>();
    // Saving needs a backend in this process; the server's workers pick
    // theirs, and the peaks below re-check that this thread matches them.
    // The same choice as the server's ("auto" unless --backend is given);
    // checked against its workers' below.
    const local = await initBackend(backendOption(options.serverFlags, "auto"));
    for (const [arch, spec] of specs) {
      parameters.set(
        arch,
        (await saveSeededModel(relativeDir, arch, spec)).parameters,
      );
    }
    const logs: LogRecord[] = [];
    await using server = await spawnServer({
      checkpointDir: relativeDir,
      flags: options.serverFlags,
      onLog: (r) => {
        if (r.msg === "Explained" || r.msg === "Explained batch") logs.push(r);
      },
    });
    const workers = server.workerBackends.length;
    const backend = server.workerBackends[0]!;
    if (backend !== local.name) {
      throw new Error(
        `Cannot compare with the server's peak: its workers use "${backend}", this process "${local.name}"; pass --backend=${backend}`,
      );
    }
    using peakWorkers = await openPeakWorkers(
      workers,
      backend as BackendChoice,
    );
    // The plain wasm peak beside a BLAS-backed one, for reference.
    const wasmPeak = backend === "wasm" ? undefined : await (async () => {
      using wasm = await openPeakWorkers(workers, "wasm");
      const shape = MATMUL_SHAPES[0]!;
      const reps = repsFor(shape, 10, sizes.peakRoundMs);
      return best(await wasm.measure(shape, reps, sizes.peakRounds));
    })();
    using client = createRnnExplainClient(`127.0.0.1:${server.port}`, {
      defaultTimeoutMs: 600_000,
    });
    const size = sizes.steps * ROWS * COLUMNS;
    const x = randomInputs(sizes.batch, size, 3);
    const inputs: PartialMessage<Input>[] = Array.from(
      { length: sizes.batch },
      (_, n) => ({
        source: {
          $case: "tensor" as const,
          tensor: encodeTensor(x.subarray(n * size, (n + 1) * size), [
            sizes.steps,
            ROWS,
            COLUMNS,
          ]),
        },
      }),
    );

    progress("memory per loaded model");
    const { memory, flops } = await measureMemory(
      server,
      client,
      specs,
      parameters,
      inputs[0]!,
      workers,
      logs,
    );

    const peaks: Peaks = new Map();
    progress("matmul peak (1 of 3)");
    await measurePeaks(peaks, sizes, peakWorkers);

    const explain: ExplainRow[] = [];
    for (const [arch, explainers] of EXPLAIN_CASES) {
      for (const explainer of explainers) {
        progress(`Explain ${ARCH_LABEL[arch]} ${explainer.label}`);
        const streamed = () =>
          timedExplain(client, arch, inputs[0]!, explainer, sizes.steps);
        explain.push({
          arch,
          explainer,
          streamed: true,
          cell: await measure(workers, sizes, 1, streamed),
        });
        explain.push({
          arch,
          explainer,
          streamed: false,
          cell: await measure(workers, sizes, sizes.batch, async () => {
            const t0 = performance.now();
            await client.explainBatch({ modelId: arch, inputs, explainer });
            return { latency: performance.now() - t0 };
          }),
        });
      }
    }
    // Batch-1 latency with nothing else in flight (the PyTorch figure's way).
    const latency: ExplainRow[] = [];
    for (const arch of ARCHS) {
      progress(`Explain ${ARCH_LABEL[arch]} one call at a time`);
      latency.push({
        arch,
        explainer: LRP,
        streamed: true,
        cell: await measure(
          1,
          sizes,
          1,
          () => timedExplain(client, arch, inputs[0]!, LRP, sizes.steps),
        ),
      });
    }
    progress("matmul peak (2 of 3)");
    await measurePeaks(peaks, sizes, peakWorkers);

    const classify: ClassifyRow[] = [];
    for (const arch of ARCHS) {
      progress(`Classify ${ARCH_LABEL[arch]}`);
      for (const batch of [1, sizes.batch]) {
        const some = inputs.slice(0, batch);
        classify.push({
          arch,
          cell: await measure(workers, sizes, batch, async () => {
            const t0 = performance.now();
            await client.classify({ modelId: arch, inputs: some });
            return { latency: performance.now() - t0 };
          }),
        });
      }
    }

    const training: TrainingRow[] = [];
    for (const arch of ARCHS) {
      progress(`training ${ARCH_LABEL[arch]}`);
      training.push(await measureTraining(client, arch, sizes));
    }
    progress("matmul peak (3 of 3)");
    await measurePeaks(peaks, sizes, peakWorkers);

    // Close the client first: a GOAWAY from a stopping server to an open
    // client connection can abort Deno's HTTP/2 (an nghttp2 assertion).
    client.close();
    peakWorkers.close();
    await server.stop();
    const markdown = format({
      sizes,
      quick: options.quick,
      command: options.command,
      revision,
      date: new Date().toISOString(),
      durationS: (performance.now() - started) / 1000,
      machine,
      loadBefore,
      loadAfter: loadavg(),
      backend,
      workerBackends: server.workerBackends,
      peaks,
      wasmPeak,
      flops,
      memory,
      explain,
      latency,
      classify,
      training,
    });
    await Deno.writeTextFile(options.out, markdown);
    // The gate runs `deno fmt --check` over docs/: write it formatted.
    const formatted = await formatMarkdown(options.out) ?? markdown;
    print(formatted);
    return formatted;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Formats a Markdown file in place with `deno fmt` (the project's settings
 * when it lies inside the project) and returns the result, or `undefined`
 * (with a warning) when it cannot be formatted, e.g. outside any fmt scope.
 */
async function formatMarkdown(path: string): Promise<string | undefined> {
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", path],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) {
    progress(
      `could not format "${path}": ${new TextDecoder().decode(stderr).trim()}`,
    );
    return undefined;
  }
  return await Deno.readTextFile(path);
}

/** One streamed Explain call: its latency and time to the first message. */
async function timedExplain(
  client: RnnExplainClient,
  modelId: string,
  input: PartialMessage<Input>,
  explainer: Explainer,
  steps: number,
): Promise<Timed> {
  const t0 = performance.now();
  let first: number | undefined;
  let messages = 0;
  for await (const _ of client.explain({ modelId, input, explainer })) {
    if (messages++ === 0) first = performance.now() - t0;
  }
  if (messages !== steps + 1) {
    throw new Error(
      `Cannot time Explain: expected ${steps + 1} messages: got ${messages}`,
    );
  }
  return { latency: performance.now() - t0, first };
}

function progress(what: string): void {
  // Progress goes to stderr so that stdout is the report alone.
  // deno-lint-ignore no-console
  console.error(`bench: ${what}`);
}

/** The workers' live tensor counts in the latest explain log line. */
function latestWorkerTensors(logs: readonly LogRecord[]): number[] {
  const last = logs.at(-1);
  return Array.isArray(last?.workerTensors)
    ? (last.workerTensors as unknown[]).map(Number)
    : [];
}

async function measureMemory(
  server: ServerProcess,
  client: RnnExplainClient,
  specs: Map<Architecture, ModelSpec>,
  parameters: Map<Architecture, number>,
  input: PartialMessage<Input>,
  workers: number,
  logs: LogRecord[],
): Promise<{
  memory: MemoryRow[];
  flops: Map<string, { forward: number; training: number }>;
}> {
  const memory: MemoryRow[] = [];
  const flops = new Map<string, { forward: number; training: number }>();
  for (const [arch, spec] of specs) {
    // The model's own tensors, built on this thread's (the same) backend.
    const before = tensorMemory();
    const model = createModel(spec, { seed: 1 });
    const after = tensorMemory();
    flops.set(arch, countFlops(model.graph));
    model.dispose();
    if (tensorMemory().numTensors !== before.numTensors) {
      throw new Error(
        `Cannot measure model memory: ${
          tensorMemory().numTensors - before.numTensors
        } tensors of "${arch}" leaked`,
      );
    }
    const rssBefore = await server.rssBytes();
    // Two rounds of one call per worker: every worker loads the model.
    for (let round = 0; round < 2; round++) {
      await Promise.all(
        Array.from({ length: workers }, async () => {
          for await (
            const _ of client.explain({
              modelId: arch,
              input,
              explainer: SENSITIVITY,
            })
          ) {
            // Drain the stream.
          }
        }),
      );
    }
    // Let the server's debug line about the last call reach us.
    await new Promise((resolve) => setTimeout(resolve, 200));
    memory.push({
      arch,
      parameters: parameters.get(arch)!,
      tensorBytes: after.numBytes - before.numBytes,
      tensors: after.numTensors - before.numTensors,
      rssBefore,
      rssAfter: await server.rssBytes(),
      workerTensors: latestWorkerTensors(logs),
    });
  }
  return { memory, flops };
}

async function measureTraining(
  client: RnnExplainClient,
  arch: Architecture,
  sizes: RunSizes,
): Promise<TrainingRow> {
  const { job } = await client.startTraining({
    spec: {
      architecture: WIRE_ARCH[arch],
      steps: sizes.steps,
      columns: COLUMNS,
    },
    config: {
      data: {
        dataset: Dataset.DATASET_MNIST,
        // Majority needs 3 digits side by side: 84 columns, T = 12 at c = 7.
        problem: sizes.steps * COLUMNS === 84
          ? Problem.PROBLEM_MAJORITY
          : Problem.PROBLEM_SEQUENCE,
        seed: 1,
      },
      epochs: 1,
      batchSize: sizes.batch,
      seed: 1,
      maxTrainSamples: sizes.batch * 200,
    },
    displayName: `bench ${arch}`,
  });
  if (job === undefined) {
    throw new Error("Cannot time training: StartTraining returned no job");
  }
  const points: { t: number; samples: number }[] = [];
  let reported = NaN;
  let first: number | undefined;
  let cancelled = false;
  for await (const update of client.watchTraining({ jobId: job.id })) {
    if (update.state === JobState.JOB_STATE_FAILED) {
      throw new Error(
        `Cannot time training of "${arch}": the job failed: ${update.error}`,
      );
    }
    const p = update.progress;
    if (update.state !== JobState.JOB_STATE_RUNNING || p === undefined) {
      continue;
    }
    // The job's first update (step 0, no steps per epoch yet) comes before
    // its data is loaded; the next ones follow each step of the one epoch.
    if (p.step < 1 || p.stepsPerEpoch === 0) continue;
    reported = p.samplesPerSecond;
    const samples = p.step * sizes.batch;
    if (points.length === 0 || samples > points.at(-1)!.samples) {
      points.push({ t: performance.now(), samples });
    }
    first ??= performance.now();
    if (
      !cancelled && points.length >= 3 &&
      performance.now() - first > sizes.trainSeconds * 1000
    ) {
      cancelled = true;
      await client.cancelTraining({ jobId: job.id });
    }
  }
  // The first point ends the first (slowest, kernel-compiling) step.
  const a = points[0];
  const b = points.at(-1);
  const steady = a !== undefined && b !== undefined && b.t > a.t
    ? (b.samples - a.samples) / ((b.t - a.t) / 1000)
    : NaN;
  return { arch, steady, reported, updates: points.length };
}

// ---------------------------------------------------------------- format

function fixed(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "n/a";
}

function mib(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : "n/a";
}

function kib(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(1)} KiB` : "n/a";
}

function loadText(load: number[] | undefined): string {
  return load === undefined
    ? "unknown (no --allow-sys=loadavg)"
    : load.map((l) => l.toFixed(2)).join(", ");
}

/** The pool peak of a shape: the best round of every measuring point. */
function poolPeak(r: Results, shape: MatmulShape = MATMUL_SHAPES[0]!): number {
  return best(r.peaks.get(shapeName(shape))!.pool);
}

function singlePeak(
  r: Results,
  shape: MatmulShape = MATMUL_SHAPES[0]!,
): number {
  return best(r.peaks.get(shapeName(shape))!.single);
}

/** FLOPs of one explanation: the forward pass and one backward product per forward product (a lower bound). */
function explainFlops(r: Results, arch: string): number {
  return 2 * r.flops.get(arch)!.forward;
}

function percentOf(gflops: number, peak: number): string {
  return `${fixed((100 * gflops) / peak, 1)}%`;
}

function format(r: Results): string {
  const lines: string[] = [];
  const add = (...l: string[]) => lines.push(...l);
  const p512 = poolPeak(r);
  const s512 = singlePeak(r);
  const loaded = (r.loadBefore?.[0] ?? 0) > r.machine.cores * 0.5;
  add(
    "# Benchmarks",
    "",
    `Produced by \`${r.command}\` (scripts/bench_report.ts) on ${r.date}, in ${
      fixed(r.durationS)
    } s. Every figure below was measured in this run, end to end over gRPC against the real server started as its own process, unless a row says otherwise.`,
    "",
  );
  if (r.quick) {
    add(
      "> **Quick smoke run** (`--quick`): tiny sizes (T = 4, batch 4) and a fraction of a second per figure. The numbers only show that every measurement runs; they are not benchmarks.",
      "",
    );
  }
  if (loaded) {
    add(
      `> **The machine was loaded** (load average ${
        loadText(r.loadBefore)
      } before the run on ${r.machine.cores} cores): other processes shared the CPU, so absolute figures are low and noisy. Compare the ratios to the GEMM peak measured in the same run.`,
      "",
    );
  }
  add(
    "## Machine and run",
    "",
    "| | |",
    "| --- | --- |",
    `| CPU | ${r.machine.cpu} |`,
    `| cores | ${r.machine.cores} |`,
    `| load average before (1, 5, 15 min) | ${loadText(r.loadBefore)} |`,
    `| load average after | ${loadText(r.loadAfter)} |`,
    `| Deno | ${Deno.version.deno} (V8 ${Deno.version.v8}) |`,
    `| TensorFlow.js | ${tf.version_core} |`,
    `| backend (every server worker) | ${r.backend} |`,
    `| server workers (default pool) | ${r.workerBackends.length} |`,
    `| sizes | T = ${r.sizes.steps}, 28 × ${
      r.sizes.steps * COLUMNS
    } inputs, c = ${COLUMNS}, large batch ${r.sizes.batch}, randomly initialised models (seed 1), random inputs in [-1, 1) |`,
    `| date | ${r.date} |`,
    `| command | \`${r.command}\` |`,
    `| commit | ${r.revision ?? "unknown (not run in a git checkout)"} |`,
    `| calls failed with UNAVAILABLE (left out of the figures) | ${
      failedCalls.size === 0
        ? "none"
        : [...failedCalls].map(([m, n]) => `${n} × "${m}"`).join(", ")
    } |`,
    "",
  );

  add(
    "## GEMM peak (same run)",
    "",
    `Random float32 matrices multiplied with \`tf.matMul\` on the ${r.backend} backend and read back, in this process's thread ("1 worker") and in ${r.workerBackends.length} Deno workers at once, each with its own backend like the server's pool ("pool"). Measured three times (before the Explain figures, between Explain and Classify, after training); the best round is the peak, the median shows the spread. GFLOP/s count 2·m·k·n per product.${
      r.backend === "blas"
        ? " On `blas`, `tf.matMul` runs the system OpenBLAS's `cblas_sgemm` through FFI (one OpenBLAS thread per worker unless RNN_EXPLAIN_BLAS_THREADS says otherwise), so these are the sgemm peaks as TF.js reaches them; the plain `wasm` peak is given for reference."
        : ""
    }`,
    "",
    "| product | 1 worker best (median) GFLOP/s | pool best (median) GFLOP/s | rounds |",
    "| --- | ---: | ---: | ---: |",
  );
  for (const shape of MATMUL_SHAPES) {
    const p = r.peaks.get(shapeName(shape))!;
    add(
      `| ${shapeName(shape)} | ${fixed(best(p.single), 1)} (${
        fixed(median(p.single), 1)
      }) | ${fixed(best(p.pool), 1)} (${
        fixed(median(p.pool), 1)
      }) | ${p.single.length} + ${p.pool.length} |`,
    );
  }
  if (r.wasmPeak !== undefined) {
    add(
      `| 512×512×512 on plain wasm (reference, measured once) | | ${
        fixed(r.wasmPeak, 1)
      } | |`,
    );
  }
  add(
    "",
    `Compute figures below are read against the pool's 512³ peak (${
      fixed(p512, 1)
    } GFLOP/s), the most the backend multiplied with every worker busy, except training, which runs in one worker and is read against the 1-worker peak (${
      fixed(s512, 1)
    } GFLOP/s). FLOPs per item come from \`countFlops\` (matrix products and convolutions only): Classify = forward; training = forward + backward; an explanation = 2 × forward (the forward pass and one backward product per forward product, a lower bound: LRP-αβ's split products are not counted).`,
    "",
  );

  add(
    "## Explain (end to end over gRPC)",
    "",
    `Batch 1: streamed \`Explain\` (one call per sequence, ${
      r.sizes.steps + 1
    } messages: one per timestep and the summary). Batch ${r.sizes.batch}: \`ExplainBatch\`. ${r.workerBackends.length} calls in flight at once (one per worker, which fills the pool); after one untimed call per worker and ${r.sizes.warmUpSeconds} s of untimed calls (V8 compiles the workers' hot paths over hundreds of calls; a long-running server runs in that steady state), calls repeat for ${r.sizes.cellSeconds} s (at least ${r.sizes.minCalls}). Latency is per call, measured by the client; explanations/s = sequences explained over the wall time.`,
    "",
    "| architecture | method | batch | calls | explanations/s | p50 latency | p99 latency | GFLOP/s (≥) | % of pool peak (≥) |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const e of r.explain) {
    const rate = perSecond(e.cell);
    const gflops = (rate * explainFlops(r, e.arch)) / 1e9;
    add(
      `| ${
        ARCH_LABEL[e.arch]
      } | ${e.explainer.label} | ${e.cell.batch} | ${e.cell.latencies.length} | ${
        fixed(rate, 1)
      } | ${fixed(median(e.cell.latencies), 1)} ms | ${
        fixed(percentile(e.cell.latencies, 0.99), 1)
      } ms | ${fixed(gflops, 2)} | ${percentOf(gflops, p512)} |`,
    );
  }
  add("");

  add(
    "## Time to the first streamed timestep",
    "",
    `From the batch-1 streamed Explain calls above: the client's time from sending the request to receiving the first timestep's relevance, against the time to the summary (medians).`,
    "",
    "| architecture | method | first timestep p50 | whole stream p50 | share |",
    "| --- | --- | ---: | ---: | ---: |",
  );
  for (const e of r.explain.filter((e) => e.streamed)) {
    const first = median(e.cell.firsts);
    const total = median(e.cell.latencies);
    add(
      `| ${ARCH_LABEL[e.arch]} | ${e.explainer.label} | ${
        fixed(first, 1)
      } ms | ${fixed(total, 1)} ms | ${fixed((100 * first) / total, 0)}% |`,
    );
  }
  add("");

  add(
    "## Batch-1 latency, one call at a time",
    "",
    `Streamed \`Explain\` of LRP-α1.5β0.5 at batch 1 with no other call in flight (the server's other worker idle), after ${r.sizes.warmUpSeconds} s of untimed calls, repeated for ${r.sizes.cellSeconds} s (at least ${r.sizes.minCalls} calls). These are the latencies the PyTorch table and the issue #8 targets use.`,
    "",
    "| architecture | calls | p50 latency | p99 latency | first timestep p50 | share of the whole stream |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const e of r.latency) {
    const total = median(e.cell.latencies);
    const first = median(e.cell.firsts);
    add(
      `| ${ARCH_LABEL[e.arch]} | ${e.cell.latencies.length} | ${
        fixed(total, 1)
      } ms | ${fixed(percentile(e.cell.latencies, 0.99), 1)} ms | ${
        fixed(first, 1)
      } ms | ${fixed((100 * first) / total, 0)}% |`,
    );
  }
  add("");

  add(
    "## Classify (end to end over gRPC)",
    "",
    `\`Classify\` with 1 and ${r.sizes.batch} inputs per call, ${r.workerBackends.length} calls in flight, timed like Explain.`,
    "",
    "| architecture | batch | calls | samples/s | p50 latency | p99 latency | GFLOP/s | % of pool peak |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const c of r.classify) {
    const rate = perSecond(c.cell);
    const gflops = (rate * r.flops.get(c.arch)!.forward) / 1e9;
    add(
      `| ${
        ARCH_LABEL[c.arch]
      } | ${c.cell.batch} | ${c.cell.latencies.length} | ${fixed(rate, 1)} | ${
        fixed(median(c.cell.latencies), 1)
      } ms | ${fixed(percentile(c.cell.latencies, 0.99), 1)} ms | ${
        fixed(gflops, 2)
      } | ${percentOf(gflops, p512)} |`,
    );
  }
  add("");

  add(
    "## Training (StartTraining over RPC)",
    "",
    `A \`StartTraining\` job per architecture (embedded MNIST, ${
      r.sizes.steps * COLUMNS === 84 ? "majority" : "sequence"
    } task, batch ${r.sizes.batch}, Adam), watched with \`WatchTraining\` and cancelled after ${r.sizes.trainSeconds} s of progress. The job reports every step. Steady samples/s: samples of the steps between the end of the first step and the last update, over the client's clock (the first step, which compiles kernels, is left out). Reported: the job's own cumulative samples/s in its last update (its first step included). A job runs in one worker.`,
    "",
    "| architecture | samples/s steady | samples/s reported by the job | progress updates | GFLOP/s | % of 1-worker peak |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const t of r.training) {
    const gflops = (t.steady * r.flops.get(t.arch)!.training) / 1e9;
    add(
      `| ${ARCH_LABEL[t.arch]} | ${fixed(t.steady, 1)} | ${
        fixed(t.reported, 1)
      } | ${t.updates} | ${fixed(gflops, 2)} | ${percentOf(gflops, s512)} |`,
    );
  }
  add("");

  add(
    "## Memory per loaded model",
    "",
    `Models loaded one after another: each is first used by every worker (${r.workerBackends.length} batch-1 sensitivity Explain calls at once, twice). Server RSS: \`VmRSS\` of the server process (all its workers are threads of it) before and after; the growth also holds the wasm heap grown by the first explanations, so it is an upper bound. Worker tensors: the live tensor count of each worker after its last call, from the server's debug log (\`workerTensors\`). Tensor bytes: the model's weights built in this process on the same backend (\`tf.memory()\` before and after), what each worker's model cache holds per model.`,
    "",
    "| model | parameters | tensors | tensor bytes (per worker) | server RSS before | server RSS after | RSS growth | worker tensors after |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  );
  for (const m of r.memory) {
    add(
      `| ${ARCH_LABEL[m.arch]} | ${m.parameters} | ${m.tensors} | ${
        kib(m.tensorBytes)
      } | ${mib(m.rssBefore)} | ${mib(m.rssAfter)} | ${
        mib(m.rssAfter - m.rssBefore)
      } | ${m.workerTensors.join(", ") || "n/a"} |`,
    );
  }
  add("");

  add(
    "## Against PyTorch (issue #8)",
    "",
    `PyTorch 1.13 + OpenBLAS on one of these 2-core machines (float32, batch 50, majority task, T = 12), as quoted in issue #8, against this run. "Per peak" divides a throughput by the GEMM peak it ran beside: ours by this run's pool 512³ peak (${
      fixed(p512, 1)
    } GFLOP/s on ${r.backend}), PyTorch's by the 512³ two-thread \`cblas_sgemm\` figure of issue #8 (${PYTORCH_GEMM_PEAK_GFLOPS} GFLOP/s; not measured in this run). "Relative to peak" is our per-peak figure over PyTorch's: ≥ 1.0× means we use our backend at least as well as PyTorch uses OpenBLAS. Latency is the other way round (lower is better; per peak = latency × peak).`,
    "",
    "| architecture | figure | PyTorch | ours | ours / PyTorch | PyTorch per peak | ours per peak | relative to peak |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  const rateOf = (arch: string, method: Method) => {
    const row = r.explain.find((e) =>
      e.arch === arch && e.explainer.method === method && !e.streamed
    );
    return row === undefined ? NaN : perSecond(row.cell);
  };
  for (const arch of ARCHS) {
    const torch = PYTORCH[arch]!;
    const training = r.training.find((t) => t.arch === arch)?.steady ?? NaN;
    const classifyRow = r.classify.find((c) =>
      c.arch === arch && c.cell.batch === r.sizes.batch
    );
    const lrpLatency = r.latency.find((e) => e.arch === arch);
    const figures: [string, number, number, boolean][] = [
      ["training samples/s", torch.training, training, true],
      [
        "classify samples/s",
        torch.classify,
        classifyRow === undefined ? NaN : perSecond(classifyRow.cell),
        true,
      ],
      [
        "LRP-α1.5β0.5 explanations/s",
        torch.lrp,
        rateOf(arch, Method.METHOD_LRP_ALPHA_BETA),
        true,
      ],
      [
        "deep Taylor explanations/s",
        torch.deepTaylor,
        rateOf(arch, Method.METHOD_DEEP_TAYLOR),
        true,
      ],
      [
        "LRP batch-1 latency p50 (ms)",
        torch.lrpLatencyMs,
        lrpLatency === undefined ? NaN : median(lrpLatency.cell.latencies),
        false,
      ],
    ];
    for (const [figure, theirs, ours, higherIsBetter] of figures) {
      const theirsPer = higherIsBetter
        ? theirs / PYTORCH_GEMM_PEAK_GFLOPS
        : theirs * PYTORCH_GEMM_PEAK_GFLOPS;
      const oursPer = higherIsBetter ? ours / p512 : ours * p512;
      const relative = higherIsBetter
        ? oursPer / theirsPer
        : theirsPer / oursPer;
      add(
        `| ${ARCH_LABEL[arch]} | ${figure} | ${theirs} | ${
          fixed(ours, higherIsBetter ? 0 : 1)
        } | ${fixed(ours / theirs, 3)}× | ${fixed(theirsPer, 2)} | ${
          fixed(oursPer, 2)
        } | ${fixed(relative, 2)}× |`,
      );
    }
  }
  add(
    "",
    r.quick
      ? "In a quick run the sizes differ from PyTorch's (T = 4, batch 4), so this table only checks that it is filled in."
      : "Our training figure is the steady samples/s of one job in one worker; PyTorch trained with both cores.",
    "",
  );
  addTargets(r, add);
  return lines.join("\n");
}

/** The acceptance targets of issue #8, each against this run's figure. */
function addTargets(r: Results, add: (...l: string[]) => void): void {
  const p512 = poolPeak(r);
  const explainRow = (arch: string, method: Method, streamed: boolean) =>
    r.explain.find((e) =>
      e.arch === arch && e.explainer.method === method &&
      e.streamed === streamed
    );
  const lrpBatch = explainRow("r_lstm", Method.METHOD_LRP_ALPHA_BETA, false);
  const lrpRate = lrpBatch === undefined ? NaN : perSecond(lrpBatch.cell);
  const lrpRelative = (lrpRate / p512) /
    (PYTORCH.r_lstm!.lrp / PYTORCH_GEMM_PEAK_GFLOPS);
  const lrpStream = r.latency.find((e) => e.arch === "r_lstm");
  const latency = lrpStream === undefined
    ? NaN
    : median(lrpStream.cell.latencies);
  const share = lrpStream === undefined
    ? NaN
    : median(lrpStream.cell.firsts) / latency;
  const trainingOf = (arch: string) =>
    r.training.find((t) => t.arch === arch)?.steady ?? NaN;
  const convLrp = explainRow(
    "conv_r_lstm",
    Method.METHOD_LRP_ALPHA_BETA,
    false,
  );
  const convDt = explainRow("conv_r_lstm", Method.METHOD_DEEP_TAYLOR, false);
  const rows: [string, string, boolean][] = [
    [
      "ExplainBatch LRP-α1.5β0.5, R-LSTM, batch 50: ≥ 4,400 explanations/s, or ≥ 1.0× PyTorch relative to peak",
      `${fixed(lrpRate, 1)}/s, ${fixed(lrpRelative, 2)}× relative to peak`,
      lrpRate >= 4400 || lrpRelative >= 1,
    ],
    [
      "Explain batch-1 latency p50, R-LSTM (LRP-α1.5β0.5, one call at a time): ≤ 3.7 ms",
      `${fixed(latency, 1)} ms`,
      latency <= 3.7,
    ],
    [
      "time to the first streamed timestep (same calls): ≤ 15% of the total",
      `${fixed(100 * share, 0)}%`,
      share <= 0.15,
    ],
    [
      "training R-LSTM: ≥ 1,900 samples/s",
      `${fixed(trainingOf("r_lstm"), 1)}/s`,
      trainingOf("r_lstm") >= 1900,
    ],
    [
      "training ConvR-LSTM: ≥ 0.5 × 591 samples/s",
      `${fixed(trainingOf("conv_r_lstm"), 1)}/s`,
      trainingOf("conv_r_lstm") >= 0.5 * PYTORCH.conv_r_lstm!.training,
    ],
    [
      "ExplainBatch ConvR-LSTM LRP-α1.5β0.5: ≥ 0.5 × 688 explanations/s",
      `${fixed(convLrp === undefined ? NaN : perSecond(convLrp.cell), 1)}/s`,
      convLrp !== undefined &&
      perSecond(convLrp.cell) >= 0.5 * PYTORCH.conv_r_lstm!.lrp,
    ],
    [
      "ExplainBatch ConvR-LSTM deep Taylor: ≥ 0.5 × 944 explanations/s",
      `${fixed(convDt === undefined ? NaN : perSecond(convDt.cell), 1)}/s`,
      convDt !== undefined &&
      perSecond(convDt.cell) >= 0.5 * PYTORCH.conv_r_lstm!.deepTaylor,
    ],
  ];
  add(
    "## Acceptance targets of issue #8",
    "",
    r.quick
      ? "Quick run: the sizes are not the targets' (T = 12, batch 50), so this only shows the check runs."
      : `Each target against this run's figure${
        (r.loadBefore?.[0] ?? 0) > r.machine.cores * 0.5
          ? " (on a loaded machine: a target missed here may be met on an idle one)"
          : ""
      }.`,
    "",
    "| target | measured | met |",
    "| --- | ---: | --- |",
    ...rows.map(([target, measured, met]) =>
      `| ${target} | ${measured} | ${met ? "yes" : "no"} |`
    ),
    "",
  );
}

// ---------------------------------------------------------------- main

function parseArgs(args: readonly string[]): ReportOptions {
  let quick = false;
  let out = `${ROOT}docs/benchmarks.md`;
  const serverFlags: string[] = [];
  for (const arg of args) {
    if (arg === "--quick") quick = true;
    else if (arg.startsWith("--out=")) out = arg.slice("--out=".length);
    else if (/^--(workers|backend)=\S+$/.test(arg)) serverFlags.push(arg);
    else {
      throw new TypeError(
        `Cannot run the benchmark report: unknown argument "${arg}" (expected --quick, --out=PATH, --workers=N, --backend=NAME)`,
      );
    }
  }
  const command = ["deno task bench", ...args].join(" ");
  return { quick, out, serverFlags, command };
}

if (import.meta.main) {
  await runReport(parseArgs(Deno.args));
}
