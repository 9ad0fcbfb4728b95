/**
 * InferenceService end to end on a seeded tiny R-LSTM (T = 12, 28 × 7 per
 * step): Classify in the three accepted layouts, ClassifyStream after every
 * step, and each failure path with its exact status.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  type ClassifyStreamRequest,
  encodeTensor,
  type PartialMessage,
  Status,
} from "../../client/mod.ts";
import {
  assertStatus,
  collect,
  importModel,
  randomValues,
  startTestServer,
} from "../_helpers.ts";

const T = 12;
const ROWS = 28;
const C = 7;
const STEP = ROWS * C;

/** The same sequence as a [rows, T·c] image (the inverse of the cut). */
function toImage(sequence: Float32Array): Float32Array {
  const width = T * C;
  const image = new Float32Array(sequence.length);
  for (let t = 0; t < T; t++) {
    for (let r = 0; r < ROWS; r++) {
      for (let c = 0; c < C; c++) {
        image[r * width + t * C + c] = sequence[t * STEP + r * C + c]!;
      }
    }
  }
  return image;
}

function close(a: number[], b: number[], tolerance = 1e-5): void {
  assert.equal(a.length, b.length);
  a.forEach((x, i) =>
    assert.ok(Math.abs(x - b[i]!) <= tolerance, `${x} vs ${b[i]} at ${i}`)
  );
}

Deno.test("InferenceService.Classify gives the same answer for every input layout, with probabilities summing to 1", async () => {
  await using t = await startTestServer();
  using client = t.connect();
  await importModel(client, "m1");
  const x = randomValues(T * STEP, 11);
  const { classifications } = await client.classify({
    modelId: "m1",
    inputs: [
      { tensor: encodeTensor(x, [T, ROWS, C]), label: 3 },
      { tensor: encodeTensor(x, [T, STEP]) },
      { tensor: encodeTensor(toImage(x), [ROWS, T * C]) },
    ].map(({ tensor, label }) => ({
      source: { $case: "tensor" as const, tensor },
      ...(label === undefined ? {} : { label }),
    })),
  });
  assert.equal(classifications.length, 3);
  const [a, b, c] = classifications;
  assert.equal(a!.logits.length, 10);
  close(a!.logits, b!.logits);
  close(a!.logits, c!.logits);
  assert.equal(a!.trueLabel, 3);
  assert.equal(b!.trueLabel, undefined);
  const total = a!.probabilities.reduce((s, p) => s + p, 0) +
    a!.pseudoClassProbability;
  assert.ok(Math.abs(total - 1) < 1e-5, `probabilities sum to ${total}`);
  const argmax = a!.logits.indexOf(Math.max(...a!.logits));
  assert.equal(a!.predictedClass, argmax);
});

Deno.test("InferenceService.ClassifyStream answers after every step and ends with Classify's answer", async () => {
  await using t = await startTestServer();
  using client = t.connect();
  await importModel(client, "m1");
  const x = randomValues(T * STEP, 12);
  const requests: PartialMessage<ClassifyStreamRequest>[] = [
    { event: { $case: "start", start: { modelId: "m1", label: 4 } } },
  ];
  for (let s = 0; s < T; s++) {
    requests.push({
      event: {
        $case: "step",
        step: encodeTensor(x.subarray(s * STEP, (s + 1) * STEP), [ROWS, C]),
      },
    });
  }
  const responses = await collect(client.classifyStream(requests));
  assert.deepEqual(responses.map((r) => r.timestep), [...Array(T).keys()]);
  assert.ok(responses.every((r) => r.steps === T));
  assert.ok(responses.every((r) => r.classification?.trueLabel === 4));
  const logits = responses.map((r) => r.classification!.logits);
  assert.notDeepEqual(logits[0], logits[T - 1], "the prediction evolves");
  const { classifications } = await client.classify({
    modelId: "m1",
    inputs: [{
      source: { $case: "tensor", tensor: encodeTensor(x, [T, STEP]) },
    }],
  });
  close(logits[T - 1]!, classifications[0]!.logits);

  // A prefix's answer equals the full model on a shorter image: check step 0
  // against a fresh stream on a different continuation.
  const other = randomValues(T * STEP, 99);
  other.set(x.subarray(0, STEP));
  const first = await collect(client.classifyStream([
    { event: { $case: "start", start: { modelId: "m1" } } },
    {
      event: {
        $case: "step",
        step: encodeTensor(other.subarray(0, STEP), [STEP]),
      },
    },
  ]));
  close(first[0]!.classification!.logits, logits[0]!);
});

