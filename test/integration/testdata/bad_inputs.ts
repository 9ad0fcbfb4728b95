/**
 * The bad-input corpus: requests the server must refuse, each with the exact
 * status and the `rnnexplain-field` trailer it must answer with. Used by
 * bad_input_test.ts against a live server holding the models of
 * {@linkcode CORPUS_MODELS} and configured with {@linkcode CORPUS_LIMITS}.
 *
 * A case's `field` is the trailer the server must send; `undefined` means
 * none: grpc-js's own message-size refusal, NOT_FOUND, and ids the store
 * refuses (their message names the id instead).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  Architecture,
  type ClassifyRequest,
  Dataset,
  type DeleteModelRequest,
  encodeTensor,
  type EvaluateRequest,
  type ExplainBatchRequest,
  type ExplainerParams,
  type ExplainRequest,
  type ExportModelRequest,
  type GetModelRequest,
  type GetTrainingJobRequest,
  type Input,
  InputDomain,
  JobState,
  type ListExplainersRequest,
  type ListModelsRequest,
  type ListTrainingJobsRequest,
  Method,
  type PartialMessage,
  Problem,
  type StartTrainingRequest,
  Status,
  TargetKind,
  type Tensor,
} from "../../../client/mod.ts";
import type { ModelSpecInit } from "../../../models/mod.ts";

/** Server limits the corpus assumes (small, so that "huge" stays cheap). */
export const CORPUS_LIMITS = { maxBatch: 4, maxMessageBytes: 200_000 };

/** The models the corpus refers to: T = 12 × 28·7 and T = 4 × 28·7. */
export const CORPUS_MODELS: Record<string, {
  spec: ModelSpecInit;
  problem: string;
}> = {
  r12: {
    spec: {
      architecture: "r_lstm",
      steps: 12,
      columns: 7,
      layers: { in1: 16, recur: 8 },
    },
    problem: "majority",
  },
  sh4: {
    spec: {
      architecture: "shallow",
      steps: 4,
      columns: 7,
      layers: { hidden: 8, recur: 8 },
    },
    problem: "sequence",
  },
};

/** Request type of each RPC the corpus calls. */
export interface CorpusRequests {
  explain: ExplainRequest;
  explainBatch: ExplainBatchRequest;
  classify: ClassifyRequest;
  listExplainers: ListExplainersRequest;
  listModels: ListModelsRequest;
  getModel: GetModelRequest;
  deleteModel: DeleteModelRequest;
  exportModel: ExportModelRequest;
  startTraining: StartTrainingRequest;
  getTrainingJob: GetTrainingJobRequest;
  cancelTraining: GetTrainingJobRequest;
  resumeTraining: GetTrainingJobRequest;
  watchTraining: GetTrainingJobRequest;
  listTrainingJobs: ListTrainingJobsRequest;
  evaluate: EvaluateRequest;
}

/** One refused request. */
export type BadInputCase = {
  [K in keyof CorpusRequests]: {
    /** What is wrong, for the step name. */
    name: string;
    /** The RPC. */
    rpc: K;
    /** The request. */
    request: PartialMessage<CorpusRequests[K]>;
    /** The exact status. */
    code: Status;
    /** The exact `rnnexplain-field` trailer, or `undefined` for none. */
    field: string | undefined;
  };
}[keyof CorpusRequests];

const ROWS = 28;
const C = 7;
const STEP = ROWS * C;

