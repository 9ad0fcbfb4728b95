/**
 * `train` and `jobs list|watch|resume|cancel`: training jobs with a progress
 * bar on stderr. Ctrl-C during `train` (or `jobs resume`) cancels the job
 * with CancelTraining, waits for it to stop, and exits with 130.
 *
 * @module
 */
import {
  Architecture,
  BiasMode,
  Dataset,
  DropoutMode,
  JobState,
  type PartialMessage,
  Problem,
  type StartTrainingRequest,
  TrainingJob,
  type WatchTrainingResponse,
} from "../mod.ts";
import type { FlagSpec } from "./args.ts";
import { UsageError } from "./args.ts";
import {
  type Command,
  type CommandContext,
  enumKey,
  enumKeys,
  enumValue,
  EXIT,
  formatTable,
} from "./_context.ts";
import { ProgressBar } from "./_progress_bar.ts";

/** How long a cancelled job may take to report that it stopped. */
const CANCEL_WAIT_MS = 15_000;

const ARCHITECTURES = enumKeys(Architecture, "ARCHITECTURE_");
const STATES = enumKeys(JobState, "JOB_STATE_");

const count = (help: string, min = 1): FlagSpec => ({
  type: "integer",
  min,
  help,
});

/** Builds the StartTraining request from `train`'s flags. */
export function trainingRequest(
  ctx: Pick<CommandContext, "string" | "number" | "has">,
): PartialMessage<StartTrainingRequest> {
  const problem = ctx.string("problem", "majority");
  const steps = ctx.number("steps", 12);
  const width = problem === "majority" ? 84 : 28;
  const columns = ctx.number("columns") ?? width / steps;
  if (!Number.isInteger(columns) || columns * steps !== width) {
    throw new UsageError(
      `Cannot train with --steps ${steps}: the ${width}-pixel-wide ${problem} images need T to divide ${width}, or --columns`,
    );
  }
  const layerSizes: Record<string, number> = {};
  for (
    const [flag, field] of [
      ["in1", "in1"],
      ["in2", "in2"],
      ["hidden", "hidden"],
      ["recur", "recur"],
      ["out1", "out1"],
      ["conv1-filters", "conv1Filters"],
      ["conv2-filters", "conv2Filters"],
    ] as const
  ) {
    const v = ctx.number(flag);
    if (v !== undefined) layerSizes[field] = v;
  }
  const fold = ctx.number("fold");
  const folds = ctx.number("folds");
  if (folds !== undefined && fold === undefined) {
    throw new UsageError("Cannot use --folds: --fold is missing");
  }
  if (fold !== undefined && fold >= (folds ?? 7)) {
    throw new UsageError(
      `Cannot use --fold ${fold}: expected below --folds (${folds ?? 7})`,
    );
  }
  return {
    spec: {
      architecture: enumValue(
        Architecture,
        ctx.string("arch", "r_lstm"),
        "ARCHITECTURE_",
      ),
      steps,
      columns,
      dropout: enumValue(
        DropoutMode,
        ctx.string("dropout", "none"),
        "DROPOUT_MODE_",
      ),
      ...(ctx.has("keep-prob") ? { keepProb: ctx.number("keep-prob") } : {}),
      bias: enumValue(BiasMode, ctx.string("bias", "softplus"), "BIAS_MODE_"),
      ...(Object.keys(layerSizes).length > 0 ? { layerSizes } : {}),
    },
    config: {
      data: {
        dataset: enumValue(
          Dataset,
          ctx.string("dataset", "mnist"),
          "DATASET_",
        ),
        problem: enumValue(Problem, problem, "PROBLEM_"),
        split: fold === undefined
          ? { kind: { $case: "standard", standard: {} } }
          : {
            kind: {
              $case: "crossValidation",
              crossValidation: { fold, ...(folds ? { folds } : {}) },
            },
          },
        seed: ctx.number("data-seed", 0),
      },
      epochs: ctx.number("epochs", 1),
      ...(ctx.has("batch-size") ? { batchSize: ctx.number("batch-size") } : {}),
      ...(ctx.has("lr") ? { learningRate: ctx.number("lr") } : {}),
      seed: ctx.number("seed", 0),
      ...(ctx.has("max-samples")
        ? { maxTrainSamples: ctx.number("max-samples") }
        : {}),
    },
    displayName: ctx.string("name", ""),
  };
}

const DETACH: FlagSpec = {
  type: "boolean",
  help: "print the job id and return at once, without watching",
};

