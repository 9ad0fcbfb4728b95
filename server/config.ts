/**
 * Server configuration: command-line flags, then environment variables, then
 * defaults, validated once into a frozen {@linkcode Config}. One table,
 * {@linkcode CONFIG_OPTIONS}, drives parsing, validation and `--help`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { BACKEND_CHOICES, type BackendChoice } from "../models/mod.ts";

/** pino log levels accepted by `--log-level`. */
export const LOG_LEVELS = [
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
  "silent",
] as const;

/** A pino log level. */
export type LogLevel = typeof LOG_LEVELS[number];

/** The validated, frozen server configuration. */
export interface Config {
  /** Interface to listen on; `0.0.0.0` or `::` for all. */
  readonly host: string;
  /** TCP port; 0 picks a free port (the bound port is logged). */
  readonly port: number;
  /** Minimum level of log lines written to stdout. */
  readonly logLevel: LogLevel;
  /** TensorFlow.js backend; `auto` tries native, then `wasm`, then `cpu`. */
  readonly backend: BackendChoice;
  /** Folder searched for dataset files (IDX). */
  readonly dataDir: string;
  /** Folder holding model checkpoints; must be writable. */
  readonly checkpointDir: string;
  /** Milliseconds that shutdown waits for in-flight calls before cutting them off (UNAVAILABLE). */
  readonly shutdownGraceMs: number;
  /** Compute workers; 0 means one per core. */
  readonly workers: number;
  /** Compute tasks that may wait for a worker; one more is RESOURCE_EXHAUSTED. */
  readonly computeQueueLimit: number;
  /** Training jobs that may wait to run; one more is RESOURCE_EXHAUSTED. */
  readonly jobQueueLimit: number;
  /** Most inputs per Classify or ExplainBatch request; more is RESOURCE_EXHAUSTED. */
  readonly maxBatch: number;
  /** Largest gRPC message received or sent, in bytes; larger is RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  /** Largest model archive ImportModel accepts, in bytes; larger is RESOURCE_EXHAUSTED. */
  readonly maxImportBytes: number;
  /** PEM certificate chain of the server; set, the server speaks only TLS. */
  readonly tlsCert: string | undefined;
  /** PEM private key of `tlsCert`. */
  readonly tlsKey: string | undefined;
  /** PEM certificates of the authorities that sign client certificates (mutual TLS). */
  readonly tlsCa: string | undefined;
  /** `require`: every client must present a certificate signed by `tlsCa`. */
  readonly tlsClientAuth: TlsClientAuth;
  /** File of accepted bearer tokens, one per line; set, every call needs one. */
  readonly authTokenFile: string | undefined;
  /** Whether health checks need no token when `authTokenFile` is set. */
  readonly authExemptHealth: boolean;
  /** HTTP port of the Prometheus `/metrics` endpoint; `undefined` is off, 0 picks a free port. */
  readonly metricsPort: number | undefined;
  /**
   * Plaintext port serving only the gRPC health service (for Kubernetes
   * `grpc` probes, which speak neither TLS nor tokens); `undefined` is off.
   */
  readonly healthPort: number | undefined;
}

/** Client-certificate policies accepted by `--tls-client-auth`. */
export const TLS_CLIENT_AUTH = ["none", "require"] as const;

/** Whether clients must present a certificate. */
export type TlsClientAuth = typeof TLS_CLIENT_AUTH[number];

/** Thrown for an unknown flag or an invalid flag or environment value. */
export class ConfigError extends Error {
  /**
   * @param message what failed, in std style
   */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** One configuration option: its flag, variable, default and parser. */
export interface ConfigOption<K extends keyof Config = keyof Config> {
  /** The Config key. */
  key: K;
  /** The long flag, without dashes. */
  flag: string;
  /** The environment variable. */
  env: string;
  /** The default, as a string, as if it had been passed as a flag. */
  fallback: string;
  /** Placeholder of the value in `--help`. */
  metavar: string;
  /** One line for `--help`. */
  help: string;
  /** Turns the raw string into the value; returns an error text when invalid. */
  parse(raw: string): { value: Config[K] } | { error: string };
}

function option<K extends keyof Config>(o: ConfigOption<K>): ConfigOption {
  return o as unknown as ConfigOption;
}

function integer(
  min: number,
  max: number,
): (raw: string) => { value: number } | { error: string } {
  return (raw) => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
      return {
        error: `expected an integer from ${min} to ${max}, found "${raw}"`,
      };
    }
    return { value };
  };
}

