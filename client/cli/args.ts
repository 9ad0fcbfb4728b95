/**
 * Command-line parsing for `deno task cli`: a table of commands with their
 * positionals and typed flags, global flags accepted anywhere, `--help` per
 * command, and {@linkcode UsageError} for anything malformed (checked here,
 * once, before any call is made).
 *
 * @module
 */

/** A malformed command line; the message says what and how to get help. */
export class UsageError extends Error {
  /**
   * @param message what is wrong, std style (`Cannot parse "--x": ...`)
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The type a flag's value is parsed into. */
export type FlagType =
  | "string"
  | "boolean"
  | "integer"
  | "number"
  | "list";

/** One flag of a command (or a global flag). */
export interface FlagSpec {
  /** How the value is parsed; `boolean` flags take no value. */
  type: FlagType;
  /** One line of help. */
  help: string;
  /** Placeholder of the value in the help text. @default the type in capitals */
  metavar?: string;
  /** Accepted values (`string`, and each item of `list`). */
  choices?: readonly string[];
  /** Smallest accepted value (`integer`, `number`). */
  min?: number;
  /** Largest accepted value (`integer`, `number`). */
  max?: number;
  /** Shown in the help text; commands apply their own defaults. */
  defaultText?: string;
}

/** One positional argument of a command. */
export interface PositionalSpec {
  /** Its name in the usage line. */
  name: string;
  /** One line of help. */
  help: string;
}

/** A command: its words (`["models", "list"]`), arguments and help. */
export interface CommandSpec {
  /** The words that select it, for example `["jobs", "watch"]`. */
  words: readonly string[];
  /** One line saying what it does. */
  summary: string;
  /** Required positional arguments, in order. */
  positionals: readonly PositionalSpec[];
  /** Flags of this command (global flags come on top). */
  flags: Readonly<Record<string, FlagSpec>>;
  /** Extra lines shown at the end of the command's help. */
  notes?: readonly string[];
}

/** A parsed flag value. */
export type FlagValue = string | number | boolean | string[];

/** Flags every command accepts. */
export const GLOBAL_FLAGS: Readonly<Record<string, FlagSpec>> = {
  address: {
    type: "string",
    metavar: "HOST:PORT",
    help: "server address",
    defaultText: "127.0.0.1:50051",
  },
  token: {
    type: "string",
    help: "bearer token sent with every call (plaintext: loopback only)",
  },
  "tls-ca": {
    type: "string",
    metavar: "FILE",
    help: "connect over TLS, trusting this PEM certificate authority",
  },
  "tls-cert": {
    type: "string",
    metavar: "FILE",
    help: "client certificate (PEM) for mutual TLS; needs --tls-key",
  },
  "tls-key": {
    type: "string",
    metavar: "FILE",
    help: "client private key (PEM) for mutual TLS; needs --tls-cert",
  },
  tls: {
    type: "boolean",
    help: "connect over TLS with the system's trusted roots",
  },
  deadline: {
    type: "number",
    min: 0.001,
    metavar: "SECONDS",
    help:
      "deadline of each call in seconds (explain and evaluate streams too, not a training watch)",
    defaultText: "30 for single calls, none for streams",
  },
  json: { type: "boolean", help: "print results as JSON on stdout" },
  help: { type: "boolean", help: "show help" },
};

/** The result of parsing a command line. */
export interface ParsedCommandLine {
  /** The command selected, or undefined when only help was asked for. */
  command: CommandSpec | undefined;
  /** The positional arguments after the command words. */
  positionals: string[];
  /** Flag values by name (global and command flags), only those given. */
  flags: Record<string, FlagValue>;
  /** Whether `--help` (or `-h`, or `help`) was given, or no command. */
  help: boolean;
}

/**
 * Parses `argv` against a command table.
 *
 * Flags may come before or after the command words, as `--name value` or
 * `--name=value`; `--` ends flag parsing. With `--help`, missing positionals
 * are not an error.
 *
 * @param argv the arguments after the program name
 * @param commands the command table
 * @returns the command, its positionals and flag values
 * @throws {UsageError} for an unknown command or flag, a missing or invalid
 * value, or a wrong number of positionals
 */
export function parseCommandLine(
  argv: readonly string[],
  commands: readonly CommandSpec[],
): ParsedCommandLine {
  const words: string[] = [];
  const raw: Array<{ name: string; value: string | undefined }> = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      help = true;
      continue;
    }
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) {
        raw.push({ name, value: arg.slice(eq + 1) });
        continue;
      }
      const spec = GLOBAL_FLAGS[name] ?? flagOfAny(name, commands);
      if (spec !== undefined && spec.type !== "boolean") {
        const next = argv[i + 1];
        if (next === undefined) {
          throw new UsageError(`Cannot parse "--${name}": a value is missing`);
        }
        raw.push({ name, value: next });
        i++;
      } else {
        raw.push({ name, value: undefined });
      }
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1 && !isNumeric(arg)) {
      throw new UsageError(
        `Cannot parse "${arg}": flags are written --name (see --help)`,
      );
    }
    words.push(arg);
  }
  if (words[0] === "help") {
    help = true;
    words.shift();
  }

  const command = findCommand(words, commands);
  if (command === undefined && words.length > 0) {
    const known = [...new Set(commands.map((c) => c.words[0]))].join(", ");
    const group = commands.filter((c) => c.words[0] === words[0]);
    if (group.length > 0 && (words.length === 1 || help)) {
      return { command: undefined, positionals: words, flags: {}, help: true };
    }
    throw new UsageError(
      group.length > 0
        ? `Cannot run "${words.join(" ")}": expected one of ${
          group.map((c) => `"${c.words.join(" ")}"`).join(", ")
        }`
        : `Cannot run "${words[0]}": unknown command, expected one of ${known}`,
    );
  }
  const specs = { ...GLOBAL_FLAGS, ...command?.flags };
  const flags: Record<string, FlagValue> = {};
  for (const { name, value } of raw) {
    const spec = specs[name];
    if (spec === undefined) {
      throw new UsageError(
        `Cannot parse "--${name}": unknown flag${
          command ? ` of "${command.words.join(" ")}"` : ""
        } (see --help)`,
      );
    }
    if (name in flags) {
      throw new UsageError(`Cannot parse "--${name}": given more than once`);
    }
    flags[name] = parseValue(name, spec, value);
  }
  if (flags.help === true) help = true;
  if (command === undefined) {
    return { command, positionals: [], flags, help: true };
  }
  const positionals = words.slice(command.words.length);
  if (!help && positionals.length !== command.positionals.length) {
    const expected = command.positionals.map((p) => `<${p.name}>`).join(" ");
    throw new UsageError(
      `Cannot run "${command.words.join(" ")}": expected ${
        command.positionals.length === 0 ? "no arguments" : expected
      }, found ${
        positionals.length === 0
          ? "none"
          : positionals.map((p) => `"${p}"`).join(" ")
      }`,
    );
  }
  return { command, positionals, flags, help };
}

