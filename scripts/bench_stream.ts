/**
 * Benchmark of explanations over gRPC: a randomly initialised thesis-size
 * R-LSTM at T = 12 (28 × 84 inputs, c = 7), LRP-α1.5β0.5, served by the real
 * server started as its own process (`server/main.ts`, two workers).
 *
 * It prints:
 * 1. streamed Explain, batch 1: 100 sequential calls, p50 and p99 of the
 *    time to the summary and to the first step message, and the median
 *    share first / complete;
 * 2. batch 50 streamed: 50 Explain calls at once (time to each call's
 *    first message, median and 95th percentile; time until all 50 are
 *    done);
 * 3. gRPC + encoding overhead at batch 50, serial: ExplainBatch end to end
 *    against the same task run through `pool.run()` in this process (one
 *    worker, so one request's compute is comparable), one request at a
 *    time, rounds interleaved so both see the same machine load:
 *    (end to end − pool) / pool, with the server's own breakdown and the
 *    CPU time of both processes (from /proc, where there is one) against
 *    the pool's, which machine load disturbs far less than times; and,
 *    per thread of the server, the CPU of its serving threads (main thread
 *    and Deno's I/O threads) as a share of its compute workers' CPU, next
 *    to the same figure for a bare grpc-js echo of the same bytes
 *    (`_grpc_echo.ts`), the floor that gRPC over Deno's `node:http2` sets,
 *    and that echo's round trip for an empty message (the least a call, or
 *    a stream's first message, takes between two processes);
 * 4. the same overhead pipelined: 4 ExplainBatch requests in flight
 *    against the two-worker server, and through a local two-worker pool;
 *    pool throughput / gRPC throughput − 1 (what a server under load sees:
 *    transport work overlaps compute, but still takes CPU from it).
 *
 * Usage: `deno task bench:stream`. Flags: `--allow-read` loads code, the
 * wasm binary and the Deno binary's path; `--allow-write=./data` holds the
 * temporary model store; `--allow-run` starts the server; `--allow-net`
 * connects to it on 127.0.0.1; `--allow-env` and `--allow-sys` are what the
 * server's logger and the load report read.
 *
 * @module
 */
import {
  createRnnExplainClient,
  encodeTensor,
  type ExplainRequest,
  Method,
  type PartialMessage,
  type RnnExplainClient,
} from "../client/mod.ts";
import { createSpec, initBackend, Random } from "../models/mod.ts";
import {
  batchInputs,
  type ComputePool,
  createComputePool,
  type ModelRef,
} from "../server/compute/mod.ts";
import {
  loadAverageText,
  type LogRecord,
  median,
  percentile,
  print,
  ROOT,
  saveSeededModel,
  spawnServer,
} from "./_bench.ts";
import { ECHO_OPTIONS, ECHO_SERVICE } from "./_grpc_echo.ts";
import * as grpc from "@grpc/grpc-js";

const T = 12;
const SIZE = T * 28 * 7;
const BATCH = 50;
const RUNS = 10;
/** Sequential batch-1 calls (enough for a p99 that is not the maximum of 10). */
const SINGLE_RUNS = 100;
/** The server's compute workers, and the local pipelined pool's. */
const WORKERS = 2;
/** ExplainBatch requests outstanding in the pipelined comparison. */
const IN_FLIGHT = 2 * WORKERS;
const PIPELINE_REQUESTS = 12;
const PIPELINE_ROUNDS = 3;
/** ExplainBatch calls before any measurement (a long-running server is warm). */
const WARMUP_BATCHES = 20;
const EXPLAINER = {
  method: Method.METHOD_LRP_ALPHA_BETA,
  params: { alpha: 1.5, beta: 0.5 },
};

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

/** The server's log lines about ExplainBatch calls. */
const batchLogs: Record<string, number>[] = [];
const callLogs: Record<string, number>[] = [];