/** Seeded values in [−1, 1). */
function values(count: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

/** A well-formed tensor of `shape`. */
function tensor(shape: number[], seed = 1): Tensor {
  return encodeTensor(values(shape.reduce((a, d) => a * d, 1), seed), shape);
}

/** A tensor with `shape` and `bytes` raw data bytes (any mismatch allowed). */
function raw(shape: number[], bytes: number): Tensor {
  return { shape, data: Buffer.alloc(bytes) };
}

/** A well-formed [T, 196] tensor with `value` at index 100. */
function poisoned(steps: number, value: number): Tensor {
  const x = values(steps * STEP, 3);
  x[100] = value;
  return encodeTensor(x, [steps, STEP]);
}

function input(t: Tensor, label?: number): PartialMessage<Input> {
  return {
    source: { $case: "tensor", tensor: t },
    ...(label === undefined ? {} : { label }),
  };
}

const GOOD_12 = input(tensor([12, STEP]));
const EPSILON = { method: Method.METHOD_LRP_EPSILON };

function explain(
  name: string,
  patch: PartialMessage<ExplainRequest>,
  code: Status,
  field: string | undefined,
): BadInputCase {
  return {
    name,
    rpc: "explain",
    request: { modelId: "r12", input: GOOD_12, explainer: EPSILON, ...patch },
    code,
    field,
  };
}

function badTensor(name: string, t: Tensor, field: string): BadInputCase {
  return explain(
    name,
    { input: input(t) },
    Status.INVALID_ARGUMENT,
    `input.tensor.${field}`,
  );
}

function badParams(
  name: string,
  method: Method,
  params: PartialMessage<ExplainerParams>,
): BadInputCase {
  return explain(
    name,
    { explainer: { method, params } },
    Status.INVALID_ARGUMENT,
    "explainer.params",
  );
}

/** Malformed tensors: byte lengths, empty and overflowing shapes, missing tensors. */
const MALFORMED: BadInputCase[] = [
  badTensor("data one byte short", raw([12, STEP], 4 * 12 * STEP - 1), "data"),
  badTensor("data one value long", raw([12, STEP], 4 * 12 * STEP + 4), "data"),
  badTensor("no data for a shape", raw([12, STEP], 0), "data"),
  badTensor("a zero in the shape", raw([12, 0], 0), "shape"),
  badTensor("a shape of one zero", raw([0], 0), "shape"),
  badTensor("a scalar shape", raw([], 4), "shape"),
  badTensor("a 2^64-element shape", raw([2 ** 32 - 1, 2 ** 32 - 1], 4), "data"),
  badTensor(
    "a shape whose product overflows to Infinity",
    raw(Array(40).fill(2 ** 32 - 1), 8),
    "data",
  ),
  explain(
    "an input without a tensor",
    { input: {} },
    Status.INVALID_ARGUMENT,
    "input",
  ),
  explain(
    "no input at all",
    { input: undefined },
    Status.INVALID_ARGUMENT,
    "input",
  ),
  {
    name: "Classify: the second input's bytes do not match its shape",
    rpc: "classify",
    request: {
      modelId: "r12",
      inputs: [GOOD_12, input(raw([12, STEP], 12))],
    },
    code: Status.INVALID_ARGUMENT,
    field: "inputs[1].tensor.data",
  },
];

/** Shapes that fit no layout of the model's architecture and geometry. */
const WRONG_SHAPES: BadInputCase[] = [
  badTensor("T = 4 steps for a T = 12 R-LSTM", tensor([4, STEP]), "shape"),
  badTensor("8 columns per step for c = 7", tensor([12, ROWS, 8]), "shape"),
  badTensor("a 28 × 28 image for a 28 × 84 model", tensor([28, 28]), "shape"),
  badTensor("a trailing unit dimension", tensor([12, STEP, 1]), "shape"),
  badTensor("a flat vector", tensor([12 * STEP]), "shape"),
  badTensor("60 steps (longer than T) for T = 12", tensor([60, STEP]), "shape"),
  explain(
    "T = 12 steps for a T = 4 shallow network",
    { modelId: "sh4" },
    Status.INVALID_ARGUMENT,
    "input.tensor.shape",
  ),
  explain(
    "a 28 × 84 image for a 28 × 28 shallow network",
    { modelId: "sh4", input: input(tensor([ROWS, 84])) },
    Status.INVALID_ARGUMENT,
    "input.tensor.shape",
  ),
  {
    name: "ExplainBatch: the first input fits, the second is [4, 196]",
    rpc: "explainBatch",
    request: {
      modelId: "r12",
      inputs: [GOOD_12, input(tensor([4, STEP]))],
      explainer: EPSILON,
    },
    code: Status.INVALID_ARGUMENT,
    field: "inputs[1].tensor.shape",
  },
];

/** Non-finite values. */
const NON_FINITE: BadInputCase[] = [
  badTensor("NaN", poisoned(12, NaN), "data"),
  badTensor("+Infinity", poisoned(12, Infinity), "data"),
  badTensor("-Infinity", poisoned(12, -Infinity), "data"),
  {
    name: "Classify: NaN in the first input",
    rpc: "classify",
    request: { modelId: "r12", inputs: [input(poisoned(12, NaN))] },
    code: Status.INVALID_ARGUMENT,
    field: "inputs[0].tensor.data",
  },
];

/** Empty requests and requests above the message, batch and length limits. */
const EMPTY_AND_HUGE: BadInputCase[] = [
  explain(
    "an empty request",
    {
      modelId: "",
      input: undefined,
      explainer: undefined,
    },
    Status.INVALID_ARGUMENT,
    undefined,
  ),
  {
    name: "ExplainBatch without inputs",
    rpc: "explainBatch",
    request: { modelId: "r12", inputs: [], explainer: EPSILON },
    code: Status.INVALID_ARGUMENT,
    field: "inputs",
  },
  {
    name: "Classify without inputs",
    rpc: "classify",
    request: { modelId: "r12", inputs: [] },
    code: Status.INVALID_ARGUMENT,
    field: "inputs",
  },
  {
    name: "ExplainBatch above the batch limit",
    rpc: "explainBatch",
    request: {
      modelId: "r12",
      inputs: Array(CORPUS_LIMITS.maxBatch + 1).fill(GOOD_12),
      explainer: EPSILON,
    },
    code: Status.RESOURCE_EXHAUSTED,
    field: "inputs",
  },
  {
    name: "Classify far above the batch limit",
    rpc: "classify",
    request: { modelId: "r12", inputs: Array(20).fill(input(raw([1], 4))) },
    code: Status.RESOURCE_EXHAUSTED,
    field: "inputs",
  },
  explain(
    "a sequence above the message size limit (300 steps)",
    { input: input(tensor([300, STEP])) },
    Status.RESOURCE_EXHAUSTED,
    undefined,
  ),
  {
    name: "Classify above the message size limit (4 large inputs)",
    rpc: "classify",
    request: {
      modelId: "r12",
      inputs: Array(4).fill(input(raw([100, STEP], 4 * 100 * STEP))),
    },
    code: Status.RESOURCE_EXHAUSTED,
    field: undefined,
  },
  explain(
    "a label past the last class",
    { input: { ...GOOD_12, label: 10 } },
    Status.INVALID_ARGUMENT,
    "input.label",
  ),
  explain(
    "the largest uint32 label",
    { input: { ...GOOD_12, label: 2 ** 32 - 1 } },
    Status.INVALID_ARGUMENT,
    "input.label",
  ),
];

/** Enum numbers outside the enums (sent as raw numbers). */
const UNKNOWN_ENUMS: BadInputCase[] = [
  explain(
    "method 99",
    { explainer: { method: 99 as Method } },
    Status.INVALID_ARGUMENT,
    "explainer.method",
  ),
  explain(
    "method UNSPECIFIED",
    { explainer: { method: Method.METHOD_UNSPECIFIED } },
    Status.INVALID_ARGUMENT,
    "explainer.method",
  ),
  explain(
    "target kind 42",
    { target: { kind: 42 as TargetKind } },
    Status.INVALID_ARGUMENT,
    "target.kind",
  ),
  explain(
    "input domain 7",
    {
      explainer: {
        method: Method.METHOD_DEEP_TAYLOR,
        params: { inputDomain: 7 as InputDomain },
      },
    },
    Status.INVALID_ARGUMENT,
    "explainer.params.input_domain",
  ),
  {
    name: "ListExplainers for architecture 99",
    rpc: "listExplainers",
    request: {
      subject: { $case: "architecture", architecture: 99 as Architecture },
    },
    code: Status.INVALID_ARGUMENT,
    field: "architecture",
  },
  {
    name: "StartTraining with architecture 99",
    rpc: "startTraining",
    request: {
      spec: { architecture: 99 as Architecture, steps: 4, columns: 7 },
      config: {
        data: {
          dataset: Dataset.DATASET_MNIST,
          problem: Problem.PROBLEM_SEQUENCE,
        },
        epochs: 1,
      },
    },
    code: Status.INVALID_ARGUMENT,
    field: "spec.architecture",
  },
  {
    name: "StartTraining with dataset 77",
    rpc: "startTraining",
    request: {
      spec: {
        architecture: Architecture.ARCHITECTURE_R_LSTM,
        steps: 4,
        columns: 7,
      },
      config: {
        data: { dataset: 77 as Dataset, problem: Problem.PROBLEM_SEQUENCE },
        epochs: 1,
      },
    },
    code: Status.INVALID_ARGUMENT,
    field: "config.data.dataset",
  },
  {
    name: "ListTrainingJobs filtered by state 99",
    rpc: "listTrainingJobs",
    request: { states: [99 as JobState] },
    code: Status.INVALID_ARGUMENT,
    field: "states[0]",
  },
];

/** Explainer parameters out of their ranges. */
const BAD_PARAMETERS: BadInputCase[] = [
  badParams("alpha - beta = 1.5", Method.METHOD_LRP_ALPHA_BETA, {
    alpha: 2,
    beta: 0.5,
  }),
  badParams(
    "alpha - beta = 2 with a negative beta",
    Method.METHOD_LRP_ALPHA_BETA,
    {
      alpha: 1,
      beta: -1,
    },
  ),
  badParams("alpha NaN", Method.METHOD_LRP_ALPHA_BETA, {
    alpha: NaN,
    beta: 0,
  }),
  badParams("a negative epsilon", Method.METHOD_LRP_EPSILON, { epsilon: -1 }),
  badParams("epsilon NaN", Method.METHOD_LRP_EPSILON, { epsilon: NaN }),
  badParams("epsilon +Infinity", Method.METHOD_LRP_EPSILON, {
    epsilon: Infinity,
  }),
  badParams(
    "integrated gradients with 0 steps",
    Method.METHOD_INTEGRATED_GRADIENTS,
    {
      steps: 0,
    },
  ),
  badParams(
    "integrated gradients with 1025 steps (above the cap)",
    Method.METHOD_INTEGRATED_GRADIENTS,
    { steps: 1025 },
  ),
  badParams("SmoothGrad with 2^32 - 1 samples", Method.METHOD_SMOOTHGRAD, {
    samples: 2 ** 32 - 1,
  }),
  badParams("a NaN baseline", Method.METHOD_INTEGRATED_GRADIENTS, {
    baseline: NaN,
  }),
  badParams("SmoothGrad noise < 0", Method.METHOD_SMOOTHGRAD, {
    noiseStddev: -0.1,
  }),
  badParams("SmoothGrad with 0 samples", Method.METHOD_SMOOTHGRAD, {
    samples: 0,
  }),
  badParams("deep Taylor bounds with low > high", Method.METHOD_DEEP_TAYLOR, {
    inputDomain: InputDomain.INPUT_DOMAIN_BOUNDED,
    low: 1,
    high: -1,
  }),
  badParams("a parameter the method does not use", Method.METHOD_SENSITIVITY, {
    epsilon: 0.1,
  }),
  explain(
    "class index 10",
    { target: { kind: TargetKind.TARGET_KIND_CLASS, classIndex: 10 } },
    Status.OUT_OF_RANGE,
    "target.class_index",
  ),
];

const TRAVERSALS = ["../x", "..", "../r12", "models/../r12", "/etc/passwd"];

/** Unknown ids, and ids that try to leave the checkpoint folder. */
const IDS: BadInputCase[] = [
  explain("an unknown model", { modelId: "nope" }, Status.NOT_FOUND, undefined),
  {
    name: "GetModel of an unknown model",
    rpc: "getModel",
    request: { modelId: "nope" },
    code: Status.NOT_FOUND,
    field: undefined,
  },
  {
    name: "DeleteModel of an unknown model",
    rpc: "deleteModel",
    request: { modelId: "nope" },
    code: Status.NOT_FOUND,
    field: undefined,
  },
  {
    name: "ExportModel of an unknown model",
    rpc: "exportModel",
    request: { modelId: "nope" },
    code: Status.NOT_FOUND,
    field: undefined,
  },
  ...([
    "getTrainingJob",
    "cancelTraining",
    "resumeTraining",
    "watchTraining",
  ] as const)
    .map((rpc): BadInputCase => ({
      name: `${rpc} of an unknown job`,
      rpc,
      request: { jobId: "nope" },
      code: Status.NOT_FOUND,
      field: undefined,
    })),
  ...TRAVERSALS.flatMap((id): BadInputCase[] => [
    explain(
      `Explain of model "${id}"`,
      { modelId: id },
      Status.INVALID_ARGUMENT,
      undefined,
    ),
    {
      name: `GetModel of "${id}"`,
      rpc: "getModel",
      request: { modelId: id },
      code: Status.INVALID_ARGUMENT,
      field: undefined,
    },
    {
      name: `DeleteModel of "${id}"`,
      rpc: "deleteModel",
      request: { modelId: id },
      code: Status.INVALID_ARGUMENT,
      field: undefined,
    },
    {
      name: `ExportModel of "${id}"`,
      rpc: "exportModel",
      request: { modelId: id },
      code: Status.INVALID_ARGUMENT,
      field: undefined,
    },
    {
      name: `GetTrainingJob of "${id}"`,
      rpc: "getTrainingJob",
      request: { jobId: id },
      code: Status.NOT_FOUND,
      field: undefined,
    },
  ]),
  {
    name: "GetModel of an id with a NUL byte",
    rpc: "getModel",
    request: { modelId: "r12\u0000.json" },
    code: Status.INVALID_ARGUMENT,
    field: undefined,
  },
  {
    name: "GetModel of a 129-character id",
    rpc: "getModel",
    request: { modelId: "a".repeat(129) },
    code: Status.INVALID_ARGUMENT,
    field: undefined,
  },
  {
    name: 'Evaluate of model "../x"',
    rpc: "evaluate",
    request: { modelId: "../x" },
    code: Status.INVALID_ARGUMENT,
    field: undefined,
  },
];

/** Every case, in groups. */
export const BAD_INPUTS: Record<string, BadInputCase[]> = {
  "malformed tensors": MALFORMED,
  "wrong shapes per architecture": WRONG_SHAPES,
  "NaN and infinities": NON_FINITE,
  "empty and huge inputs": EMPTY_AND_HUGE,
  "unknown enum values": UNKNOWN_ENUMS,
  "invalid explainer parameters": BAD_PARAMETERS,
  "unknown and path-traversing ids": IDS,
};

/**
 * Payloads no protobuf decoder accepts: an invalid wire type, a truncated
 * varint and a length prefix far past the end.
 */
export const MALFORMED_PAYLOADS: Record<string, Uint8Array> = {
  "wire type 7": Uint8Array.of(0x0f, 0x01),
  "a truncated varint": Uint8Array.of(0x08, 0xff, 0xff),
  "a length past the end": Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f),
};

/**
 * Seeded random payloads (1 to 512 bytes): whatever they decode to, the
 * server must answer with a clean status.
 *
 * @param count how many
 * @param seed the seed
 */
export function randomPayloads(count: number, seed: number): Uint8Array[] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  return Array.from({ length: count }, () => {
    const bytes = new Uint8Array(1 + (next() % 512));
    for (let i = 0; i < bytes.length; i++) bytes[i] = next() >>> 24;
    return bytes;
  });
}
