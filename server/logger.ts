/**
 * The server's one root logger (the only `pino()` call of the project): JSON
 * lines on stdout, credentials redacted. Everything else logs through child
 * loggers: per module, per RPC (from `call_context.ts`), per job.
 *
 * Pretty-print in development by piping into `pino-pretty`; no transports
 * (they run in worker threads).
 *
 * @module
 */
import pino from "pino";
import type { LogLevel } from "./config.ts";

/** The logger type handed to handlers and domain code. */
export type Logger = pino.Logger;

/** A stream the logger writes JSON lines to. */
export type LogDestination = pino.DestinationStream;

/**
 * Paths censored in every log line: credentials sent as metadata, and any
 * credential-like key one or two levels deep.
 */
export const REDACT_PATHS: readonly string[] = [
  "authorization",
  "*.authorization",
  "*.*.authorization",
  "token",
  "*.token",
  "*.*.token",
  "tokens",
  "*.tokens",
  "password",
  "*.password",
  "privateKey",
  "*.privateKey",
  "*.*.privateKey",
];

/** Options of {@linkcode createLogger}. */
export interface CreateLoggerOptions {
  /** Minimum level written. */
  level: LogLevel;
  /**
   * Where lines go; tests pass a sink that parses them.
   * @default synchronous stdout, so that no line is lost on exit
   */
  destination?: LogDestination;
}

/**
 * Creates the root logger.
 *
 * @param options the level and the destination
 * @returns the root logger
 *
 * @example
 * ```ts
 * const log = createLogger({ level: "info" });
 * log.child({ module: "training" }).info({ jobId: "j1" }, "Job started");
 * ```
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  return pino(
    {
      name: "rnn-explain",
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS], censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