function record(r: LogRecord): void {
  if (r.msg === "Explained batch") batchLogs.push(r as Record<string, number>);
  if (
    r.msg === "Request finished" &&
    r.rpc === "rnnexplain.v1.ExplainService/ExplainBatch"
  ) callLogs.push(r as Record<string, number>);
}

function request(x: Float32Array): PartialMessage<ExplainRequest> {
  return {
    modelId: "bench",
    input: {
      source: { $case: "tensor", tensor: encodeTensor(x, [T, 28, 7]) },
    },
    explainer: EXPLAINER,
  };
}

/** One streamed Explain: time to the first message and to the end. */
async function timedExplain(
  client: RnnExplainClient,
  x: Float32Array,
): Promise<{ first: number; total: number }> {
  const start = performance.now();
  let first = NaN;
  let messages = 0;
  for await (const _ of client.explain(request(x))) {
    if (messages++ === 0) first = performance.now() - start;
  }
  if (messages !== T + 1) throw new Error(`Expected ${T + 1} messages`);
  return { first, total: performance.now() - start };
}

async function explainBatch(
  client: RnnExplainClient,
  x: Float32Array,
): Promise<number> {
  const start = performance.now();
  await client.explainBatch({
    modelId: "bench",
    inputs: Array.from({ length: BATCH }, (_, n) => ({
      source: {
        $case: "tensor" as const,
        tensor: encodeTensor(x.subarray(n * SIZE, (n + 1) * SIZE), [T, 28, 7], {
          copy: false,
        }),
      },
    })),
    explainer: EXPLAINER,
  });
  return performance.now() - start;
}

/** What the comparisons need: the server's client, the local pools, the data. */
interface Bench {
  client: RnnExplainClient;
  /** One worker: one request's compute, comparable to a served request's. */
  pool: ComputePool;
  /** As many workers as the server: its throughput under load. */
  pool2: ComputePool;
  ref: ModelRef;
  x: Float32Array;
  /** The server process, for its CPU time. */
  serverPid: number;
}

function direct(pool: ComputePool, b: Bench) {
  return pool.run({
    kind: "explainBatch",
    model: b.ref,
    inputs: batchInputs(b.x, BATCH),
    method: "lrp_alpha_beta",
    params: { alpha: 1.5, beta: 0.5 },
  });
}

