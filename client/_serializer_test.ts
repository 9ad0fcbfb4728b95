import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { ExplainBatchRequest } from "../proto/gen/rnnexplain/v1/explain_service.ts";
import { Tensor } from "../proto/gen/rnnexplain/v1/tensor.ts";
import { createSerializer } from "./_serializer.ts";
import { encodeTensor } from "./tensor.ts";

function request(count: number, size: number): ExplainBatchRequest {
  return ExplainBatchRequest.fromPartial({
    modelId: "m1",
    inputs: Array.from({ length: count }, (_, n) => ({
      source: {
        $case: "tensor" as const,
        tensor: encodeTensor(
          Float32Array.from({ length: size }, (_, i) => n + i / 3),
          [size],
        ),
      },
    })),
  });
}

Deno.test("createSerializer() writes the generated encoder's bytes into buffers later calls leave intact", () => {
  const serialize = createSerializer(ExplainBatchRequest);
  const kept: [Buffer, Uint8Array][] = [];
  for (const [count, size] of [[50, 2352], [1, 4], [3, 10_000], [2, 1]]) {
    const message = request(count!, size!);
    const bytes = serialize(message);
    assert.deepEqual(
      new Uint8Array(bytes),
      ExplainBatchRequest.encode(message).finish(),
    );
    kept.push([bytes, Uint8Array.from(bytes)]);
  }
  for (const [bytes, copy] of kept) {
    assert.deepEqual(new Uint8Array(bytes), copy);
  }
});

Deno.test("createSerializer() recovers when an encoder throws midway", () => {
  const failing = createSerializer({
    encode(_: unknown, writer = undefined as never) {
      Tensor.encode({ shape: [2], data: Buffer.alloc(8) }, writer);
      throw new RangeError("boom");
    },
  });
  assert.throws(() => failing({}), RangeError);
  const tensor = { shape: [1], data: Buffer.alloc(4) };
  assert.deepEqual(
    new Uint8Array(createSerializer(Tensor)(tensor)),
    Tensor.encode(tensor).finish(),
  );
});
