import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Code, ResourceExhaustedError, RpcError } from "../errors.ts";
import { decodeDataSource, decodeInputs, decodeSequence } from "./inputs.ts";
import { decodeTensor, encodeTensor } from "./tensor.ts";
import type { Problem } from "../../proto/gen/rnnexplain/v1/types.ts";

const G = { steps: 2, rows: 2, columns: 2 };

function rpcError(code: number, field?: string) {
  return (err: unknown) => {
    assert.ok(err instanceof RpcError, String(err));
    assert.equal(err.code, code);
    if (field !== undefined) assert.equal(err.field, field);
    return true;
  };
}

Deno.test("decodeTensor() round-trips encodeTensor() and refuses bad byte lengths, empty and non-finite tensors", () => {
  const values = Float32Array.of(1, -2.5, 3, 0.125);
  const { values: back, shape } = decodeTensor(
    encodeTensor(values, [2, 2]),
    "t",
  );
  assert.deepEqual([...back], [...values]);
  assert.deepEqual(shape, [2, 2]);
  const short = { shape: [2, 2], data: Buffer.alloc(15) };
  assert.throws(
    () => decodeTensor(short, "t"),
    rpcError(Code.INVALID_ARGUMENT, "t.data"),
  );
  assert.throws(
    () => decodeTensor({ shape: [0, 4], data: Buffer.alloc(0) }, "t"),
    rpcError(Code.INVALID_ARGUMENT, "t.shape"),
  );
  assert.throws(
    () => decodeTensor({ shape: [], data: Buffer.alloc(4) }, "t"),
    rpcError(Code.INVALID_ARGUMENT, "t.shape"),
  );
  assert.throws(
    () => decodeTensor(encodeTensor([1, NaN], [2]), "t"),
    rpcError(Code.INVALID_ARGUMENT, "t.data"),
  );
  assert.throws(
    () => decodeTensor(undefined, "t"),
    rpcError(Code.INVALID_ARGUMENT, "t"),
  );
});

Deno.test("decodeSequence() cuts a [rows, T·c] image column-wise into row-major steps", () => {
  const g = { steps: 2, rows: 3, columns: 2 };
  // Image rows [1 2 3 4], [5 6 7 8], [9 10 11 12] → step 0: 1 2 5 6 9 10.
  const image = Float32Array.from({ length: 12 }, (_, i) => i + 1);
  const cut = decodeSequence(encodeTensor(image, [3, 4]), g, "x");
  assert.deepEqual([...cut], [1, 2, 5, 6, 9, 10, 3, 4, 7, 8, 11, 12]);
  for (const shape of [[2, 3, 2], [2, 6]]) {
    assert.deepEqual(
      [...decodeSequence(encodeTensor(cut, shape), g, "x")],
      [...cut],
    );
  }
  assert.throws(
    () => decodeSequence(encodeTensor(cut, [12]), g, "x"),
    rpcError(Code.INVALID_ARGUMENT, "x.shape"),
  );
});

Deno.test("decodeInputs() refuses no inputs, caps the batch, and checks labels and sample steps", () => {
  const tensor = encodeTensor(new Float32Array(8), [2, 4]);
  const input = { source: { $case: "tensor" as const, tensor } };
  assert.throws(
    () => decodeInputs([], G, { maxBatch: 2 }),
    rpcError(Code.INVALID_ARGUMENT, "inputs"),
  );
  assert.throws(
    () => decodeInputs([input, input, input], G, { maxBatch: 2 }),
    (err: unknown) => err instanceof ResourceExhaustedError,
  );
  assert.throws(
    () => decodeInputs([{ ...input, label: 10 }], G, { maxBatch: 2 }),
    rpcError(Code.INVALID_ARGUMENT, "inputs[0].label"),
  );
  const [decoded] = decodeInputs([{ ...input, label: 9 }], G, { maxBatch: 2 });
  assert.ok(decoded !== undefined && "values" in decoded);
  assert.equal(decoded.label, 9);
  const sample = {
    source: {
      $case: "sample" as const,
      sample: {
        source: { dataset: 1, problem: 2, split: undefined, seed: 4 },
        part: 0,
        index: 3,
        steps: 5,
      },
    },
  };
  assert.throws(
    () => decodeInputs([sample], G, { maxBatch: 2 }),
    rpcError(Code.INVALID_ARGUMENT, "inputs[0].sample.steps"),
  );
  const ok = decodeInputs(
    [{
      source: {
        ...sample.source,
        sample: { ...sample.source.sample, steps: undefined },
      },
    }],
    G,
    { maxBatch: 2 },
  );
  assert.deepEqual(ok, [{
    sample: {
      source: {
        dataset: "mnist",
        problem: "majority",
        split: { kind: "standard" },
        seed: 4,
      },
      part: "test",
      index: 3,
    },
  }]);
});

Deno.test("decodeDataSource() refuses UNSPECIFIED and unknown enums and bad folds, naming the field", () => {
  assert.throws(
    () =>
      decodeDataSource(
        { dataset: 0, problem: 1, split: undefined, seed: 0 },
        "data",
      ),
    rpcError(Code.INVALID_ARGUMENT, "data.dataset"),
  );
  assert.throws(
    () =>
      decodeDataSource(
        { dataset: 1, problem: 77 as Problem, split: undefined, seed: 0 },
        "data",
      ),
    rpcError(Code.INVALID_ARGUMENT, "data.problem"),
  );
  const fold = (folds: number | undefined, f: number) => ({
    dataset: 2,
    problem: 1,
    seed: 1,
    split: {
      kind: {
        $case: "crossValidation" as const,
        crossValidation: { folds, fold: f },
      },
    },
  });
  assert.deepEqual(decodeDataSource(fold(undefined, 6), "d").split, {
    kind: "fold",
    folds: 7,
    fold: 6,
  });
  assert.throws(
    () => decodeDataSource(fold(undefined, 7), "d"),
    rpcError(Code.INVALID_ARGUMENT, "d.split.cross_validation.fold"),
  );
  assert.throws(
    () => decodeDataSource(fold(1, 0), "d"),
    rpcError(Code.INVALID_ARGUMENT, "d.split.cross_validation.folds"),
  );
});