/** Streamed Explain at batch 1, one call at a time. */
async function batchOne(b: Bench): Promise<void> {
  const single = [];
  // A failed call is reported, not hidden: the figures cover the rest.
  const failures: string[] = [];
  for (let i = 0; i < SINGLE_RUNS; i++) {
    try {
      single.push(await timedExplain(b.client, b.x.subarray(0, SIZE)));
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (failures.length > 0) {
    print(
      `Explain stream, batch 1: ${failures.length} of ${SINGLE_RUNS} calls failed (${
        [...new Set(failures)].join("; ")
      })`,
    );
  }
  const firsts = single.map((s) => s.first);
  const totals = single.map((s) => s.total);
  print(
    `Explain stream, batch 1 (${SINGLE_RUNS} sequential calls): complete p50 ${
      ms(median(totals))
    } (p99 ${ms(percentile(totals, 0.99))}), first message p50 ${
      ms(median(firsts))
    } (p99 ${ms(percentile(firsts, 0.99))}); first/complete ${
      (100 * median(single.map((s) => s.first / s.total))).toFixed(0)
    }% (median of per-call shares)`,
  );
}

/** 50 streamed calls at once. */
async function concurrent(b: Bench): Promise<void> {
  const start = performance.now();
  const settled = await Promise.allSettled(
    Array.from(
      { length: BATCH },
      (_, n) => timedExplain(b.client, b.x.subarray(n * SIZE, (n + 1) * SIZE)),
    ),
  );
  const wall = performance.now() - start;
  const many = settled.flatMap((s) =>
    s.status === "fulfilled" ? [s.value] : []
  );
  const failures = settled.flatMap((s) =>
    s.status === "rejected" ? [String(s.reason?.message ?? s.reason)] : []
  );
  // A failed call is reported, not hidden: the figures cover the rest.
  if (failures.length > 0) {
    print(
      `Explain stream, ${BATCH} calls at once: ${failures.length} failed (${
        [...new Set(failures)].join("; ")
      })`,
    );
  }
  if (many.length === 0) return;
  const firsts = many.map((m) => m.first);
  print(
    `Explain stream, ${BATCH} calls at once: first message median ${
      ms(median(firsts))
    } (p95 ${ms(percentile(firsts, 0.95))}, fastest ${
      ms(Math.min(...firsts))
    }), all ${many.length} complete after ${ms(wall)}`,
  );
}

/** Serial: one ExplainBatch at a time against one `pool.run()`, interleaved. */
async function serial(b: Bench): Promise<void> {
  batchLogs.length = 0;
  callLogs.length = 0;
  const e2e: number[] = [];
  const compute: number[] = [];
  const cpu = { server: 0, client: 0, pool: 0 };
  let threads = NO_THREADS;
  for (let i = 0; i < RUNS; i++) {
    const t0 = await threadCpuMs(b.serverPid);
    const [s0, c0] = await cpuMs(b.serverPid);
    e2e.push(await explainBatch(b.client, b.x));
    const [s1, c1] = await cpuMs(b.serverPid);
    threads = addThreads(threads, t0, await threadCpuMs(b.serverPid));
    const from = performance.now();
    await direct(b.pool, b);
    compute.push(performance.now() - from);
    const [, c2] = await cpuMs(b.serverPid);
    cpu.server += s1 - s0;
    cpu.client += c1 - c0;
    cpu.pool += c2 - c1;
  }
  const a = median(e2e);
  const c = median(compute);
  print(
    `ExplainBatch, batch ${BATCH}: end to end ${ms(a)}, pool.run() ${
      ms(c)
    } (medians of ${RUNS} interleaved rounds)`,
  );
  print(
    `gRPC + encoding overhead at batch ${BATCH}, serial (one request at a time): ${
      (100 * (a - c) / c).toFixed(1)
    }% of compute time`,
  );
  const of = (rows: Record<string, number>[], key: string) =>
    median(rows.map((r) => r[key]!));
  print(
    `  server side (medians): decode ${ms(of(batchLogs, "decodeMs"))}, pool ${
      ms(of(batchLogs, "computeMs"))
    }, encode ${ms(of(batchLogs, "encodeMs"))}, whole call ${
      ms(of(callLogs, "durationMs"))
    } (from the access log)`,
  );
  // The server's log lines trail the responses a little.
  await new Promise((resolve) => setTimeout(resolve, 200));
  if (batchLogs.length === RUNS) {
    const outside = e2e.map((t, i) => t - batchLogs[i]!.computeMs!);
    print(
      `  end to end minus the server's own pool time, same calls: ${
        ms(median(outside))
      } (${
        (100 * median(outside.map((o, i) => o / batchLogs[i]!.computeMs!)))
          .toFixed(1)
      }% of it; immune to the two pools computing at different speeds)`,
    );
  }
  printThreadShare("one request at a time", threads, RUNS);
  await echoFloor();
  if (Number.isNaN(cpu.server + cpu.client + cpu.pool)) return;
  const served = (cpu.server + cpu.client) / RUNS;
  const local = cpu.pool / RUNS;
  print(
    `  CPU per request (all threads, /proc, same rounds): over gRPC ${
      ms(served)
    } (server ${ms(cpu.server / RUNS)}, client ${
      ms(cpu.client / RUNS)
    }), pool.run() ${ms(local)}: gRPC + encoding take ${
      (100 * (served - local) / local).toFixed(1)
    }% more CPU (less sensitive to machine load than the times)`,
  );
}

/** Clock ticks per second of /proc's utime and stime (USER_HZ on Linux). */
const CLOCK_TICKS = 100;

/**
 * CPU milliseconds the server and this process have used, all threads;
 * NaN without /proc. Deno lets only --allow-all read /proc, so `cat` (the
 * bench may run programs) reads both at once; each measured window ends
 * with one such spawn, so its cost is the same on both sides.
 */
async function cpuMs(serverPid: number): Promise<[number, number]> {
  try {
    const { stdout } = await new Deno.Command("cat", {
      args: [`/proc/${serverPid}/stat`, `/proc/${Deno.pid}/stat`],
      stderr: "null",
    }).output();
    const [server, self] = new TextDecoder().decode(stdout).trim().split("\n")
      .map((stat) => {
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return (Number(fields[11]) + Number(fields[12])) * 1000 / CLOCK_TICKS;
      });
    return [server ?? NaN, self ?? NaN];
  } catch {
    return [NaN, NaN];
  }
}

/** CPU milliseconds of a process's threads, split by role. */
interface ThreadCpu {
  /** The compute workers' threads (Deno names them `worker-N`). */
  readonly workers: number;
  /**
   * The main thread (gRPC, HTTP/2, protobuf decode and encode, logging, the
   * pool's bookkeeping) and Deno's I/O threads (`tokio-runtime-w`).
   */
  readonly serving: number;
  /**
   * V8's helper threads (`V8 DefaultWorke`): parallel garbage collection
   * and compilation for every isolate of the process, the workers' included
   * (`--trace-gc` showed 21 scavenges in a worker against 1 on the main
   * isolate over 30 ExplainBatch calls), so it is not charged to serving.
   */
  readonly helpers: number;
}

const NO_THREADS: ThreadCpu = { workers: 0, serving: 0, helpers: 0 };

function addThreads(sum: ThreadCpu, from: ThreadCpu, to: ThreadCpu): ThreadCpu {
  return {
    workers: sum.workers + to.workers - from.workers,
    serving: sum.serving + to.serving - from.serving,
    helpers: sum.helpers + to.helpers - from.helpers,
  };
}

/**
 * A process's CPU time per thread role, from /proc/<pid>/task (read with
 * `sh`, as {@linkcode cpuMs} does); NaN without /proc. Threads that ended
 * between two readings drop out of the later one, so only windows in which
 * no worker starts or stops compare.
 */
async function threadCpuMs(pid: number): Promise<ThreadCpu> {
  const none = { workers: NaN, serving: NaN, helpers: NaN };
  try {
    const { stdout } = await new Deno.Command("sh", {
      args: [
        "-c",
        `for t in /proc/${pid}/task/*; do printf '%s\\t' "$(cat $t/comm)"; cat $t/stat; done`,
      ],
      stderr: "null",
    }).output();
    let workers = 0;
    let serving = 0;
    let helpers = 0;
    for (const line of new TextDecoder().decode(stdout).trim().split("\n")) {
      const [comm, stat] = line.split("\t");
      if (comm === undefined || stat === undefined) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cpu = (Number(fields[11]) + Number(fields[12])) * 1000 /
        CLOCK_TICKS;
      // A thread that ended between the listing and its read (Deno's
      // short-lived blocking-pool threads) has no stat line: skip it rather
      // than turn the whole reading into NaN.
      if (Number.isNaN(cpu)) continue;
      if (comm.startsWith("worker-")) workers += cpu;
      else if (comm.startsWith("V8 ")) helpers += cpu;
      else serving += cpu;
    }
    return workers + serving + helpers > 0
      ? { workers, serving, helpers }
      : none;
  } catch {
    return none;
  }
}

/**
 * Prints the server's serving CPU (main and I/O threads) as a share of its
 * compute workers' CPU over a window of `requests` ExplainBatch calls.
 */
function printThreadShare(
  label: string,
  threads: ThreadCpu,
  requests: number,
): void {
  const { workers, serving, helpers } = threads;
  if (!(workers > 0) || Number.isNaN(serving)) return;
  const per = (v: number) => ms(v / requests);
  print(
    `  server CPU per request, ${label} (/proc per thread, 10 ms ticks): compute workers ${
      per(workers)
    }, serving threads (main: gRPC, HTTP/2, protobuf, logging; Deno I/O) ${
      per(serving)
    }, V8 helpers (GC of every isolate) ${per(helpers)}: serving = ${
      (100 * serving / workers).toFixed(1)
    }% of compute CPU (target ≤ 10%)`,
  );
}

/**
 * The floor under the serving figure: a bare grpc-js echo (`_grpc_echo.ts`,
 * its own process) of the batch's float bytes, request and response alike,
 * called one at a time; prints its serving threads' CPU per call.
 */
async function echoFloor(): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-env",
      "--allow-read=.",
      "scripts/_grpc_echo.ts",
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("The echo server exited before it was ready");
    text += value;
  }
  const Client = grpc.makeGenericClientConstructor(
    ECHO_SERVICE as unknown as grpc.ServiceDefinition,
    "Echo",
  );
  const client = new Client(
    `127.0.0.1:${Number.parseInt(text)}`,
    grpc.credentials.createInsecure(),
    { ...ECHO_OPTIONS, "grpc-node.flow_control_window": 8 * 1024 * 1024 },
  ) as unknown as {
    echo(b: Uint8Array, cb: (e: Error | null) => void): void;
    close(): void;
  };
  try {
    const payload = new Uint8Array(BATCH * SIZE * 4);
    const call = () =>
      new Promise<void>((resolve, reject) =>
        client.echo(payload, (e) => e === null ? resolve() : reject(e))
      );
    for (let i = 0; i < 30; i++) await call(); // JIT, heap sizing
    const before = await threadCpuMs(child.pid);
    for (let i = 0; i < ECHO_CALLS; i++) await call();
    const after = await threadCpuMs(child.pid);
    const serving = (after.serving - before.serving) / ECHO_CALLS;
    if (Number.isNaN(serving)) return;
    print(
      `  floor: a bare grpc-js echo server (no protobuf, no work) uses ${
        ms(serving)
      } of serving-thread CPU per call for the same ${
        (payload.length / 1000).toFixed(0)
      } KB each way (${ECHO_CALLS} calls, same run)`,
    );
    // The round trip between two processes with nothing in it: the least a
    // call, and a stream's first message, can take on this machine.
    const empty = () =>
      new Promise<void>((resolve, reject) =>
        client.echo(
          new Uint8Array(0),
          (e) => e === null ? resolve() : reject(e),
        )
      );
    for (let i = 0; i < 50; i++) await empty();
    const trips: number[] = [];
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const t0 = performance.now();
      await empty();
      trips.push(performance.now() - t0);
    }
    print(
      `  round trip: the same echo of an empty message, p50 ${
        ms(median(trips))
      } (p99 ${
        ms(percentile(trips, 0.99))
      }, ${ROUND_TRIPS} calls one at a time): the least any call between two processes, and the first message of a stream, takes here`,
    );
  } finally {
    client.close();
    await reader.cancel();
    child.kill("SIGTERM");
    await child.status;
  }
}