function oneOf<T extends string>(
  choices: readonly T[],
): (raw: string) => { value: T } | { error: string } {
  return (raw) =>
    (choices as readonly string[]).includes(raw)
      ? { value: raw as T }
      : { error: `expected one of ${choices.join(", ")}, found "${raw}"` };
}

function nonEmpty(raw: string): { value: string } | { error: string } {
  return raw.trim() === ""
    ? { error: "expected a non-empty value" }
    : { value: raw };
}

function optionalPath(
  raw: string,
): { value: string | undefined } | { error: string } {
  return { value: raw.trim() === "" ? undefined : raw };
}

function boolean(raw: string): { value: boolean } | { error: string } {
  if (raw === "true") return { value: true };
  if (raw === "false") return { value: false };
  return { error: `expected true or false, found "${raw}"` };
}

function portOrOff(
  raw: string,
): { value: number | undefined } | { error: string } {
  if (raw === "off") return { value: undefined };
  const port = integer(0, 65535)(raw);
  return "error" in port
    ? { error: `expected "off" or an integer from 0 to 65535, found "${raw}"` }
    : port;
}

function hostName(raw: string): { value: string } | { error: string } {
  return /^[A-Za-z0-9.:_-]+$/.test(raw)
    ? { value: raw }
    : { error: `expected a host name or IP address, found "${raw}"` };
}