const train: Command = {
  spec: {
    words: ["train"],
    summary:
      "Train a model, showing progress; prints the model id (Ctrl-C cancels the job)",
    positionals: [],
    flags: {
      arch: {
        type: "string",
        choices: ARCHITECTURES,
        help: "architecture",
        defaultText: "r_lstm",
      },
      dataset: {
        type: "string",
        choices: enumKeys(Dataset, "DATASET_"),
        help: "dataset",
        defaultText: "mnist",
      },
      problem: {
        type: "string",
        choices: enumKeys(Problem, "PROBLEM_"),
        help: "problem built from the dataset",
        defaultText: "majority",
      },
      steps: { ...count("sequence length T"), defaultText: "12" },
      columns: count("columns per step (default: image width / T)"),
      epochs: { ...count("passes over the training part"), defaultText: "1" },
      "batch-size": { ...count("samples per Adam step"), defaultText: "50" },
      lr: {
        type: "number",
        min: 0,
        help: "Adam learning rate",
        defaultText: "0.0002",
      },
      seed: { ...count("seed of weights, dropout and shuffles", 0) },
      "data-seed": count("seed of the data construction", 0),
      "max-samples": count("train on at most this many samples"),
      fold: count("train on cross-validation fold k (held out: fold k)", 0),
      folds: count("number of cross-validation folds", 2),
      dropout: {
        type: "string",
        choices: enumKeys(DropoutMode, "DROPOUT_MODE_"),
        help: "dropout during training",
        defaultText: "none",
      },
      "keep-prob": {
        type: "number",
        min: 0,
        max: 1,
        help: "keep probability under dropout",
      },
      bias: {
        type: "string",
        choices: enumKeys(BiasMode, "BIAS_MODE_"),
        help: "bias form of ReLU and logit layers",
        defaultText: "softplus",
      },
      in1: count("width of the first input layer"),
      in2: count("width of the second input layer (deep_v2)"),
      hidden: count("width of the hidden layer"),
      recur: count("width of the recurrent state / LSTM cell"),
      out1: count("width of the first head layer"),
      "conv1-filters": count("filters of the first convolution"),
      "conv2-filters": count("filters of the second convolution"),
      name: { type: "string", help: "display name of the job and model" },
      detach: DETACH,
    },
  },
  async run(ctx) {
    const request = trainingRequest(ctx);
    const { job } = await ctx.client.startTraining(request, ctx.call());
    if (job === undefined) throw new Error("StartTraining returned no job");
    if (!ctx.json) ctx.note(`Started training job ${job.id}`);
    if (ctx.boolean("detach")) {
      if (ctx.json) ctx.printJson(TrainingJob.toJSON(job));
      else ctx.print(job.id);
      return EXIT.ok;
    }
    return await watchJob(ctx, job.id, true);
  },
};

/**
 * Watches a job until it ends, with a progress bar on stderr. With
 * `cancelOnInterrupt`, Ctrl-C cancels the job and waits for it to stop;
 * otherwise Ctrl-C only stops watching.
 *
 * @returns the exit code: 0 when SUCCEEDED (the model id is printed), 130
 * when interrupted, 1 otherwise
 */
export async function watchJob(
  ctx: CommandContext,
  jobId: string,
  cancelOnInterrupt: boolean,
): Promise<number> {
  const bar = new ProgressBar({
    write: (text) => ctx.io.stderr(text),
    isTerminal: ctx.io.stderrIsTerminal,
  });
  const stop = new AbortController();
  let interrupted = false;
  let cancelFailure: unknown;
  const onInterrupt = () => {
    interrupted = true;
    if (!cancelOnInterrupt) {
      stop.abort(ctx.interrupt.reason);
      return;
    }
    bar.note(`Interrupted: cancelling job ${jobId}`);
    ctx.client.cancelTraining({ jobId }, ctx.call()).catch((error) => {
      cancelFailure = error;
      stop.abort(error);
    });
    // The watch stream ends once the job reports CANCELLED; do not wait for
    // a server that never answers.
    setTimeout(() => stop.abort(), CANCEL_WAIT_MS).unref?.();
  };
  if (ctx.interrupt.aborted) onInterrupt();
  else ctx.interrupt.addEventListener("abort", onInterrupt, { once: true });
  let last: WatchTrainingResponse | undefined;
  let shown = -1;
  try {
    for await (
      const update of ctx.client.watchTraining(
        { jobId },
        { signal: stop.signal },
      )
    ) {
      last = update;
      if (ctx.json) continue; // the final job is printed below
      const p = update.progress;
      // Updates may overtake each other (an epoch's held-out score arrives
      // after the next epoch began): the bar never goes back.
      const at = p ? p.epoch * 1e9 + p.step : -1;
      if (
        p && update.state === JobState.JOB_STATE_RUNNING &&
        p.stepsPerEpoch > 0 && at >= shown
      ) {
        shown = at;
        bar.update(p);
      }
    }
  } catch (error) {
    bar.done();
    if (interrupted) {
      if (cancelFailure !== undefined) throw cancelFailure;
      ctx.note(
        cancelOnInterrupt
          ? `Job ${jobId} did not confirm the cancellation in time`
          : `Stopped watching job ${jobId}; it continues on the server`,
      );
      return EXIT.interrupted;
    }
    throw error;
  } finally {
    ctx.interrupt.removeEventListener("abort", onInterrupt);
  }
  bar.done();
  const state = last?.state ?? JobState.JOB_STATE_UNSPECIFIED;
  const stateName = enumKey(JobState, state, "JOB_STATE_");
  if (ctx.json) {
    const { job } = await ctx.client.getTrainingJob({ jobId }, ctx.call());
    ctx.printJson(job ? TrainingJob.toJSON(job) : { jobId, state: stateName });
  }
  const p = last?.progress;
  if (state === JobState.JOB_STATE_SUCCEEDED) {
    if (!ctx.json) {
      if (p?.heldoutAccuracy !== undefined) {
        ctx.note(
          `Job ${jobId} succeeded: training accuracy ${
            (p.accuracy * 100).toFixed(1)
          }%, held-out accuracy ${(p.heldoutAccuracy * 100).toFixed(1)}%`,
        );
      } else ctx.note(`Job ${jobId} succeeded`);
      ctx.print(last!.modelId);
    }
    return EXIT.ok;
  }
  if (!ctx.json) {
    ctx.note(
      `Job ${jobId} ended ${stateName}${last?.error ? `: ${last.error}` : ""}`,
    );
  }
  return interrupted ? EXIT.interrupted : EXIT.failed;
}

