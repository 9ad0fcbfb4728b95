/**
 * The server's entry point and factory. {@linkcode startServer} selects the
 * TensorFlow.js backend, opens the model store (repairing an unclean stop),
 * starts the compute pool and the training job manager, wires the five API
 * services over them, the standard gRPC health service and server
 * reflection onto one grpc-js server, binds it and returns a handle whose
 * `shutdown()` drains gracefully: health turns NOT_SERVING, new calls are
 * refused, running training jobs are interrupted (resumable), in-flight
 * calls get `shutdownGraceMs` to finish; then the rest see their signal
 * abort and end with UNAVAILABLE, and whatever still runs a moment later is
 * cancelled; last the workers stop and the store closes. Run as a program
 * (`deno task start`), it reads flags and environment variables and shuts
 * down on SIGINT or SIGTERM.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import { type BackendInfo, initBackend } from "../models/mod.ts";
import { type AuthTokens, loadAuthTokens } from "./auth_tokens.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { UnavailableError } from "./errors.ts";
import {
  createAccessLogInterceptor,
  createAuthInterceptor,
} from "./interceptors.ts";
import { createLogger, type Logger } from "./logger.ts";
import {
  addComputeMetrics,
  addJobMetrics,
  createRequestMetrics,
  MetricsRegistry,
  type MetricsServer,
  startMetricsServer,
} from "./metrics/mod.ts";
import { loadTlsMaterial, type TlsMaterial } from "./tls_material.ts";
import { deferGoawayClose } from "./defer_goaway_close.ts";
import { loadReflectionDescriptors } from "./reflection.ts";
import {
  addRnnExplainServices,
  createRnnExplainHandlers,
  type OpenServiceDeps,
  openServiceDeps,
  type RnnExplainHandlers,
  SERVICE_NAMES,
} from "./services/mod.ts";

export {
  type Config,
  ConfigError,
  defineConfig,
  parseConfig,
} from "./config.ts";
export {
  AlreadyExistsError,
  Code,
  ConflictError,
  DataLossError,
  DomainError,
  NotFoundError,
  OutOfRangeError,
  PreconditionError,
  ResourceExhaustedError,
  RpcError,
  UnavailableError,
  UnimplementedError,
} from "./errors.ts";
export { createLogger, type LogDestination, type Logger } from "./logger.ts";
export type { RnnExplainHandlers } from "./services/mod.ts";
export { SERVICE_NAMES };

/** Name of the standard health service, also reported for each API service. */
export const HEALTH_SERVICE_NAME = "grpc.health.v1.Health";

/** Native TensorFlow backends, in order of preference. */
const NATIVE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"];

/** Options of {@linkcode startServer}. */
export interface StartServerOptions {
  /**
   * Replaces the real services (for tests of the call plumbing): exactly
   * these handlers are installed, every method left out answers
   * UNIMPLEMENTED, and no store, pool or job manager is opened.
   * @default the real services over a store in `config.checkpointDir`
   */
  handlers?: RnnExplainHandlers;
  /**
   * The root logger.
   * @default a logger on stdout at `config.logLevel`
   */
  logger?: Logger;
}

/** Options of {@linkcode ServerHandle.shutdown}. */
export interface ShutdownOptions {
  /**
   * Milliseconds to let in-flight calls finish before they are cancelled.
   * @default config.shutdownGraceMs
   */
  graceMs?: number;
}

/** What a shutdown did. */
export interface ShutdownResult {
  /** Whether calls were still running at the end of the grace period and were cut off. */
  forced: boolean;
  /** How long the shutdown took, in milliseconds. */
  durationMs: number;
}

/** A running server. */
export interface ServerHandle extends AsyncDisposable {
  /** The bound address, `host:port`. */
  readonly address: string;
  /** The bound port (the real one when the configuration asked for 0). */
  readonly port: number;
  /** The TensorFlow.js backend chosen at start-up. */
  readonly backend: BackendInfo;
  /** The root logger. */
  readonly log: Logger;
  /** The bound port of `/metrics`; `undefined` when `metricsPort` is off. */
  readonly metricsPort: number | undefined;
  /** The bound plaintext health-only port; `undefined` when `healthPort` is off. */
  readonly healthPort: number | undefined;
  /**
   * Drains and stops the server: health NOT_SERVING, no new calls, in-flight
   * calls finish within the grace period or are cut off (UNAVAILABLE).
   * Idempotent: later calls return the first call's promise.
   */
  shutdown(options?: ShutdownOptions): Promise<ShutdownResult>;
  /** Aborts and cancels every in-flight call now; a running `shutdown()` then resolves. */
  forceShutdown(): void;
}

