/**
 * The rnn-explain command line (`deno task cli …`), built on `client/mod.ts`
 * and `client/heatmap/`: models, training jobs with a progress bar,
 * classification, streamed explanations written as heatmap PNGs and JSON,
 * and evaluation tables.
 *
 * @example
 * ```ts
 * import { runCli } from "./client/cli/mod.ts";
 *
 * Deno.exit(await runCli(["models", "list"]));
 * ```
 *
 * @module
 */
export {
  type CliIo,
  COMMANDS,
  DEFAULT_ADDRESS,
  denoIo,
  EXIT,
  runCli,
  type RunCliOptions,
} from "./run_cli.ts";
export {
  type CommandSpec,
  type FlagSpec,
  GLOBAL_FLAGS,
  helpText,
  parseCommandLine,
  type ParsedCommandLine,
  UsageError,
} from "./args.ts";
export {
  type Explanation,
  ExplanationCollector,
  explanationJson,
  type InputImage,
  type OutputFormat,
  renderGrayscale,
  sharedMaxAbs,
  writeExplanationFiles,
  type WriteExplanationOptions,
  type WrittenFiles,
} from "./explanation_files.ts";
export {
  InputFileError,
  type InputSequence,
  parseInputFile,
} from "./input_file.ts";
export {
  ArchiveFileError,
  packArchive,
  unpackArchive,
} from "./models_commands.ts";