/** Calls timed by {@linkcode echoFloor}. */
const ECHO_CALLS = 50;

/** Empty-message round trips timed by {@linkcode echoFloor}. */
const ROUND_TRIPS = 300;

/** Requests that failed in the pipelined rounds, by message (reported, not hidden). */
const pipelineFailures: string[] = [];

/**
 * `count` requests with `inFlight` outstanding at any time; returns the
 * completed requests per second (a failed one is recorded and not counted).
 */
async function throughput(
  count: number,
  inFlight: number,
  request: () => Promise<unknown>,
): Promise<number> {
  let next = 0;
  let done = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < count) {
        try {
          await request();
          done++;
        } catch (err) {
          pipelineFailures.push(String((err as Error)?.message ?? err));
        }
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

/**
 * Pipelined: IN_FLIGHT ExplainBatch requests outstanding, the server's
 * throughput against a local pool with as many workers (what a loaded
 * server sees: transport work overlaps compute). Rounds interleaved.
 */
async function pipelined(b: Bench): Promise<void> {
  const served: number[] = [];
  const local: number[] = [];
  let threads = NO_THREADS;
  for (let round = 0; round < PIPELINE_ROUNDS; round++) {
    const t0 = await threadCpuMs(b.serverPid);
    served.push(
      await throughput(
        PIPELINE_REQUESTS,
        IN_FLIGHT,
        () => explainBatch(b.client, b.x),
      ),
    );
    threads = addThreads(threads, t0, await threadCpuMs(b.serverPid));
    local.push(
      await throughput(
        PIPELINE_REQUESTS,
        IN_FLIGHT,
        () => direct(b.pool2, b),
      ),
    );
  }
  const s = median(served) * BATCH;
  const l = median(local) * BATCH;
  print(
    `ExplainBatch, batch ${BATCH}, pipelined (${IN_FLIGHT} in flight, ${WORKERS} workers): ${
      s.toFixed(0)
    } explanations/s over gRPC, ${
      l.toFixed(0)
    } through pool.run() (medians of ${PIPELINE_ROUNDS} interleaved rounds of ${PIPELINE_REQUESTS} requests)`,
  );
  print(
    `gRPC + encoding overhead at batch ${BATCH}, pipelined: ${
      (100 * (l / s - 1)).toFixed(1)
    }% (pool throughput / gRPC throughput − 1)`,
  );
  printThreadShare(
    `${IN_FLIGHT} in flight`,
    threads,
    PIPELINE_ROUNDS * PIPELINE_REQUESTS,
  );
  if (pipelineFailures.length > 0) {
    print(
      `  ${pipelineFailures.length} pipelined requests failed (${
        [...new Set(pipelineFailures)].join("; ")
      }), not counted`,
    );
  }
}

async function main(): Promise<void> {
  await Deno.mkdir("./data", { recursive: true });
  const dir = await Deno.makeTempDir({
    dir: "./data",
    prefix: "bench_stream_",
  });
  await initBackend("wasm");
  const { ref } = await saveSeededModel(
    dir,
    "bench",
    createSpec({ architecture: "r_lstm", steps: T, columns: 7 }),
  );
  const random = new Random(3);
  const x = Float32Array.from(
    { length: BATCH * SIZE },
    () => 2 * random.next() - 1,
  );
  const server = await spawnServer({
    checkpointDir: dir,
    flags: [`--workers=${WORKERS}`, "--backend=wasm"],
    onLog: record,
  });
  using pool = createComputePool({ workers: 1 });
  using pool2 = createComputePool({ workers: WORKERS });
  try {
    using client = createRnnExplainClient(`127.0.0.1:${server.port}`, {
      defaultTimeoutMs: 600_000,
    });
    await Promise.all([pool.ready(), pool2.ready()]);
    const b: Bench = { client, pool, pool2, ref, x, serverPid: server.pid };
    print(`load average before: ${loadAverageText()}`);
    // Warm up: each server worker and the local pools load the model, and
    // the large-message path runs until it is compiled: a bare grpc-js echo
    // of 470 KB took 120-260 ms per call over its first 10 calls on a loaded
    // machine and about 7 ms after 60 (JIT and heap sizing, both processes).
    await Promise.all([
      timedExplain(client, x.subarray(0, SIZE)),
      timedExplain(client, x.subarray(SIZE, 2 * SIZE)),
    ]);
    for (let i = 0; i < WARMUP_BATCHES; i++) await explainBatch(client, x);
    await Promise.all([direct(pool, b), direct(pool2, b), direct(pool2, b)]);
    await batchOne(b);
    await concurrent(b);
    await serial(b);
    await pipelined(b);
    print(`load average after: ${loadAverageText()}`);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
