/**
 * Every request limit over the wire, with its exact status: the gRPC message
 * size (`maxMessageBytes`, RESOURCE_EXHAUSTED from grpc-js before any
 * decoding), inputs per Classify and ExplainBatch (`maxBatch`,
 * RESOURCE_EXHAUSTED), ImportModel archive size (`maxImportBytes`,
 * RESOURCE_EXHAUSTED), sequence length (a sequence must have exactly the
 * model's T steps: INVALID_ARGUMENT; a streamed step past T: OUT_OF_RANGE;
 * a spec whose T × c does not cover the images: INVALID_ARGUMENT), and model
 * ids that would leave the checkpoint folder (INVALID_ARGUMENT).
 */
import {
  Architecture,
  Dataset,
  encodeTensor,
  Method,
  Problem,
  Status,
} from "../../client/mod.ts";
import {
  assertStatus,
  buildModelFiles,
  collect,
  importModel,
  randomValues,
  startTestServer,
} from "../_helpers.ts";

const T = 12;
const ROWS = 28;
const C = 7;
const STEP = ROWS * C;

const tensorInput = (values: Float32Array, shape: number[]) => ({
  source: { $case: "tensor" as const, tensor: encodeTensor(values, shape) },
});

Deno.test("a request larger than maxMessageBytes is RESOURCE_EXHAUSTED before any work", async () => {
  // 4096 bytes: one input of 12 × 28 × 7 float32 values (9408 bytes) is too much.
  await using server = await startTestServer({
    config: { maxMessageBytes: 4096 },
    handlers: {},
  });
  using client = server.connect();
  const x = randomValues(T * STEP, 1);
  await assertStatus(
    client.classify({ modelId: "m1", inputs: [tensorInput(x, [T, STEP])] }),
    Status.RESOURCE_EXHAUSTED,
    /larger than max \(9426 vs 4096\)/,
  );
  // A small request reaches the (unimplemented) handler.
  await assertStatus(client.getModel({ modelId: "m1" }), Status.UNIMPLEMENTED);
});

Deno.test("batch, import size, sequence length and model id limits answer their exact status", async (t) => {
  await using server = await startTestServer({ config: { maxBatch: 2 } });
  using client = server.connect();
  await importModel(client, "m1");
  const x = randomValues(T * STEP, 2);
  const one = tensorInput(x, [T, STEP]);

  await t.step("more inputs than maxBatch: RESOURCE_EXHAUSTED", async () => {
    await client.classify({ modelId: "m1", inputs: [one, one] });
    await assertStatus(
      client.classify({ modelId: "m1", inputs: [one, one, one] }),
      Status.RESOURCE_EXHAUSTED,
      /3 inputs exceed the limit of 2 per request/,
    );
    await assertStatus(
      client.explainBatch({
        modelId: "m1",
        inputs: [one, one, one],
        explainer: { method: Method.METHOD_SENSITIVITY },
      }),
      Status.RESOURCE_EXHAUSTED,
      /limit of 2/,
    );
  });

  await t.step(
    "a sequence longer than the model's T: INVALID_ARGUMENT",
    async () => {
      const longer = randomValues((T + 1) * STEP, 3);
      await assertStatus(
        client.classify({
          modelId: "m1",
          inputs: [tensorInput(longer, [T + 1, STEP])],
        }),
        Status.INVALID_ARGUMENT,
        /expected \[12, 28, 7\]/,
      );
      await assertStatus(
        () =>
          collect(client.explain({
            modelId: "m1",
            input: tensorInput(longer, [T + 1, ROWS, C]),
            explainer: { method: Method.METHOD_SENSITIVITY },
          })),
        Status.INVALID_ARGUMENT,
      );
    },
  );

  await t.step("a streamed step past T: OUT_OF_RANGE", async () => {
    const step = encodeTensor(x.subarray(0, STEP), [ROWS, C]);
    await assertStatus(
      () =>
        collect(client.classifyStream([
          { event: { $case: "start", start: { modelId: "m1" } } },
          ...Array.from(
            { length: T + 1 },
            () => ({ event: { $case: "step" as const, step } }),
          ),
        ])),
      Status.OUT_OF_RANGE,
      /Cannot classify step 12: the model has T = 12 steps/,
    );
  });

  await t.step(
    "a spec whose T × c does not cover the images: INVALID_ARGUMENT",
    async () => {
      await assertStatus(
        client.startTraining({
          spec: {
            architecture: Architecture.ARCHITECTURE_R_LSTM,
            steps: 5000,
            columns: 7,
            layerSizes: { in1: 16, recur: 8 },
          },
          config: {
            data: {
              dataset: Dataset.DATASET_MNIST,
              problem: Problem.PROBLEM_SEQUENCE,
              seed: 1,
            },
            epochs: 1,
            batchSize: 50,
          },
        }),
        Status.INVALID_ARGUMENT,
      );
    },
  );

  await t.step(
    "model ids that would leave the checkpoint folder: INVALID_ARGUMENT",
    async () => {
      for (
        const id of ["../m1", "..", "a/b", "/etc/passwd", ".hidden", "a\\b"]
      ) {
        await assertStatus(
          client.getModel({ modelId: id }),
          Status.INVALID_ARGUMENT,
        );
        await assertStatus(
          client.deleteModel({ modelId: id }),
          Status.INVALID_ARGUMENT,
        );
        const files = await buildModelFiles(id);
        await assertStatus(
          client.importModel(files.messages),
          Status.INVALID_ARGUMENT,
        );
      }
      // The model is still there.
      await client.getModel({ modelId: "m1" });
    },
  );
});

Deno.test("an archive larger than maxImportBytes is RESOURCE_EXHAUSTED", async () => {
  await using server = await startTestServer({
    config: { maxImportBytes: 2048 },
  });
  using client = server.connect();
  const files = await buildModelFiles("big");
  await assertStatus(
    client.importModel(files.messages),
    Status.RESOURCE_EXHAUSTED,
    /^Cannot import model "big": \d+ bytes exceed the limit of 2048$/,
  );
  await assertStatus(client.getModel({ modelId: "big" }), Status.NOT_FOUND);
});