/**
 * Starts the server.
 *
 * @param config the validated configuration (see `defineConfig`, `parseConfig`)
 * @param options RPC handlers and the logger
 * @returns the running server's handle
 * @throws {ConfigError} when a configured folder lacks the permission it needs,
 *   or a TLS or token file is unreadable or invalid (a key not matching its certificate…)
 * @throws {Error} when the backend cannot be initialised or the address cannot be bound
 *
 * @example
 * ```ts
 * const server = await startServer(defineConfig({ port: 0 }));
 * console.log(server.port);
 * await server.shutdown();
 * ```
 */
export async function startServer(
  config: Config,
  options: StartServerOptions = {},
): Promise<ServerHandle> {
  const log = options.logger ?? createLogger({ level: config.logLevel });
  await checkPermissions(config);
  const tls = config.tlsCert === undefined ? undefined : await loadTlsMaterial({
    cert: config.tlsCert,
    key: config.tlsKey!,
    ca: config.tlsCa,
    clientAuth: config.tlsClientAuth,
  });
  const tokens = config.authTokenFile === undefined
    ? undefined
    : await loadAuthTokens(config.authTokenFile);
  const backend = await initBackend(config.backend, {
    loadNative: loadNativeBackend,
  });
  log.info(
    {
      backend: backend.name,
      skipped: backend.skipped,
      fallbackKernels: backend.fallbackKernels,
      ...(backend.blas === undefined ? {} : { blas: backend.blas }),
    },
    "TensorFlow.js backend ready",
  );
  const deps = options.handlers === undefined
    ? await openDeps(config, log)
    : undefined;
  const handlers = options.handlers ?? createRnnExplainHandlers(deps!);
  const cutoff = new AbortController();
  const registry = new MetricsRegistry();
  const sampler = deps === undefined
    ? undefined
    : addComputeMetrics(registry, deps.pool);
  if (deps !== undefined) addJobMetrics(registry, deps.jobs);
  const { server, health } = createGrpcServer(log, handlers, {
    shutdown: cutoff.signal,
    maxMessageBytes: config.maxMessageBytes,
    requestMetrics: createRequestMetrics(registry),
    tokens,
    authExemptHealth: config.authExemptHealth,
  });
  let port: number;
  let metrics: MetricsServer | undefined;
  const probes = config.healthPort === undefined ? undefined : new Server();
  // Kubernetes grpc probes speak neither TLS nor tokens: a second, plaintext
  // server carries the same health service and nothing else.
  if (probes !== undefined) health.addToServer(probes);
  let healthPort: number | undefined;
  try {
    port = await bind(server, config, tls);
    healthPort = probes === undefined
      ? undefined
      : await bind(probes, { ...config, port: config.healthPort! }, undefined);
    // Deno 2.9.6 aborts when a session closes inside nghttp2's GOAWAY
    // callback (denoland/deno#36788): every client's close would risk it.
    deferGoawayClose(server);
    if (probes !== undefined) deferGoawayClose(probes);
    metrics = config.metricsPort === undefined
      ? undefined
      : startMetricsServer(registry, {
        host: config.host,
        port: config.metricsPort,
        onError: (err) => log.error({ err }, "Metrics render failed"),
      });
  } catch (err) {
    sampler?.[Symbol.dispose]();
    probes?.forceShutdown();
    server.forceShutdown();
    await deps?.close();
    throw err;
  }
  const address = `${formatHost(config.host)}:${port}`;
  for (const name of HEALTH_NAMES) health.setStatus(name, "SERVING");
  log.info({
    address,
    port,
    services: SERVICE_NAMES,
    tls: tls === undefined ? "off" : tls.requireClientCert ? "mutual" : "on",
    certificate: tls?.summary,
    auth: tokens === undefined ? "off" : `${tokens.size} token(s)`,
    metricsPort: metrics?.port,
    healthPort,
  }, "Server started");

  const cut = () => {
    if (cutoff.signal.aborted) return;
    cutoff.abort(
      new UnavailableError(
        "Cannot complete the call: the server is shutting down",
      ),
    );
  };
  let stopping: Promise<ShutdownResult> | undefined;
  const shutdown = (opts: ShutdownOptions = {}): Promise<ShutdownResult> =>
    stopping ??= (async () => {
      const drained = drain(server, health, log, {
        graceMs: opts.graceMs ?? config.shutdownGraceMs,
        cut,
      });
      // Interrupting the jobs ends their watch streams, so the drain can finish.
      await deps?.stopJobs().catch((err) =>
        log.error({ err }, "Training jobs failed to stop")
      );
      const result = await drained;
      sampler?.[Symbol.dispose]();
      probes?.forceShutdown();
      await metrics?.close().catch((err) =>
        log.error({ err }, "Closing the metrics endpoint failed")
      );
      await deps?.close().catch((err) =>
        log.error({ err }, "Closing the store and workers failed")
      );
      return result;
    })();
  return {
    address,
    port,
    backend,
    log,
    metricsPort: metrics?.port,
    healthPort,
    shutdown,
    forceShutdown: () => {
      cut();
      server.forceShutdown();
    },
    [Symbol.asyncDispose]: async () => {
      await shutdown();
    },
  };
}

