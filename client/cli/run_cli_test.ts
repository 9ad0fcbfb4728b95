/**
 * runCli() against a scripted client (no server): what each command sends,
 * prints and writes, the interrupt path of `train`, and the error lines and
 * exit codes. The end-to-end tests against a real server are in
 * cli_e2e_test.ts.
 */
import assert from "node:assert/strict";
import {
  type ClientOptions,
  encodeTensor,
  type ExplainResponse,
  JobState,
  Method,
  type RnnExplainClient,
  RpcError,
  Status,
  TargetKind,
  type TrainingProgress,
  type WatchTrainingResponse,
} from "../mod.ts";
import { type CliIo, runCli } from "./run_cli.ts";

interface Captured {
  io: CliIo;
  stdout: () => string;
  stderr: () => string;
}

function capture(): Captured {
  let out = "";
  let err = "";
  return {
    io: {
      stdout: (s) => void (out += s),
      stderr: (s) => void (err += s),
      stderrIsTerminal: false,
    },
    stdout: () => out,
    stderr: () => err,
  };
}

/** A client whose methods are the given fakes; any other call fails the test. */
function fakeClient(
  methods: Partial<Record<keyof RnnExplainClient, unknown>>,
  calls: Array<[string, unknown]>,
): (address: string, options: ClientOptions) => RnnExplainClient {
  return (address, options) => {
    calls.push(["connect", { address, options }]);
    return new Proxy({} as RnnExplainClient, {
      get(_, name: string | symbol) {
        if (name === "close") return () => calls.push(["close", undefined]);
        const method = methods[name as keyof RnnExplainClient];
        if (method === undefined) {
          return () => {
            throw new Error(`unexpected call ${String(name)}`);
          };
        }
        return (request: unknown, ...rest: unknown[]) => {
          calls.push([String(name), request]);
          return (method as (...a: unknown[]) => unknown)(request, ...rest);
        };
      },
    });
  };
}

function progress(step: number): TrainingProgress {
  return {
    epoch: 1,
    epochs: 1,
    step,
    stepsPerEpoch: 10,
    loss: 2,
    accuracy: 0.1,
    samplesPerSecond: 100,
    etaSeconds: 5,
    completedEpochs: 0,
  };
}

function update(
  state: JobState,
  step: number,
  modelId = "",
): WatchTrainingResponse {
  return { jobId: "j1", state, progress: progress(step), modelId, error: "" };
}