/** The longest command whose words prefix `words`. */
function findCommand(
  words: readonly string[],
  commands: readonly CommandSpec[],
): CommandSpec | undefined {
  let best: CommandSpec | undefined;
  for (const command of commands) {
    const matches = command.words.every((w, i) => words[i] === w);
    if (matches && command.words.length > (best?.words.length ?? 0)) {
      best = command;
    }
  }
  return best;
}

/** A flag of any command, to know whether it takes a value before the command is known. */
function flagOfAny(
  name: string,
  commands: readonly CommandSpec[],
): FlagSpec | undefined {
  for (const command of commands) {
    const spec = command.flags[name];
    if (spec !== undefined) return spec;
  }
  return undefined;
}

function isNumeric(text: string): boolean {
  return text.trim() !== "" && Number.isFinite(Number(text));
}

function parseValue(
  name: string,
  spec: FlagSpec,
  value: string | undefined,
): FlagValue {
  const fail = (why: string) =>
    new UsageError(`Cannot parse "--${name}": ${why}`);
  if (spec.type === "boolean") {
    if (value === undefined || value === "true") return true;
    if (value === "false") return false;
    throw fail(`expected true or false, found "${value}"`);
  }
  if (value === undefined || value === "") throw fail("a value is missing");
  switch (spec.type) {
    case "string":
      if (spec.choices && !spec.choices.includes(value)) {
        throw fail(
          `expected one of ${spec.choices.join(", ")}, found "${value}"`,
        );
      }
      return value;
    case "list": {
      const items = value.split(",").map((s) => s.trim()).filter((s) =>
        s !== ""
      );
      if (items.length === 0) throw fail("the list is empty");
      for (const item of items) {
        if (spec.choices && !spec.choices.includes(item)) {
          throw fail(
            `expected items from ${spec.choices.join(", ")}, found "${item}"`,
          );
        }
      }
      return items;
    }
    case "integer":
    case "number": {
      const n = isNumeric(value) ? Number(value) : NaN;
      if (Number.isNaN(n)) throw fail(`expected a number, found "${value}"`);
      if (spec.type === "integer" && !Number.isInteger(n)) {
        throw fail(`expected an integer, found "${value}"`);
      }
      if (spec.min !== undefined && n < spec.min) {
        throw fail(`expected at least ${spec.min}, found ${value}`);
      }
      if (spec.max !== undefined && n > spec.max) {
        throw fail(`expected at most ${spec.max}, found ${value}`);
      }
      return n;
    }
  }
}