/** Every option, in `--help` order. */
export const CONFIG_OPTIONS: readonly ConfigOption[] = [
  option({
    key: "host",
    flag: "host",
    env: "RNN_EXPLAIN_HOST",
    fallback: "127.0.0.1",
    metavar: "ADDRESS",
    help: "interface to listen on (0.0.0.0 or :: for all)",
    parse: hostName,
  }),
  option({
    key: "port",
    flag: "port",
    env: "RNN_EXPLAIN_PORT",
    fallback: "50051",
    metavar: "PORT",
    help: "TCP port; 0 picks a free one",
    parse: integer(0, 65535),
  }),
  option({
    key: "logLevel",
    flag: "log-level",
    env: "RNN_EXPLAIN_LOG_LEVEL",
    fallback: "info",
    metavar: "LEVEL",
    help: `minimum log level: ${LOG_LEVELS.join(", ")}`,
    parse: oneOf(LOG_LEVELS),
  }),
  option({
    key: "backend",
    flag: "backend",
    env: "RNN_EXPLAIN_BACKEND",
    fallback: "auto",
    metavar: "NAME",
    help: `TensorFlow.js backend: ${BACKEND_CHOICES.join(", ")}`,
    parse: oneOf(BACKEND_CHOICES),
  }),
  option({
    key: "dataDir",
    flag: "data-dir",
    env: "RNN_EXPLAIN_DATA_DIR",
    fallback: "./data",
    metavar: "DIR",
    help: "folder searched for dataset files",
    parse: nonEmpty,
  }),
  option({
    key: "checkpointDir",
    flag: "checkpoint-dir",
    env: "RNN_EXPLAIN_CHECKPOINT_DIR",
    fallback: "./data/checkpoints",
    metavar: "DIR",
    help: "folder for model checkpoints (needs write permission)",
    parse: nonEmpty,
  }),
  option({
    key: "shutdownGraceMs",
    flag: "shutdown-grace-ms",
    env: "RNN_EXPLAIN_SHUTDOWN_GRACE_MS",
    fallback: "10000",
    metavar: "MS",
    help: "how long shutdown waits for in-flight calls before cutting them off",
    parse: integer(0, 3_600_000),
  }),
  option({
    key: "workers",
    flag: "workers",
    env: "RNN_EXPLAIN_WORKERS",
    fallback: "0",
    metavar: "N",
    help: "compute workers (each with its own backend); 0 means one per core",
    parse: integer(0, 256),
  }),
  option({
    key: "computeQueueLimit",
    flag: "compute-queue-limit",
    env: "RNN_EXPLAIN_COMPUTE_QUEUE_LIMIT",
    fallback: "64",
    metavar: "N",
    help: "compute tasks that may wait for a worker (then RESOURCE_EXHAUSTED)",
    parse: integer(0, 100_000),
  }),
  option({
    key: "jobQueueLimit",
    flag: "job-queue-limit",
    env: "RNN_EXPLAIN_JOB_QUEUE_LIMIT",
    fallback: "16",
    metavar: "N",
    help: "training jobs that may wait to run (then RESOURCE_EXHAUSTED)",
    parse: integer(0, 10_000),
  }),
  option({
    key: "maxBatch",
    flag: "max-batch",
    env: "RNN_EXPLAIN_MAX_BATCH",
    fallback: "1024",
    metavar: "N",
    help: "most inputs per Classify or ExplainBatch request",
    parse: integer(1, 1_000_000),
  }),
  option({
    key: "maxMessageBytes",
    flag: "max-message-bytes",
    env: "RNN_EXPLAIN_MAX_MESSAGE_BYTES",
    fallback: String(64 * 1024 * 1024),
    metavar: "BYTES",
    help: "largest gRPC message received or sent",
    parse: integer(1024, 2 ** 31 - 1),
  }),
  option({
    key: "maxImportBytes",
    flag: "max-import-bytes",
    env: "RNN_EXPLAIN_MAX_IMPORT_BYTES",
    fallback: String(1024 * 1024 * 1024),
    metavar: "BYTES",
    help: "largest model archive ImportModel accepts",
    parse: integer(1024, 2 ** 40),
  }),
  option({
    key: "tlsCert",
    flag: "tls-cert",
    env: "RNN_EXPLAIN_TLS_CERT",
    fallback: "",
    metavar: "FILE",
    help: "PEM certificate chain; set, the server speaks only TLS",
    parse: optionalPath,
  }),
  option({
    key: "tlsKey",
    flag: "tls-key",
    env: "RNN_EXPLAIN_TLS_KEY",
    fallback: "",
    metavar: "FILE",
    help: "PEM private key of --tls-cert",
    parse: optionalPath,
  }),
  option({
    key: "tlsCa",
    flag: "tls-ca",
    env: "RNN_EXPLAIN_TLS_CA",
    fallback: "",
    metavar: "FILE",
    help: "PEM certificates of the CAs trusted to sign client certificates",
    parse: optionalPath,
  }),
  option({
    key: "tlsClientAuth",
    flag: "tls-client-auth",
    env: "RNN_EXPLAIN_TLS_CLIENT_AUTH",
    fallback: "none",
    metavar: "MODE",
    help: "require: mutual TLS, clients need a certificate signed by --tls-ca",
    parse: oneOf(TLS_CLIENT_AUTH),
  }),
  option({
    key: "authTokenFile",
    flag: "auth-token-file",
    env: "RNN_EXPLAIN_AUTH_TOKEN_FILE",
    fallback: "",
    metavar: "FILE",
    help: "accepted bearer tokens, one per line; set, every call needs one",
    parse: optionalPath,
  }),
  option({
    key: "authExemptHealth",
    flag: "auth-exempt-health",
    env: "RNN_EXPLAIN_AUTH_EXEMPT_HEALTH",
    fallback: "true",
    metavar: "BOOL",
    help: "whether health checks are answered without a token",
    parse: boolean,
  }),
  option({
    key: "metricsPort",
    flag: "metrics-port",
    env: "RNN_EXPLAIN_METRICS_PORT",
    fallback: "off",
    metavar: "PORT",
    help: "HTTP port of Prometheus /metrics (e.g. 9464); off, or 0 for any",
    parse: portOrOff,
  }),
  option({
    key: "healthPort",
    flag: "health-port",
    env: "RNN_EXPLAIN_HEALTH_PORT",
    fallback: "off",
    metavar: "PORT",
    help: "plaintext port with only gRPC health, for probes; off, or 0 for any",
    parse: portOrOff,
  }),
];

/** The names of the environment variables the server reads. */
export const CONFIG_ENV_VARS: readonly string[] = CONFIG_OPTIONS.map((o) =>
  o.env
);

/** The `--help` text. */
export const USAGE: string = [
  "rnn-explain: a gRPC server that trains and explains recurrent networks",
  "",
  "Usage: deno task start [options]",
  "",
  "Options (flags override environment variables, which override defaults):",
  ...CONFIG_OPTIONS.map((o) =>
    `  --${o.flag} ${o.metavar}`.padEnd(32) +
    `${o.help}\n${" ".repeat(32)}env ${o.env}, default ${
      o.fallback === "" ? "unset" : o.fallback
    }`
  ),
  "  -h, --help".padEnd(32) + "print this help and exit",
].join("\n");