const jobsList: Command = {
  spec: {
    words: ["jobs", "list"],
    summary: "List training jobs, newest first",
    positionals: [],
    flags: {
      state: {
        type: "list",
        choices: STATES,
        help: "only jobs in these states (comma-separated)",
      },
    },
  },
  async run(ctx) {
    const states = ctx.list("state", []).map((s) =>
      enumValue(JobState, s, "JOB_STATE_")
    );
    const jobs: TrainingJob[] = [];
    let pageToken = "";
    do {
      const page = await ctx.client.listTrainingJobs(
        { pageSize: 1000, pageToken, states },
        ctx.call(),
      );
      jobs.push(...page.jobs);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    if (ctx.json) {
      ctx.printJson({ jobs: jobs.map((j) => TrainingJob.toJSON(j)) });
      return EXIT.ok;
    }
    if (jobs.length === 0) {
      ctx.print("No training jobs");
      return EXIT.ok;
    }
    const rows = jobs.map((j) => [
      j.id,
      enumKey(JobState, j.state, "JOB_STATE_"),
      j.displayName || "-",
      enumKey(Architecture, j.spec?.architecture ?? 0, "ARCHITECTURE_"),
      `${j.progress?.completedEpochs ?? 0}/${j.config?.epochs ?? "?"}`,
      j.modelId || "-",
      j.createTime,
    ]);
    const header = [
      "ID",
      "STATE",
      "NAME",
      "ARCH",
      "EPOCHS",
      "MODEL",
      "CREATED",
    ];
    for (const line of formatTable(header, rows)) ctx.print(line);
    return EXIT.ok;
  },
};

const jobsWatch: Command = {
  spec: {
    words: ["jobs", "watch"],
    summary:
      "Follow a job's progress until it ends (Ctrl-C stops watching only)",
    positionals: [{ name: "job", help: "the job's id" }],
    flags: {},
  },
  run: (ctx) => watchJob(ctx, ctx.positionals[0]!, false),
};

const jobsResume: Command = {
  spec: {
    words: ["jobs", "resume"],
    summary: "Resume an interrupted job and follow it (Ctrl-C cancels the job)",
    positionals: [{ name: "job", help: "the job's id" }],
    flags: { detach: DETACH },
  },
  async run(ctx) {
    const jobId = ctx.positionals[0]!;
    const { job } = await ctx.client.resumeTraining({ jobId }, ctx.call());
    if (!ctx.json) ctx.note(`Resumed training job ${jobId}`);
    if (ctx.boolean("detach")) {
      if (ctx.json && job) ctx.printJson(TrainingJob.toJSON(job));
      return EXIT.ok;
    }
    return await watchJob(ctx, jobId, true);
  },
};

const jobsCancel: Command = {
  spec: {
    words: ["jobs", "cancel"],
    summary: "Cancel a queued or running job",
    positionals: [{ name: "job", help: "the job's id" }],
    flags: {},
  },
  async run(ctx) {
    const jobId = ctx.positionals[0]!;
    const { job } = await ctx.client.cancelTraining({ jobId }, ctx.call());
    if (ctx.json) ctx.printJson(job ? TrainingJob.toJSON(job) : {});
    else {
      ctx.print(
        `Cancelling job ${jobId}: ${
          enumKey(JobState, job?.state ?? 0, "JOB_STATE_")
        }`,
      );
    }
    return EXIT.ok;
  },
};

/** The `train` and `jobs` commands. */
export const TRAINING_COMMANDS: readonly Command[] = [
  train,
  jobsList,
  jobsWatch,
  jobsResume,
  jobsCancel,
];
