/**
 * What every command receives: the client, its parsed arguments, the output
 * streams, the interrupt signal (Ctrl-C), and helpers to read flags and to
 * print tables.
 *
 * @module
 */
import type { CommandSpec, FlagValue } from "./args.ts";
import { UsageError } from "./args.ts";
import type { CallOptions, RnnExplainClient } from "../mod.ts";

/** Where the command line writes. */
export interface CliIo {
  /** Writes to standard output. */
  stdout(text: string): void;
  /** Writes to standard error (progress, notes). */
  stderr(text: string): void;
  /** Whether standard error is a terminal (progress redrawn in place). */
  stderrIsTerminal: boolean;
}

/** Exit codes of the command line. */
export const EXIT = {
  ok: 0,
  /** A call failed or the server reported a failed job. */
  failed: 1,
  /** The command line was malformed. */
  usage: 2,
  /** Interrupted with Ctrl-C (128 + SIGINT). */
  interrupted: 130,
} as const;

/** A command's implementation. */
export interface Command {
  /** Its words, positionals and flags. */
  spec: CommandSpec;
  /** Runs it; resolves to the exit code. */
  run(ctx: CommandContext): Promise<number>;
}

/** The arguments and services one command runs with. */
export class CommandContext {
  /** The connected client. */
  readonly client: RnnExplainClient;
  /** Positional arguments, in the order of the spec. */
  readonly positionals: readonly string[];
  readonly #flags: Readonly<Record<string, FlagValue>>;
  /** Output streams. */
  readonly io: CliIo;
  /** Aborted on Ctrl-C. */
  readonly interrupt: AbortSignal;
  /** Call deadline in milliseconds, when `--deadline` was given. */
  readonly deadlineMs: number | undefined;

  /**
   * @param init the client, arguments, streams and interrupt signal
   */
  constructor(init: {
    client: RnnExplainClient;
    positionals: readonly string[];
    flags: Readonly<Record<string, FlagValue>>;
    io: CliIo;
    interrupt: AbortSignal;
  }) {
    this.client = init.client;
    this.positionals = init.positionals;
    this.#flags = init.flags;
    this.io = init.io;
    this.interrupt = init.interrupt;
    const deadline = init.flags.deadline;
    this.deadlineMs = typeof deadline === "number"
      ? deadline * 1000
      : undefined;
  }

  /** Whether `--json` was given. */
  get json(): boolean {
    return this.#flags.json === true;
  }

  /** Whether a flag was given. */
  has(name: string): boolean {
    return name in this.#flags;
  }

  /** A string flag, or `fallback`. */
  string(name: string): string | undefined;
  string(name: string, fallback: string): string;
  string(name: string, fallback?: string): string | undefined {
    const v = this.#flags[name];
    return typeof v === "string" ? v : fallback;
  }

  /** A numeric flag, or `fallback`. */
  number(name: string): number | undefined;
  number(name: string, fallback: number): number;
  number(name: string, fallback?: number): number | undefined {
    const v = this.#flags[name];
    return typeof v === "number" ? v : fallback;
  }

  /** A boolean flag (false when absent). */
  boolean(name: string): boolean {
    return this.#flags[name] === true;
  }

  /** A list flag, or `fallback`. */
  list(name: string, fallback: string[]): string[] {
    const v = this.#flags[name];
    return Array.isArray(v) ? v : fallback;
  }

  /** Throws a {@linkcode UsageError} about this command. */
  usageError(why: string): UsageError {
    return new UsageError(why);
  }

  /**
   * Options of one call: the deadline when `--deadline` was given, and a
   * signal.
   */
  call(signal?: AbortSignal): CallOptions {
    return {
      ...(this.deadlineMs === undefined ? {} : { timeoutMs: this.deadlineMs }),
      ...(signal === undefined ? {} : { signal }),
    };
  }

  /** Prints a line on stdout. */
  print(line = ""): void {
    this.io.stdout(`${line}\n`);
  }

  /** Prints a line on stderr. */
  note(line: string): void {
    this.io.stderr(`${line}\n`);
  }

  /** Prints a value as indented JSON on stdout. */
  printJson(value: unknown): void {
    this.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
  }
}

/**
 * Lays out rows as a table with a header, columns padded to their widest
 * cell; numeric-looking cells are right-aligned.
 *
 * @param header column titles
 * @param rows cells, as many per row as titles
 * @returns the lines, without newlines
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string[] {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length))
  );
  const numeric = header.map((_, i) =>
    rows.length > 0 &&
    rows.every((r) => /^[-+]?[\d.]+(%| ±.*)?$/.test(r[i] ?? ""))
  );
  const line = (cells: readonly string[]) =>
    cells.map((c, i) =>
      numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)
    ).join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Lower-case snake_case name of an enum value: `ARCHITECTURE_R_LSTM` → `r_lstm`. */
export function enumKey(
  values: Record<number, string>,
  value: number,
  prefix: string,
): string {
  const name = values[value];
  return name === undefined
    ? String(value)
    : name.replace(prefix, "").toLowerCase();
}

/** The enum value of a lower-case key: `r_lstm` → ARCHITECTURE_R_LSTM. */
export function enumValue(
  values: Record<string, string | number>,
  key: string,
  prefix: string,
): number {
  const value = values[`${prefix}${key.toUpperCase()}`];
  if (typeof value !== "number") {
    throw new UsageError(`Cannot use "${key}": unknown ${prefix}value`);
  }
  return value;
}

/** Lower-case keys of an enum, without UNSPECIFIED. */
export function enumKeys(
  values: Record<string, string | number>,
  prefix: string,
): string[] {
  return Object.keys(values)
    .filter((k) => k.startsWith(prefix) && !k.endsWith("_UNSPECIFIED"))
    .map((k) => k.slice(prefix.length).toLowerCase());
}
