/**
 * Helpers of the integration tests: a real server on `127.0.0.1:0` with a log
 * sink and its own temporary checkpoint folder, and a client connected to it.
 *
 * @module
 */
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
  type RnnExplainClient,
} from "../client/mod.ts";

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
