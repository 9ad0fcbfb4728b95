/**
 * The soak: a real server process under a long stream of explanations from
 * concurrent clients, checked for errors and for leaks. By default (`deno
 * task soak`) 10,000 explanations from 16 concurrent clients; flags scale it
 * down (test/integration/soak_test.ts runs 400).
 *
 * 1. Spawns `server/main.ts` (wasm, debug log, a temporary checkpoint folder
 *    under ./data) and trains a tiny R-LSTM over RPC (one epoch, 200 MNIST
 *    sequences of T = 4).
 * 2. Each client takes the next explanation number until all are done,
 *    rotating through six methods and alternating streamed Explain (checks
 *    T step messages then the summary) and ExplainBatch (checks the shape);
 *    every `--cancel-every`-th stream is cancelled by the client after its
 *    first message (exercising the cancel path; CANCELLED is expected there).
 *    Any other error or a wrong answer counts as unexpected.
 * 3. Every `--sample-ms` it samples the compute workers' live tensor counts
 *    (the `workerTensors` the server logs at debug level after each
 *    explanation) and the server process's RSS (`ps -o rss`).
 * 4. Closes the clients, checks that the server process is still alive a
 *    second later, then stops it with SIGTERM (it must exit 0). With
 *    `--shutdown-first` it stops the server before closing the clients, so
 *    that the clients receive the server's GOAWAY instead.
 * 5. Fails (exit 1) on any unexpected error, on any worker tensor growth
 *    after the warm-up (`--tensor-tolerance`, default 0), on RSS growth
 *    after the warm-up beyond `--rss-tolerance-mib`, or when the server died
 *    (see `_soak_verdict.ts`), or on more than `--max-dropped` calls ended
 *    UNAVAILABLE "Connection dropped" (default 0): a call lost with its
 *    connection, which no connection should be while the server runs. Deno
 *    2.9.6 aborts a process that closes an HTTP/2 session inside nghttp2's
 *    GOAWAY callback once the connection has carried ~100 streams
 *    (denoland/deno#36788); server/defer_goaway_close.ts and the client's
 *    copy defer that close, and the connections are no longer recycled.
 *
 * Flags: --explanations=N --clients=N --workers=N --warmup=FRACTION
 * --sample-ms=MS --cancel-every=N --tensor-tolerance=N --rss-tolerance-mib=N
 * --max-dropped=N --json (print the report as one JSON object)
 * --shutdown-first.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import {
  Architecture,
  createRnnExplainClient,
  Dataset,
  decodeTensor,
  encodeTensor,
  JobState,
  Method,
  Problem,
  type RnnExplainClient,
  RpcError,
  Status,
} from "../client/mod.ts";
import { type SoakSample, soakVerdict } from "./_soak_verdict.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const T = 4;
const ROWS = 28;
const C = 7;
const METHODS = [
  Method.METHOD_SENSITIVITY,
  Method.METHOD_GUIDED_BACKPROP,
  Method.METHOD_GRADIENT_X_INPUT,
  Method.METHOD_LRP_ALPHA_BETA,
  Method.METHOD_LRP_EPSILON,
  Method.METHOD_DEEP_TAYLOR,
];

interface SoakOptions {
  explanations: number;
  clients: number;
  workers: number;
  warmup: number;
  sampleMs: number;
  cancelEvery: number;
  tensorTolerance: number;
  rssToleranceMib: number;
  maxDropped: number;
  json: boolean;
  shutdownFirst: boolean;
}

function options(args: string[]): SoakOptions {
  const { values } = parseArgs({
    args,
    options: {
      explanations: { type: "string", default: "10000" },
      clients: { type: "string", default: "16" },
      workers: { type: "string", default: "2" },
      warmup: { type: "string", default: "0.1" },
      "sample-ms": { type: "string", default: "1000" },
      "cancel-every": { type: "string", default: "50" },
      "tensor-tolerance": { type: "string", default: "0" },
      "rss-tolerance-mib": { type: "string", default: "64" },
      "max-dropped": { type: "string", default: "0" },
      json: { type: "boolean", default: false },
      "shutdown-first": { type: "boolean", default: false },
    },
  });
  const int = (name: keyof typeof values, min: number): number => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) {
      throw new RangeError(
        `Cannot parse "--${name}": expected an integer of at least ${min}, found "${
          values[name]
        }"`,
      );
    }
    return n;
  };
  const warmup = Number(values.warmup);
  if (!(warmup >= 0 && warmup < 1)) {
    throw new RangeError(
      `Cannot parse "--warmup": expected a fraction in [0, 1), found "${values.warmup}"`,
    );
  }
  return {
    explanations: int("explanations", 1),
    clients: int("clients", 1),
    workers: int("workers", 1),
    warmup,
    sampleMs: int("sample-ms", 10),
    cancelEvery: int("cancel-every", 0),
    tensorTolerance: int("tensor-tolerance", 0),
    rssToleranceMib: int("rss-tolerance-mib", 0),
    maxDropped: int("max-dropped", 0),
    json: values.json,
    shutdownFirst: values["shutdown-first"],
  };
}

/** The server process and what its log says. */
interface SoakServer {
  child: Deno.ChildProcess;
  port: Promise<number>;
  /** The latest `workerTensors` logged. */
  workerTensors: number[];
  /** Log lines at error level (calls that ended INTERNAL, crashes). */
  errors: string[];
  done: Promise<void>;
}

