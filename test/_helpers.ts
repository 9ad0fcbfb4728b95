/**
 * Helpers of the integration tests: a real server on `127.0.0.1:0` with a log
 * sink and its own temporary checkpoint folder, and a client connected to it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  type Config,
  createLogger,
  defineConfig,
  type RnnExplainHandlers,
  type ServerHandle,
  startServer,
} from "../server/main.ts";
import {
  type ClientOptions,
  createRnnExplainClient,
  type ImportModelRequest,
  type ModelInfo,
  type PartialMessage,
  type RnnExplainClient,
  RpcError,
} from "../client/mod.ts";
import {
  createModel,
  createSpec,
  encodeCheckpoint,
  initBackend,
  type ModelSpecInit,
  Random,
  sha256Hex,
} from "../models/mod.ts";

/** One parsed log line. */
export type LogRecord = Record<string, unknown> & { msg?: string };

/** A server started for a test, with its captured log lines. */
export interface TestServer extends AsyncDisposable {
  /** The running server. */
  server: ServerHandle;
  /** `127.0.0.1:<port>`. */
  address: string;
  /** Every log line written so far, parsed. */
  logs: LogRecord[];
  /** The server's checkpoint folder (a temporary one unless given). */
  checkpointDir: string;
  /** Opens a client to the server; the test closes it. */
  connect(options?: ClientOptions): RnnExplainClient;
}

/** Options of {@linkcode startTestServer}. */
export interface StartTestServerOptions {
  /**
   * RPC implementations to install.
   * @default {}
   */
  handlers?: RnnExplainHandlers;
  /**
   * Shutdown grace period in milliseconds.
   * @default 2000
   */
  shutdownGraceMs?: number;
  /**
   * The checkpoint folder; it is kept afterwards (e.g. to restart on it).
   * @default a new temporary folder, removed on dispose
   */
  checkpointDir?: string;
  /** Other configuration values (workers, limits…). */
  config?: Partial<Config>;
}

/**
 * Starts the real server on `127.0.0.1:0` with the wasm backend and a log
 * sink. Dispose it (`await using`) to shut it down.
 *
 * @param options handlers and grace period
 * @returns the server, its address and its logs
 */
export async function startTestServer(
  options: StartTestServerOptions = {},
): Promise<TestServer> {
  const logs: LogRecord[] = [];
  const logger = createLogger({
    level: "debug",
    destination: {
      write(line: string) {
        logs.push(JSON.parse(line) as LogRecord);
      },
    },
  });
  const temporary = options.checkpointDir === undefined
    ? await Deno.makeTempDir({ prefix: "rnn_explain_test_" })
    : undefined;
  const checkpointDir = options.checkpointDir ?? temporary!;
  const config = defineConfig({
    workers: 1,
    ...options.config,
    host: "127.0.0.1",
    port: 0,
    backend: "wasm",
    logLevel: "debug",
    checkpointDir,
    shutdownGraceMs: options.shutdownGraceMs ?? 2000,
  });
  let server: ServerHandle;
  try {
    server = await startServer(config, {
      logger,
      ...(options.handlers === undefined ? {} : { handlers: options.handlers }),
    });
  } catch (err) {
    if (temporary !== undefined) {
      await Deno.remove(temporary, { recursive: true });
    }
    throw err;
  }
  const address = `127.0.0.1:${server.port}`;
  return {
    server,
    address,
    logs,
    checkpointDir,
    connect: (clientOptions) => createRnnExplainClient(address, clientOptions),
    [Symbol.asyncDispose]: async () => {
      try {
        await server.shutdown();
      } finally {
        if (temporary !== undefined) {
          await Deno.remove(temporary, { recursive: true });
        }
      }
    },
  };
}

/** A promise with its resolve function exposed. */
export interface Deferred<T> {
  /** The promise. */
  promise: Promise<T>;
  /** Resolves it. */
  resolve(value: T): void;
}

/** Creates a {@linkcode Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  const { promise, resolve } = Promise.withResolvers<T>();
  return { promise, resolve };
}

/**
 * Rejects when `promise` does not settle within `ms` (so that a hang fails
 * the test with a message instead of a runner timeout).
 *
 * @param promise the awaited work
 * @param ms the time limit
 * @param what what is awaited, for the message
 */