Deno.test("runCli() train sends the spec and config, shows progress and prints the model id", async () => {
  const calls: Array<[string, unknown]> = [];
  const c = capture();
  const code = await runCli(
    [
      "train",
      "--arch",
      "r_lstm",
      "--dataset",
      "mnist",
      "--problem",
      "majority",
      "--steps",
      "12",
      "--epochs",
      "1",
      "--max-samples",
      "500",
      "--lr",
      "0.001",
      "--seed",
      "3",
      "--address",
      "127.0.0.1:1",
    ],
    {
      io: c.io,
      connect: fakeClient({
        startTraining: () =>
          Promise.resolve({
            job: { id: "j1", state: JobState.JOB_STATE_QUEUED },
          }),
        async *watchTraining() {
          yield update(JobState.JOB_STATE_QUEUED, 0);
          yield update(JobState.JOB_STATE_RUNNING, 5);
          yield {
            ...update(JobState.JOB_STATE_SUCCEEDED, 10, "m42"),
            progress: { ...progress(10), heldoutAccuracy: 0.875 },
          };
        },
      }, calls),
    },
  );
  assert.equal(code, 0, c.stderr());
  assert.equal(c.stdout(), "m42\n");
  assert.match(c.stderr(), /Started training job j1\n/);
  assert.match(
    c.stderr(),
    /epoch 1\/1 \[##########----------\] {2}50% step 5\/10/,
  );
  assert.match(c.stderr(), /held-out accuracy 87\.5%/);
  const start = calls.find(([name]) => name === "startTraining")![1];
  assert.deepEqual(start, {
    spec: {
      architecture: 6,
      steps: 12,
      columns: 7,
      dropout: 1,
      bias: 1,
    },
    config: {
      data: {
        dataset: 1,
        problem: 2,
        split: { kind: { $case: "standard", standard: {} } },
        seed: 0,
      },
      epochs: 1,
      learningRate: 0.001,
      seed: 3,
      maxTrainSamples: 500,
    },
    displayName: "",
  });
  assert.deepEqual(calls.at(-1), ["close", undefined]);
  assert.deepEqual(calls[0], [
    "connect",
    { address: "127.0.0.1:1", options: {} },
  ]);
});

Deno.test("runCli() train cancels the job on interrupt and exits with 130", async () => {
  const calls: Array<[string, unknown]> = [];
  const c = capture();
  const interrupt = new AbortController();
  let cancelled!: () => void;
  const cancel = new Promise<void>((resolve) => (cancelled = resolve));
  const code = await runCli(["train", "--epochs", "2"], {
    io: c.io,
    interrupt: interrupt.signal,
    connect: fakeClient({
      startTraining: () => Promise.resolve({ job: { id: "j1" } }),
      async *watchTraining() {
        yield update(JobState.JOB_STATE_RUNNING, 1);
        interrupt.abort(); // Ctrl-C while the job runs
        await cancel; // the server stops the job only once it is asked to
        yield update(JobState.JOB_STATE_CANCELLED, 1);
      },
      cancelTraining: () => {
        cancelled();
        return Promise.resolve({ job: { id: "j1" } });
      },
    }, calls),
  });
  assert.equal(code, 130);
  assert.deepEqual(
    calls.filter(([n]) => n === "cancelTraining"),
    [["cancelTraining", { jobId: "j1" }]],
  );
  assert.match(c.stderr(), /Interrupted: cancelling job j1\n/);
  assert.match(c.stderr(), /Job j1 ended cancelled\n/);
  assert.equal(c.stdout(), "");
});

Deno.test("runCli() explain prints each step as it arrives and writes PNGs and JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const calls: Array<[string, unknown]> = [];
    const c = capture();
    const code = await runCli(
      [
        "explain",
        "m1",
        "--sample-index",
        "4",
        "--method",
        "lrp_alpha_beta",
        "--alpha",
        "1.5",
        "--beta",
        "0.5",
        "--target",
        "predicted",
        "--out",
        dir,
        "--scale",
        "1",
      ],
      {
        io: c.io,
        connect: fakeClient({
          getModel: () =>
            Promise.resolve({
              model: {
                id: "m1",
                training: { data: { dataset: 1, problem: 2, seed: 5 } },
              },
            }),
          async *explain(): AsyncGenerator<ExplainResponse> {
            for (let t = 2; t >= 0; t--) {
              yield {
                event: {
                  $case: "step",
                  step: {
                    timestep: t,
                    relevance: encodeTensor([t, -t, 0, 1], [2, 2]),
                    relevanceSum: 1,
                  },
                },
              };
            }
            yield {
              event: {
                $case: "summary",
                summary: {
                  method: Method.METHOD_LRP_ALPHA_BETA,
                  params: { alpha: 1.5, beta: 0.5 },
                  targetKind: TargetKind.TARGET_KIND_PREDICTED,
                  targetClass: 4,
                  predictedClass: 4,
                  trueLabel: 4,
                  targetLogit: 3,
                  startRelevance: 3,
                  inputRelevance: 3,
                  absorbedRelevance: 0,
                  initialStateRelevance: 0,
                  conservationResidual: 0,
                  conservative: true,
                },
              },
            };
          },
        }, calls),
      },
    );
    assert.equal(code, 0, c.stderr());
    const lines = c.stdout().split("\n");
    assert.match(
      lines[0]!,
      /^step {2}2: sum \+1\.0000 {2}max \|R\| 2\.00e\+0 /,
    );
    assert.match(
      lines[2]!,
      /^step {2}0: sum \+1\.0000 {2}max \|R\| 1\.00e\+0 /,
    );
    assert.match(c.stdout(), /lrp_alpha_beta: target class 4, predicted 4/);
    assert.match(c.stdout(), /wrote 3 step PNGs and .*sequence\.png/);
    const request = calls.find(([n]) => n === "explain")![1];
    assert.deepEqual(request, {
      modelId: "m1",
      input: {
        source: {
          $case: "sample",
          sample: {
            source: { dataset: 1, problem: 2, seed: 5 },
            part: 2,
            index: 4,
          },
        },
      },
      explainer: {
        method: Method.METHOD_LRP_ALPHA_BETA,
        params: { alpha: 1.5, beta: 0.5 },
      },
      target: { kind: TargetKind.TARGET_KIND_PREDICTED },
    });
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names.sort(), [
      "explanation.json",
      "sequence.png",
      "step_00.png",
      "step_01.png",
      "step_02.png",
    ]);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/explanation.json`));
    assert.deepEqual(json.request, {
      modelId: "m1",
      sampleIndex: 4,
      split: "test",
    });
    assert.deepEqual(json.relevance[2], [[2, -2], [0, 1]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runCli() evaluate gives each method only its own parameters and prints a table", async () => {
  const calls: Array<[string, unknown]> = [];
  const c = capture();
  const metric = (mean: number) => ({
    mean,
    std: 0.1,
    ci95Low: mean - 0.02,
    ci95High: mean + 0.02,
  });
  const code = await runCli(
    [
      "evaluate",
      "m1",
      "--alpha",
      "1.5",
      "--beta",
      "0.5",
      "--max-samples",
      "50",
    ],
    {
      io: c.io,
      connect: fakeClient({
        async *evaluate() {
          yield {
            event: {
              $case: "progress",
              progress: { samplesDone: 200, samplesTotal: 200 },
            },
          };
          for (const [method, cos] of [[1, 0.5], [6, 0.9]] as const) {
            yield {
              event: {
                $case: "report",
                report: {
                  explainer: { method, params: {} },
                  negativeRelevance: 2,
                  sampleCount: 50,
                  modelAccuracy: 0.9,
                  cosineSimilarity: metric(cos),
                  correctBlockShare: metric(0.7),
                  relevanceMassAccuracy: metric(0.6),
                  relevanceRankAccuracy: metric(0.55),
                },
              },
            };
          }
        },
      }, calls),
    },
  );
  assert.equal(code, 0, c.stderr());
  const request = calls.find(([n]) => n === "evaluate")![1] as {
    explainers: unknown[];
  };
  assert.deepEqual(request.explainers, [
    { method: Method.METHOD_SENSITIVITY, params: {} },
    { method: Method.METHOD_GUIDED_BACKPROP, params: {} },
    { method: Method.METHOD_DEEP_TAYLOR, params: {} },
    { method: Method.METHOD_LRP_ALPHA_BETA, params: { alpha: 1.5, beta: 0.5 } },
  ]);
  const lines = c.stdout().trimEnd().split("\n");
  assert.match(
    lines[0]!,
    /^METHOD +COSINE SIM +CORRECT-BLOCK SHARE +MASS ACC +RANK ACC/,
  );
  assert.match(
    lines[1]!,
    /^sensitivity +0\.500 ± 0\.020 +0\.700 ± 0\.020 +0\.600 ± 0\.020 +0\.550 ± 0\.020 +keep +50 +90\.0%$/,
  );
  assert.match(lines[2]!, /^deep_taylor +0\.900 ± 0\.020 /);
  assert.match(c.stderr(), /evaluating: 200\/200 explanations/);
});

Deno.test("runCli() prints the status name and message of a failed call and exits with 1", async () => {
  const c = capture();
  const code = await runCli(["models", "show", "nope"], {
    io: c.io,
    connect: fakeClient({
      getModel: () =>
        Promise.reject(
          new RpcError(Status.NOT_FOUND, 'Cannot find model "nope"', {
            metadata: { "x-request-id": "r-1" },
          }),
        ),
    }, []),
  });
  assert.equal(code, 1);
  assert.equal(
    c.stderr(),
    'error: NOT_FOUND: Cannot find model "nope" (request id r-1)\n',
  );
  assert.equal(c.stdout(), "");
});

Deno.test("runCli() exits with 2 and sends nothing for a usage error", async () => {
  const calls: Array<[string, unknown]> = [];
  const c = capture();
  const code = await runCli(["explain", "m1", "--target", "11"], {
    io: c.io,
    connect: fakeClient({}, calls),
  });
  assert.equal(code, 2);
  assert.match(
    c.stderr(),
    /^error: Cannot parse "--target": expected true, predicted or a class 0-9, found "11"\n/,
  );
  assert.deepEqual(
    calls.map(([n]) => n).filter((n) => n !== "connect" && n !== "close"),
    [],
  );

  const d = capture();
  assert.equal(
    await runCli(["train", "--steps", "5"], {
      io: d.io,
      connect: fakeClient({}, []),
    }),
    2,
  );
  assert.match(d.stderr(), /need T to divide 84/);

  const e = capture();
  assert.equal(
    await runCli(["models", "list", "--tls-cert", "a.pem"], {
      io: e.io,
      connect: fakeClient({}, []),
    }),
    2,
  );
  assert.match(e.stderr(), /give both --tls-cert and --tls-key/);

  const f = capture();
  assert.equal(
    await runCli(["explain", "m1"], { io: f.io, connect: fakeClient({}, []) }),
    2,
  );
  assert.match(f.stderr(), /give exactly one of --sample-index and --input/);
});

Deno.test("runCli() --help prints help on stdout and exits with 0", async () => {
  const c = capture();
  assert.equal(await runCli(["train", "--help"], { io: c.io }), 0);
  assert.match(c.stdout(), /^Usage: deno task cli train \[flags\]/);
  assert.match(c.stdout(), /--max-samples INTEGER/);
});

Deno.test("runCli() classify sends an --input file as a tensor with its label", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/x.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ shape: [2, 3], data: [-1, 0, 1, 1, 0, -1], label: 2 }),
    );
    const calls: Array<[string, unknown]> = [];
    const c = capture();
    const code = await runCli(["classify", "m1", "--input", file], {
      io: c.io,
      connect: fakeClient({
        classify: () =>
          Promise.resolve({
            classifications: [{
              logits: [0, 0, 3, 0, 0, 0, 0, 0, 0, 0],
              probabilities: [0, 0, 0.9, 0, 0, 0, 0, 0, 0, 0],
              pseudoClassProbability: 0.1,
              predictedClass: 2,
              trueLabel: 2,
            }],
          }),
      }, calls),
    });
    assert.equal(code, 0, c.stderr());
    const request = calls.find(([n]) => n === "classify")![1] as {
      inputs: Array<
        {
          source: { tensor: { shape: number[]; data: Uint8Array } };
          label: number;
        }
      >;
    };
    const input = request.inputs[0]!;
    assert.deepEqual(input.source.tensor.shape, [2, 3]);
    assert.deepEqual(
      [...new Float32Array(new Uint8Array(input.source.tensor.data).buffer)],
      [-1, 0, 1, 1, 0, -1],
    );
    assert.equal(input.label, 2);
    assert.match(c.stdout(), /^predicted class 2 \(true label 2\)\n/);
    assert.match(c.stdout(), /\npseudo +0\.0000 +10\.00%\n/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runCli() evaluate --fold evaluates that fold of the model's data source", async () => {
  const calls: Array<[string, unknown]> = [];
  const c = capture();
  const code = await runCli(
    [
      "evaluate",
      "m1",
      "--methods",
      "deep_taylor",
      "--fold",
      "2",
      "--folds",
      "5",
    ],
    {
      io: c.io,
      connect: fakeClient({
        getModel: () =>
          Promise.resolve({
            model: {
              id: "m1",
              training: { data: { dataset: 1, problem: 2, seed: 9 } },
            },
          }),
        async *evaluate() {},
      }, calls),
    },
  );
  assert.equal(code, 0, c.stderr());
  const request = calls.find(([n]) => n === "evaluate")![1] as {
    data: unknown;
  };
  assert.deepEqual(request.data, {
    dataset: 1,
    problem: 2,
    seed: 9,
    split: {
      kind: {
        $case: "crossValidation",
        crossValidation: { fold: 2, folds: 5 },
      },
    },
  });
  const d = capture();
  assert.equal(
    await runCli(["evaluate", "m1", "--folds", "5"], {
      io: d.io,
      connect: fakeClient({}, []),
    }),
    2,
  );
  assert.match(d.stderr(), /Cannot use --folds: --fold is missing/);
});