function startServer(dir: string, workers: number): SoakServer {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      `--allow-read=.,/usr/share/datasets,${dir}`,
      `--allow-write=${dir}`,
      "--allow-env",
      "--allow-sys=hostname,uid,gid",
      "server/main.ts",
      "--port=0",
      `--workers=${workers}`,
      "--backend=wasm",
      "--log-level=debug",
      `--checkpoint-dir=${dir}`,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  const port = Promise.withResolvers<number>();
  const server: SoakServer = {
    child,
    port: port.promise,
    workerTensors: [],
    errors: [],
    done: Promise.resolve(),
  };
  server.done = (async () => {
    let buffer = "";
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) {
        const r = JSON.parse(line) as Record<string, unknown>;
        if (r.msg === "Server started") port.resolve(r.port as number);
        if (Array.isArray(r.workerTensors)) {
          server.workerTensors = r.workerTensors as number[];
        }
        if ((r.level as number) >= 50) server.errors.push(line);
      }
    }
    port.reject(new Error("The server exited before it logged its port"));
  })();
  return server;
}

/**
 * The process's resident set size, from `ps` (Deno lets only `--allow-all`
 * read /proc), or `undefined` where `ps` is missing or fails.
 */
async function rssBytes(pid: number): Promise<number | undefined> {
  try {
    const { success, stdout } = await new Deno.Command("ps", {
      args: ["-o", "rss=", "-p", String(pid)],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    const kib = Number(new TextDecoder().decode(stdout).trim());
    return success && kib > 0 ? kib * 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function trainModel(client: RnnExplainClient): Promise<string> {
  const { job } = await client.startTraining({
    spec: {
      architecture: Architecture.ARCHITECTURE_R_LSTM,
      steps: T,
      columns: C,
      layerSizes: { in1: 16, recur: 8 },
    },
    config: {
      data: {
        dataset: Dataset.DATASET_MNIST,
        problem: Problem.PROBLEM_SEQUENCE,
        seed: 1,
      },
      epochs: 1,
      learningRate: 0.01,
      seed: 3,
      maxTrainSamples: 200,
    },
  });
  let last;
  for await (const update of client.watchTraining({ jobId: job!.id })) {
    last = update;
  }
  if (last?.state !== JobState.JOB_STATE_SUCCEEDED) {
    throw new Error(`Cannot train the soak's model: ${last?.error}`);
  }
  return last.modelId;
}

/** Seeded inputs in [−1, 1], one per explanation number modulo 64. */
function inputFor(n: number) {
  let s = (n % 64) + 1;
  const x = Float32Array.from({ length: T * ROWS * C }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
  return {
    source: {
      $case: "tensor" as const,
      tensor: encodeTensor(x, [T, ROWS * C]),
    },
    label: n % 10,
  };
}

/** What {@linkcode explainOnce} returns for a call its connection dropped. */
const DROPPED = "dropped";

/** Whether `err` is grpc-js's status for a call whose connection closed under it. */
function isDropped(err: unknown): boolean {
  return err instanceof RpcError && err.code === Status.UNAVAILABLE &&
    err.message.includes("Connection dropped");
}

/**
 * Runs explanation `n`; resolves with an error text when it went wrong, or
 * {@linkcode DROPPED} when its connection closed under it.
 */
async function explainOnce(
  client: RnnExplainClient,
  modelId: string,
  n: number,
  cancel: boolean,
): Promise<string | undefined> {
  const request = {
    modelId,
    explainer: { method: METHODS[n % METHODS.length]! },
  };
  const timeoutMs = 60_000;
  try {
    if (n % 2 === 1 && !cancel) {
      const { relevance } = await client.explainBatch(
        { ...request, inputs: [inputFor(n)] },
        { timeoutMs },
      );
      const { shape } = decodeTensor(relevance!);
      return shape.join() === [1, T, ROWS, C].join()
        ? undefined
        : `ExplainBatch ${n}: relevance shape [${shape}]`;
    }
    const controller = new AbortController();
    let messages = 0;
    let summary = false;
    for await (
      const m of client.explain({ ...request, input: inputFor(n) }, {
        timeoutMs,
        signal: controller.signal,
      })
    ) {
      messages++;
      summary = m.event?.$case === "summary";
      if (cancel) controller.abort();
    }
    return messages === T + 1 && summary
      ? undefined
      : `Explain ${n}: ${messages} messages, summary last: ${summary}`;
  } catch (err) {
    if (cancel && err instanceof RpcError && err.code === Status.CANCELLED) {
      return undefined;
    }
    if (isDropped(err)) return DROPPED;
    return `${n % 2 === 1 && !cancel ? "ExplainBatch" : "Explain"} ${n}: ${
      err instanceof Error ? err.message : String(err)
    }`;
  }
}

/** The soak's report. */
export interface SoakReport {
  /** The options it ran with. */
  options: SoakOptions;
  /** Explanations finished (including cancelled streams). */
  explanations: number;
  /** Streams cancelled on purpose. */
  cancelled: number;
  /**
   * Calls ended UNAVAILABLE "Connection dropped" when their connection
   * closed before the client read them (see the module doc); not in `errors`.
   */
  dropped: number;
  /** Unexpected errors (the first 20 texts are in `errorSamples`). */
  errors: number;
  /** Up to 20 unexpected error texts. */
  errorSamples: string[];
  /** Server log lines at error level. */
  serverErrors: number;
  /** Wall time of the explanation phase, seconds. */
  seconds: number;
  /** The samples. */
  samples: SoakSample[];
  /** The verdict. */
  verdict: ReturnType<typeof soakVerdict>;
  /** How the server process ended after its SIGTERM (0 after a clean drain). */
  serverExit: {
    code: number;
    signal: string | null;
    /** Whether it was still running a second after the clients closed. */
    aliveAfterClose: boolean;
  };
}

async function soak(o: SoakOptions): Promise<SoakReport> {
  await Deno.mkdir(`${ROOT}data`, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: `${ROOT}data`, prefix: "soak_" });
  const server = startServer(dir, o.workers);
  const clients: RnnExplainClient[] = [];
  let run: Omit<SoakReport, "serverExit" | "verdict">;
  let exit: Deno.CommandStatus;
  let aliveAfterClose = false;
  try {
    const address = `127.0.0.1:${await server.port}`;
    for (let i = 0; i < o.clients; i++) {
      clients.push(createRnnExplainClient(address));
    }
    const modelId = await trainModel(clients[0]!);
    const errorSamples: string[] = [];
    let errors = 0;
    let next = 0;
    let done = 0;
    let cancelled = 0;
    let dropped = 0;
    const samples: SoakSample[] = [];
    const started = performance.now();
    const sample = async () =>
      samples.push({
        atMs: Math.round(performance.now() - started),
        done,
        workerTensors: [...server.workerTensors],
        rssBytes: await rssBytes(server.child.pid),
      });
    const timer = setInterval(sample, o.sampleMs);
    try {
      await Promise.all(clients.map(async (client) => {
        while (next < o.explanations) {
          const n = next++;
          const cancel = o.cancelEvery > 0 && n % o.cancelEvery === 0;
          const error = await explainOnce(client, modelId, n, cancel);
          done++;
          if (cancel) cancelled++;
          if (error === DROPPED) dropped++;
          else if (error !== undefined) {
            errors++;
            if (errorSamples.length < 20) errorSamples.push(error);
          }
        }
      }));
    } finally {
      clearInterval(timer);
    }
    const seconds = (performance.now() - started) / 1000;
    await sample();
    run = {
      options: o,
      explanations: done,
      cancelled,
      dropped,
      errors,
      errorSamples,
      serverErrors: server.errors.length,
      seconds,
      samples,
    };
  } finally {
    if (!o.shutdownFirst) {
      for (const client of clients) client.close();
      // Closed clients send GOAWAY; the server must outlive them.
      const exited = await Promise.race([
        server.child.status.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 1000)),
      ]);
      aliveAfterClose = !exited;
    }
    try {
      server.child.kill("SIGTERM");
    } catch {
      // already gone
    }
    exit = await server.child.status;
    if (o.shutdownFirst) {
      aliveAfterClose = true;
      for (const client of clients) client.close();
    }
    await server.done.catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
  const verdict = soakVerdict(run.samples, {
    warmupDone: Math.floor(o.warmup * o.explanations),
    tensorTolerance: o.tensorTolerance,
    rssToleranceBytes: o.rssToleranceMib * 2 ** 20,
    errors: run.errors + run.serverErrors,
    ...(aliveAfterClose && exit.code === 0 ? {} : {
      serverDeath: `${
        aliveAfterClose ? "on SIGTERM" : "when the clients closed"
      }, ${
        exit.signal === null
          ? `exit code ${exit.code}`
          : `signal ${exit.signal}`
      }`,
    }),
  });
  if (run.dropped > o.maxDropped) {
    verdict.failures.push(
      `${run.dropped} calls dropped with their connection (at most ${o.maxDropped} allowed)`,
    );
    verdict.ok = false;
  }
  return {
    ...run,
    verdict,
    serverExit: { code: exit.code, signal: exit.signal, aliveAfterClose },
  };
}

function describe(r: SoakReport): string {
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  return [
    `Soak: ${r.explanations} explanations (${r.cancelled} cancelled on purpose) from ${r.options.clients} clients on ${r.options.workers} workers in ${
      r.seconds.toFixed(1)
    } s (${(r.explanations / r.seconds).toFixed(1)}/s)`,
    `Unexpected errors: ${r.errors}; server error log lines: ${r.serverErrors}; calls dropped with their connection: ${r.dropped} (at most ${r.options.maxDropped})`,
    ...r.errorSamples.map((e) => `  ${e}`),
    `Worker tensors after warm-up: [${r.verdict.tensors.baseline}], peak [${r.verdict.tensors.peak}] (tolerance ${r.options.tensorTolerance})`,
    `RSS floor after warm-up: ${
      mib(r.verdict.rss.baseline)
    } MiB, in the second half ${
      mib(r.verdict.rss.final)
    } MiB (tolerance +${r.options.rssToleranceMib} MiB)`,
    `Samples: ${r.samples.length}, every ${r.options.sampleMs} ms`,
    `Server ${
      r.serverExit.aliveAfterClose
        ? "outlived the clients' close; exit after SIGTERM"
        : "DIED after the clients closed; exit"
    }: code ${r.serverExit.code}${
      r.serverExit.signal === null ? "" : `, signal ${r.serverExit.signal}`
    }`,
    r.verdict.ok ? "PASS" : `FAIL\n${r.verdict.failures.join("\n")}`,
  ].join("\n");
}

if (import.meta.main) {
  const o = options(Deno.args);
  const report = await soak(o);
  const text = report.options.json ? JSON.stringify(report) : describe(report);
  await Deno.stdout.write(new TextEncoder().encode(`${text}\n`));
  Deno.exit(report.verdict.ok ? 0 : 1);
}