export async function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A tiny R-LSTM on 28 × 84 majority inputs, T = 12 (c = 7). */
export const TINY_MAJORITY_SPEC: ModelSpecInit = {
  architecture: "r_lstm",
  steps: 12,
  columns: 7,
  layers: { in1: 16, recur: 8 },
};

/** A model as archive files, ready for ImportModel. */
export interface ModelFiles {
  /** The id to store it under. */
  id: string;
  /** The stream's messages: the header, then the payload in one chunk. */
  messages: PartialMessage<ImportModelRequest>[];
  /** SHA-256 of the weights file. */
  weightsSha256: string;
  /** SHA-256 of the payload (manifest then weights). */
  payloadSha256: string;
}

/**
 * Builds a seeded, untrained model's checkpoint in code (no tensors are
 * left behind) and frames it as an ImportModel stream.
 *
 * @param id the model id
 * @param init the spec
 * @param options seed, dataset and problem recorded in the manifest
 */
export async function buildModelFiles(
  id: string,
  init: ModelSpecInit = TINY_MAJORITY_SPEC,
  options: { seed?: number; dataset?: string; problem?: string } = {},
): Promise<ModelFiles> {
  await initBackend("wasm");
  const seed = options.seed ?? 1;
  const model = createModel(createSpec(init), { seed });
  let files: { weights: Uint8Array; manifest: unknown };
  try {
    files = await encodeCheckpoint(model, {
      dataset: options.dataset ?? "mnist",
      problem: options.problem ?? "majority",
      seed,
      training: {
        optimizer: "adam",
        epochs: 1,
        batchSize: 50,
        learningRate: 0.0002,
        keepProb: 0.8,
      },
    });
  } finally {
    model.dispose();
  }
  const manifest = new TextEncoder().encode(
    `${JSON.stringify(files.manifest, null, 2)}\n`,
  );
  const payload = new Uint8Array(manifest.length + files.weights.length);
  payload.set(manifest);
  payload.set(files.weights, manifest.length);
  const weightsSha256 = await sha256Hex(files.weights);
  const payloadSha256 = await sha256Hex(payload);
  return {
    id,
    weightsSha256,
    payloadSha256,
    messages: [
      {
        part: {
          $case: "header",
          header: {
            model: { id },
            files: [
              {
                name: "manifest.json",
                sizeBytes: manifest.length,
                sha256: await sha256Hex(manifest),
              },
              {
                name: "weights.safetensors",
                sizeBytes: files.weights.length,
                sha256: weightsSha256,
              },
            ],
            totalSizeBytes: payload.length,
            sha256: payloadSha256,
          },
        },
      },
      { part: { $case: "chunk", chunk: Buffer.from(payload) } },
    ],
  };
}

/**
 * Builds a seeded model (see {@linkcode buildModelFiles}) and imports it.
 *
 * @returns the stored model's info
 */
export async function importModel(
  client: RnnExplainClient,
  id: string,
  init: ModelSpecInit = TINY_MAJORITY_SPEC,
  options: { seed?: number; dataset?: string; problem?: string } = {},
): Promise<ModelInfo> {
  const files = await buildModelFiles(id, init, options);
  const { model } = await client.importModel(files.messages);
  return model!;
}

/** `count` seeded sequences of `size` values in [−1, 1]. */
export function randomValues(size: number, seed = 7): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: size }, () => 2 * random.next() - 1);
}

/**
 * Asserts that a call fails with an exact status code.
 *
 * @param call the call (a promise, or a function draining a stream)
 * @param code the expected status
 * @param match a pattern the status message must match
 */
export async function assertStatus(
  call: Promise<unknown> | (() => Promise<unknown>),
  code: number,
  match?: RegExp,
): Promise<RpcError> {
  let caught: unknown;
  try {
    await (typeof call === "function" ? call() : call);
  } catch (err) {
    caught = err;
  }
  if (!(caught instanceof RpcError)) {
    throw new Error(`Expected status ${code}, got ${caught ?? "success"}`);
  }
  if (caught.code !== code) {
    throw new Error(
      `Expected status ${code}, got ${caught.code}: ${caught.details}`,
    );
  }
  if (match !== undefined && !match.test(caught.details)) {
    throw new Error(
      `Status message "${caught.details}" does not match ${match}`,
    );
  }
  return caught;
}

/** Reads a whole server stream. */
export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}
