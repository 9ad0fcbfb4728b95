/**
 * The command line's driver: parses the arguments, connects the client
 * (address, TLS, token, deadline), runs the command and turns failures into
 * one error line and an exit code.
 *
 * @module
 */
import {
  type ClientOptions,
  createRnnExplainClient,
  type RnnExplainClient,
  RpcError,
  Status,
  type TlsOptions,
} from "../mod.ts";
import { helpText, parseCommandLine, UsageError } from "./args.ts";
import { type CliIo, type Command, CommandContext, EXIT } from "./_context.ts";
import { EVALUATE_COMMANDS } from "./evaluate_command.ts";
import { EXPLAIN_COMMANDS } from "./explain_commands.ts";
import { ArchiveFileError, MODELS_COMMANDS } from "./models_commands.ts";
import { InputFileError } from "./input_file.ts";
import { TRAINING_COMMANDS } from "./training_commands.ts";

export { type CliIo, EXIT };

/** Every command, in help order. */
export const COMMANDS: readonly Command[] = [
  ...MODELS_COMMANDS,
  ...TRAINING_COMMANDS,
  ...EXPLAIN_COMMANDS,
  ...EVALUATE_COMMANDS,
];

/** The default server address. */
export const DEFAULT_ADDRESS = "127.0.0.1:50051";

/** Options of {@linkcode runCli}. */
export interface RunCliOptions {
  /**
   * Output streams.
   * @default Deno's stdout and stderr
   */
  io?: CliIo;
  /**
   * Aborted on Ctrl-C: `train` then cancels its job, streams stop.
   * @default a signal that never aborts
   */
  interrupt?: AbortSignal;
  /**
   * How the program is invoked, for help texts.
   * @default "deno task cli"
   */
  program?: string;
  /**
   * Makes the client (tests inject one).
   * @default createRnnExplainClient
   */
  connect?: (address: string, options: ClientOptions) => RnnExplainClient;
}

/** Standard output and error of the process. */
export function denoIo(): CliIo {
  const encoder = new TextEncoder();
  return {
    stdout: (text) => void Deno.stdout.writeSync(encoder.encode(text)),
    stderr: (text) => void Deno.stderr.writeSync(encoder.encode(text)),
    stderrIsTerminal: Deno.stderr.isTerminal(),
  };
}

/**
 * Runs one command line.
 *
 * @param argv the arguments after the program name
 * @param options streams, interrupt signal, client factory
 * @returns the exit code: 0 success, 1 a failed call or job, 2 a usage
 * error, 130 interrupted
 *
 * @example
 * ```ts
 * const code = await runCli(["models", "list", "--address", "127.0.0.1:50051"]);
 * ```
 */
export async function runCli(
  argv: readonly string[],
  options: RunCliOptions = {},
): Promise<number> {
  const io = options.io ?? denoIo();
  const program = options.program ?? "deno task cli";
  const interrupt = options.interrupt ?? new AbortController().signal;
  let client: RnnExplainClient | undefined;
  try {
    const parsed = parseCommandLine(argv, COMMANDS.map((c) => c.spec));
    if (parsed.help) {
      io.stdout(
        helpText(
          program,
          COMMANDS.map((c) => c.spec),
          parsed.command,
          parsed.command ? undefined : parsed.positionals[0],
        ),
      );
      return EXIT.ok;
    }
    const command = COMMANDS.find((c) => c.spec === parsed.command)!;
    const flags = parsed.flags;
    const address = typeof flags.address === "string"
      ? flags.address
      : DEFAULT_ADDRESS;
    const clientOptions = await clientOptionsFrom(flags);
    client = (options.connect ?? createRnnExplainClient)(
      address,
      clientOptions,
    );
    const ctx = new CommandContext({
      client,
      positionals: parsed.positionals,
      flags,
      io,
      interrupt,
    });
    return await command.run(ctx);
  } catch (error) {
    return reportError(error, io, interrupt);
  } finally {
    client?.close();
  }
}

/** Client options from the global flags, reading the TLS files. */
async function clientOptionsFrom(
  flags: Record<string, unknown>,
): Promise<ClientOptions> {
  const options: ClientOptions = {};
  if (typeof flags.token === "string") options.token = flags.token;
  if (typeof flags.deadline === "number") {
    options.defaultTimeoutMs = flags.deadline * 1000;
  }
  const ca = flags["tls-ca"];
  const cert = flags["tls-cert"];
  const key = flags["tls-key"];
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError(
      "Cannot set up mutual TLS: give both --tls-cert and --tls-key",
    );
  }
  if (ca !== undefined || cert !== undefined) {
    const tls: TlsOptions = {};
    const read = async (flag: string, path: unknown) => {
      try {
        return await Deno.readFile(path as string);
      } catch (error) {
        throw new UsageError(
          `Cannot read --${flag} "${path}": ${(error as Error).message}`,
        );
      }
    };
    if (ca !== undefined) tls.rootCerts = await read("tls-ca", ca);
    if (cert !== undefined) {
      tls.certChain = await read("tls-cert", cert);
      tls.privateKey = await read("tls-key", key);
    }
    options.tls = tls;
  } else if (flags.tls === true) {
    options.tls = true;
  }
  return options;
}

/** One error line on stderr; returns the exit code. */
function reportError(
  error: unknown,
  io: CliIo,
  interrupt: AbortSignal,
): number {
  if (error instanceof UsageError) {
    io.stderr(`error: ${error.message}\n`);
    io.stderr(`Run with --help for usage.\n`);
    return EXIT.usage;
  }
  if (error instanceof RpcError) {
    if (error.code === Status.CANCELLED && interrupt.aborted) {
      io.stderr("Interrupted\n");
      return EXIT.interrupted;
    }
    const extra = [
      error.field ? `field ${error.field}` : "",
      error.requestId ? `request id ${error.requestId}` : "",
    ].filter((s) => s !== "");
    io.stderr(
      `error: ${Status[error.code] ?? error.code}: ${error.details}${
        extra.length ? ` (${extra.join(", ")})` : ""
      }\n`,
    );
    return EXIT.failed;
  }
  if (
    error instanceof InputFileError || error instanceof ArchiveFileError ||
    error instanceof RangeError || error instanceof TypeError ||
    error instanceof Deno.errors.NotFound ||
    error instanceof Deno.errors.PermissionDenied
  ) {
    io.stderr(`error: ${error.message}\n`);
    return EXIT.failed;
  }
  io.stderr(
    `error: ${error instanceof Error ? error.stack ?? error.message : error}\n`,
  );
  return EXIT.failed;
}
