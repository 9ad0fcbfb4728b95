import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  ExplainBatchResponse,
  ExplainResponse,
} from "../../proto/gen/rnnexplain/v1/explain_service.ts";
import { Tensor } from "../../proto/gen/rnnexplain/v1/tensor.ts";
import {
  createSerializer,
  encodeMessage,
  MAX_RETAINED_BYTES,
} from "./serializer.ts";
import { encodeTensor } from "./tensor.ts";

function response(count: number): ExplainBatchResponse {
  const values = Float32Array.from({ length: count }, (_, i) => i / 7);
  return ExplainBatchResponse.fromPartial({
    relevance: encodeTensor(values, [count]),
    summaries: [{ predictedClass: 3, targetLogit: 1.5, conservative: true }],
  });
}

Deno.test("createSerializer() writes the same bytes as the generated encoder, call after call", () => {
  const serialize = createSerializer(ExplainBatchResponse);
  for (const count of [3, 50_000, 10, 117_600, 1]) {
    const message = response(count);
    const bytes = serialize(message);
    assert.deepEqual(
      new Uint8Array(bytes),
      ExplainBatchResponse.encode(message).finish(),
    );
    assert.deepEqual(ExplainBatchResponse.decode(bytes), message);
  }
});

Deno.test("createSerializer() results stay intact after later calls reuse the writer", () => {
  const serialize = createSerializer(ExplainResponse);
  const first = ExplainResponse.fromPartial({
    event: {
      $case: "step",
      step: {
        timestep: 11,
        relevance: encodeTensor(Float32Array.of(1, 2), [2]),
      },
    },
  });
  const kept = serialize(first);
  const expected = Uint8Array.from(kept);
  serialize(ExplainResponse.fromPartial({ event: undefined }));
  serialize(first);
  assert.deepEqual(new Uint8Array(kept), expected);
});

Deno.test("encodeMessage() leaves the writer clean when an encoder throws", () => {
  const failing = {
    encode(_: unknown, writer = undefined as never) {
      Tensor.encode({ shape: [2], data: Buffer.alloc(8) }, writer);
      throw new RangeError("boom");
    },
  };
  assert.throws(() => encodeMessage(failing, {}), RangeError);
  const tensor = { shape: [1], data: Buffer.alloc(4) };
  assert.deepEqual(
    encodeMessage(Tensor, tensor),
    Tensor.encode(tensor).finish(),
  );
});

Deno.test("encodeMessage() encodes messages above MAX_RETAINED_BYTES, then small ones", () => {
  const message = response(MAX_RETAINED_BYTES / 4 + 1);
  assert.deepEqual(
    encodeMessage(ExplainBatchResponse, message),
    ExplainBatchResponse.encode(message).finish(),
  );
  const tensor = { shape: [1], data: Buffer.alloc(4) };
  assert.deepEqual(
    encodeMessage(Tensor, tensor),
    Tensor.encode(tensor).finish(),
  );
});