/**
 * The help text of one command, or of the whole program when `command` is
 * undefined (optionally limited to one group such as `models`).
 *
 * @param program how the program is invoked, for example `deno task cli`
 * @param commands the command table
 * @param command the command asked about
 * @param group the first word of the commands to list when no command is given
 * @returns the text, ending with a newline
 */
export function helpText(
  program: string,
  commands: readonly CommandSpec[],
  command?: CommandSpec,
  group?: string,
): string {
  const lines: string[] = [];
  const flagLines = (flags: Readonly<Record<string, FlagSpec>>) => {
    const rows = Object.entries(flags).map(([name, spec]) => {
      const metavar = spec.type === "boolean"
        ? ""
        : ` ${spec.metavar ?? spec.type.toUpperCase()}`;
      const extra = [
        spec.choices ? `one of ${spec.choices.join(", ")}` : "",
        spec.defaultText ? `default ${spec.defaultText}` : "",
      ].filter((s) => s !== "");
      return [
        `--${name}${metavar}`,
        spec.help + (extra.length ? ` (${extra.join("; ")})` : ""),
      ] as const;
    });
    const width = Math.max(...rows.map(([left]) => left.length));
    for (const [left, right] of rows) {
      lines.push(`  ${left.padEnd(width)}  ${right}`);
    }
  };
  if (command === undefined) {
    const listed = commands.filter((c) =>
      group === undefined || c.words[0] === group
    );
    lines.push(`Usage: ${program} [global flags] <command> [arguments]`, "");
    lines.push("Commands:");
    const width = Math.max(...listed.map((c) => usage(c).length));
    for (const c of listed) {
      lines.push(`  ${usage(c).padEnd(width)}  ${c.summary}`);
    }
    lines.push("", "Global flags:");
    flagLines(GLOBAL_FLAGS);
    lines.push("", `Run "${program} <command> --help" for a command's flags.`);
    return lines.join("\n") + "\n";
  }
  lines.push(`Usage: ${program} ${usage(command)} [flags]`, "");
  lines.push(command.summary);
  for (const p of command.positionals) lines.push(`  <${p.name}>  ${p.help}`);
  if (Object.keys(command.flags).length > 0) {
    lines.push("", "Flags:");
    flagLines(command.flags);
  }
  lines.push("", "Global flags:");
  flagLines(GLOBAL_FLAGS);
  if (command.notes) lines.push("", ...command.notes);
  return lines.join("\n") + "\n";
}

function usage(command: CommandSpec): string {
  return [
    ...command.words,
    ...command.positionals.map((p) => `<${p.name}>`),
  ].join(" ");
}