/** The overall health entry ("") and one per API service. */
const HEALTH_NAMES = ["", ...SERVICE_NAMES];

function openDeps(config: Config, log: Logger): Promise<OpenServiceDeps> {
  return openServiceDeps({
    checkpointDir: config.checkpointDir,
    dataDir: config.dataDir,
    workers: config.workers,
    backend: config.backend,
    computeQueueLimit: config.computeQueueLimit,
    jobQueueLimit: config.jobQueueLimit,
    limits: {
      maxBatch: config.maxBatch,
      maxImportBytes: config.maxImportBytes,
    },
    log,
  });
}

/** One grpc-js server with the access log, token check, health (NOT_SERVING until bound), reflection and the API. */
function createGrpcServer(
  log: Logger,
  handlers: RnnExplainHandlers,
  options: {
    shutdown: AbortSignal;
    maxMessageBytes: number;
    requestMetrics: ReturnType<typeof createRequestMetrics>;
    tokens: AuthTokens | undefined;
    authExemptHealth: boolean;
  },
): { server: Server; health: HealthImplementation } {
  const { shutdown } = options;
  const accessLog = createAccessLogInterceptor(log, {
    metrics: options.requestMetrics,
  });
  const server = new Server({
    // grpc-js wraps each interceptor around the ones before it: the access
    // log (first) sees the metadata before the token check and its refusals.
    interceptors: options.tokens === undefined ? [accessLog] : [
      accessLog,
      createAuthInterceptor(options.tokens, {
        exemptHealth: options.authExemptHealth,
      }),
    ],
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": options.maxMessageBytes,
  });
  const health = new HealthImplementation(
    Object.fromEntries(HEALTH_NAMES.map((name) => [name, "NOT_SERVING"])),
  );
  health.addToServer(server);
  new ReflectionService(loadReflectionDescriptors()).addToServer(server);
  addRnnExplainServices(server, handlers, { log, shutdown });
  return { server, health };
}

/** How long cut-off calls get to send their UNAVAILABLE status before the connections close. */
const CUTOFF_MS = 1000;