Deno.test("InferenceService answers each failure with its exact status", async (t) => {
  await using server = await startTestServer({
    config: { maxBatch: 4, maxMessageBytes: 200_000 },
  });
  using client = server.connect();
  await importModel(client, "m1");
  const x = randomValues(T * STEP, 13);
  const tensorInput = (tensor: ReturnType<typeof encodeTensor>) => ({
    source: { $case: "tensor" as const, tensor },
  });
  const classify = (inputs: ReturnType<typeof tensorInput>[]) =>
    client.classify({ modelId: "m1", inputs });
  await t.step("an unknown model is NOT_FOUND", async () => {
    await assertStatus(
      client.classify({
        modelId: "nope",
        inputs: [tensorInput(encodeTensor(x, [T, STEP]))],
      }),
      Status.NOT_FOUND,
    );
  });
  await t.step(
    "a wrong shape is INVALID_ARGUMENT naming the field",
    async () => {
      const err = await assertStatus(
        classify([tensorInput(encodeTensor(x, [T * 2, STEP / 2]))]),
        Status.INVALID_ARGUMENT,
        /expected \[12, 28, 7\]/,
      );
      assert.equal(err.field, "inputs[0].tensor.shape");
    },
  );
  await t.step("a wrong byte length is INVALID_ARGUMENT", async () => {
    const tensor = encodeTensor(x, [T, STEP]);
    tensor.data = tensor.data.subarray(0, tensor.data.length - 2) as Buffer;
    await assertStatus(
      classify([tensorInput(tensor)]),
      Status.INVALID_ARGUMENT,
      /needs 9408 bytes, found 9406/,
    );
  });
  await t.step("NaN and infinite values are INVALID_ARGUMENT", async () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const y = x.slice();
      y[100] = bad;
      await assertStatus(
        classify([tensorInput(encodeTensor(y, [T, STEP]))]),
        Status.INVALID_ARGUMENT,
        /value 100 is not finite/,
      );
    }
  });
  await t.step(
    "empty inputs and empty tensors are INVALID_ARGUMENT",
    async () => {
      await assertStatus(classify([]), Status.INVALID_ARGUMENT, /at least one/);
      await assertStatus(
        classify([tensorInput({ shape: [0, STEP], data: Buffer.alloc(0) })]),
        Status.INVALID_ARGUMENT,
        /empty/,
      );
      await assertStatus(
        client.classify({ modelId: "m1", inputs: [{}] }),
        Status.INVALID_ARGUMENT,
      );
    },
  );
  await t.step("a label past the last class is INVALID_ARGUMENT", async () => {
    await assertStatus(
      client.classify({
        modelId: "m1",
        inputs: [{ ...tensorInput(encodeTensor(x, [T, STEP])), label: 10 }],
      }),
      Status.INVALID_ARGUMENT,
    );
  });
  await t.step(
    "more inputs than the batch cap and oversized messages are RESOURCE_EXHAUSTED",
    async () => {
      const one = tensorInput(encodeTensor(x, [T, STEP]));
      await assertStatus(
        classify([one, one, one, one, one]),
        Status.RESOURCE_EXHAUSTED,
        /limit of 4/,
      );
      const big = randomValues(T * STEP * 30, 5);
      await assertStatus(
        classify([tensorInput(encodeTensor(big, [T * 30, STEP]))]),
        Status.RESOURCE_EXHAUSTED,
      );
    },
  );
  await t.step(
    "ClassifyStream refuses a missing start, a bad step and a step past T",
    async () => {
      const step = encodeTensor(x.subarray(0, STEP), [ROWS, C]);
      await assertStatus(
        () =>
          collect(client.classifyStream([{ event: { $case: "step", step } }])),
        Status.INVALID_ARGUMENT,
        /first message must be a start/,
      );
      await assertStatus(
        () =>
          collect(client.classifyStream([
            { event: { $case: "start", start: { modelId: "m1" } } },
            {
              event: {
                $case: "step",
                step: encodeTensor(x.subarray(0, 28), [28]),
              },
            },
          ])),
        Status.INVALID_ARGUMENT,
        /one timestep/,
      );
      await assertStatus(
        () =>
          collect(client.classifyStream([
            { event: { $case: "start", start: { modelId: "nope" } } },
          ])),
        Status.NOT_FOUND,
      );
      const requests: PartialMessage<ClassifyStreamRequest>[] = [
        { event: { $case: "start", start: { modelId: "m1" } } },
      ];
      for (let s = 0; s <= T; s++) {
        requests.push({ event: { $case: "step", step } });
      }
      await assertStatus(
        () => collect(client.classifyStream(requests)),
        Status.OUT_OF_RANGE,
        /T = 12/,
      );
    },
  );
});