/** The result of {@linkcode parseConfig}: a configuration, or a help request. */
export type ParsedConfig =
  | { readonly help: false; readonly config: Config }
  | { readonly help: true; readonly usage: string };

/**
 * Parses command-line flags and environment variables into a validated,
 * frozen configuration. Flags win over variables, variables over defaults.
 *
 * @param args the command-line arguments (for example `Deno.args`)
 * @param env the environment variables by name
 * @returns the configuration, or `{ help: true }` when `--help` was given
 * @throws {ConfigError} for an unknown flag, a positional argument, or an invalid value
 *
 * @example
 * ```ts
 * const parsed = parseConfig(["--port", "0"], { RNN_EXPLAIN_LOG_LEVEL: "debug" });
 * if (!parsed.help) console.log(parsed.config.port, parsed.config.logLevel); // 0 "debug"
 * ```
 */
export function parseConfig(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParsedConfig {
  const flags = parseFlags(args);
  if (flags.help === true) return { help: true, usage: USAGE };
  const values: Record<string, unknown> = {};
  for (const o of CONFIG_OPTIONS) {
    const flag = flags[o.flag];
    const [raw, source] = typeof flag === "string"
      ? [flag, `--${o.flag}`]
      : env[o.env] !== undefined
      ? [env[o.env] as string, o.env]
      : [o.fallback, `the default of --${o.flag}`];
    const parsed = o.parse(raw);
    if ("error" in parsed) {
      throw new ConfigError(`Cannot read ${source}: ${parsed.error}`);
    }
    values[o.key] = parsed.value;
  }
  const config = values as unknown as Config;
  checkTls(config);
  return { help: false, config: Object.freeze(config) };
}

/** The TLS options that only make sense together. */
function checkTls(config: Config): void {
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError(
      `Cannot configure TLS: --tls-cert and --tls-key go together, found only ${
        config.tlsCert === undefined ? "--tls-key" : "--tls-cert"
      }`,
    );
  }
  if (config.tlsCa !== undefined && config.tlsCert === undefined) {
    throw new ConfigError(
      "Cannot configure mutual TLS: --tls-ca needs --tls-cert and --tls-key",
    );
  }
  if (config.tlsClientAuth === "require" && config.tlsCa === undefined) {
    throw new ConfigError(
      "Cannot configure mutual TLS: --tls-client-auth=require needs --tls-ca",
    );
  }
}

function parseFlags(
  args: readonly string[],
): Record<string, string | boolean | undefined> {
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string }
  > = { help: { type: "boolean", short: "h" } };
  for (const o of CONFIG_OPTIONS) options[o.flag] = { type: "string" };
  try {
    return parseArgs({ args: [...args], options, strict: true }).values;
  } catch (err) {
    throw new ConfigError(
      `Cannot parse the command line: ${(err as Error).message}`,
    );
  }
}

/**
 * Builds a validated, frozen configuration from defaults and typed
 * overrides, as if they had been passed as flags (for tests and embedding).
 *
 * @param overrides values replacing the defaults
 * @returns the configuration
 * @throws {ConfigError} for an invalid value
 *
 * @example
 * ```ts
 * const config = defineConfig({ port: 0, logLevel: "silent" });
 * ```
 */
export function defineConfig(overrides: Partial<Config> = {}): Config {
  const args: string[] = [];
  for (const o of CONFIG_OPTIONS) {
    const value = overrides[o.key];
    if (value !== undefined) args.push(`--${o.flag}=${value}`);
  }
  const parsed = parseConfig(args, {});
  if (parsed.help) throw new ConfigError("Cannot define a config: got --help");
  return parsed.config;
}

/**
 * Reads the configuration of this process: `Deno.args` and the server's own
 * environment variables ({@linkcode CONFIG_ENV_VARS}; nothing else is read,
 * so `--allow-env` may be scoped to them).
 *
 * @returns the configuration, or a help request
 * @throws {ConfigError} for an invalid flag or value
 */
export function loadConfig(): ParsedConfig {
  const env: Record<string, string | undefined> = {};
  for (const name of CONFIG_ENV_VARS) env[name] = Deno.env.get(name);
  return parseConfig(Deno.args, env);
}