async function drain(
  server: Server,
  health: HealthImplementation,
  log: Logger,
  options: { graceMs: number; cut: () => void },
): Promise<ShutdownResult> {
  const started = performance.now();
  for (const name of HEALTH_NAMES) health.setStatus(name, "NOT_SERVING");
  log.info({ graceMs: options.graceMs }, "Server draining");
  let forced = false;
  await new Promise<void>((resolve) => {
    let timer = setTimeout(() => {
      forced = true;
      log.warn(
        { graceMs: options.graceMs },
        "Grace period over, cutting off calls",
      );
      options.cut();
      timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, CUTOFF_MS);
    }, options.graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  const durationMs = Math.round(performance.now() - started);
  log.info({ forced, durationMs }, "Server stopped");
  return { forced, durationMs };
}

function credentials(tls: TlsMaterial | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(
    // Without mutual TLS no client certificate is asked for, so `ca` is never
    // used; it is still set because Deno's node:tls sends a handshake message
    // that clients reject as too large when it is unset.
    Buffer.from(tls.clientCa ?? tls.certChain),
    [{
      cert_chain: Buffer.from(tls.certChain),
      private_key: Buffer.from(tls.privateKey),
    }],
    tls.requireClientCert,
  );
}

function bind(
  server: Server,
  config: Config,
  tls: TlsMaterial | undefined,
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(
      `${formatHost(config.host)}:${config.port}`,
      credentials(tls),
      (err, port) => {
        if (err !== null) {
          server.forceShutdown();
          reject(
            new Error(
              `Cannot listen on ${config.host}:${config.port}: ${err.message}`,
              { cause: err },
            ),
          );
        } else resolve(port);
      },
    );
  });
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Fails fast, before any work, when Deno's flags do not cover the folders. */
async function checkPermissions(config: Config): Promise<void> {
  const needs = [
    { name: "read", path: config.dataDir, flag: "--data-dir" },
    { name: "write", path: config.checkpointDir, flag: "--checkpoint-dir" },
  ] as const;
  for (const need of needs) {
    const { state } = await Deno.permissions.query({
      name: need.name,
      path: need.path,
    });
    if (state !== "granted") {
      throw new ConfigError(
        `Cannot use ${need.flag} "${need.path}": ${need.name} permission is not granted (run Deno with --allow-${need.name}=${need.path})`,
      );
    }
  }
}

/**
 * Imports the first installed native TensorFlow backend. Only packages
 * already in node_modules are imported, so start-up never downloads one.
 */
async function loadNativeBackend(): Promise<unknown> {
  for (const name of NATIVE_PACKAGES) {
    const manifest = new URL(
      `../node_modules/${name}/package.json`,
      import.meta.url,
    );
    try {
      await Deno.stat(manifest);
    } catch {
      continue;
    }
    return await import(`npm:${name}`);
  }
  throw new Error(`none of ${NATIVE_PACKAGES.join(", ")} is installed`);
}

async function main(): Promise<number> {
  let config: Config;
  try {
    const parsed = loadConfig();
    if (parsed.help) {
      await write(Deno.stdout, `${parsed.usage}\n`);
      return 0;
    }
    config = parsed.config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    await write(
      Deno.stderr,
      `error: ${err.message}\nRun with --help for usage.\n`,
    );
    return 2;
  }
  const log = createLogger({ level: config.logLevel });
  let server: ServerHandle;
  try {
    server = await startServer(config, { logger: log });
  } catch (err) {
    log.fatal({ err }, "Server failed to start");
    return 1;
  }
  await shutdownOnSignal(server);
  return 0;
}

/** Resolves after a SIGINT or SIGTERM has drained the server; a second signal forces. */
function shutdownOnSignal(server: ServerHandle): Promise<void> {
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT", "SIGBREAK"]
    : ["SIGINT", "SIGTERM"];
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: Deno.Signal) => () => {
      if (received) {
        server.log.warn({ signal }, "Second signal, cancelling calls");
        server.forceShutdown();
        return;
      }
      received = true;
      server.log.info({ signal }, "Signal received");
      server.shutdown().then(() => {
        for (const [s, listener] of listeners) {
          Deno.removeSignalListener(s, listener);
        }
        resolve();
      });
    };
    const listeners = signals.map((s) => [s, onSignal(s)] as const);
    for (const [s, listener] of listeners) Deno.addSignalListener(s, listener);
  });
}

async function write(
  stream: { write(p: Uint8Array): Promise<number> },
  text: string,
) {
  const bytes = new TextEncoder().encode(text);
  for (let done = 0; done < bytes.length;) {
    done += await stream.write(bytes.subarray(done));
  }
}

if (import.meta.main) {
  Deno.exit(await main());
}
