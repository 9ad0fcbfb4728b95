import assert from "node:assert/strict";
import { status as GrpcStatus } from "@grpc/grpc-js";
import {
  AlreadyExistsError,
  Code,
  codeName,
  ConflictError,
  DataLossError,
  FIELD_METADATA_KEY,
  NotFoundError,
  OutOfRangeError,
  PreconditionError,
  ResourceExhaustedError,
  RpcError,
  toStatus,
  UnavailableError,
  UnimplementedError,
} from "./errors.ts";

Deno.test("Code matches the status codes of grpc-js", () => {
  for (const [name, value] of Object.entries(Code)) {
    assert.equal(
      value,
      (GrpcStatus as unknown as Record<string, number>)[name],
      name,
    );
  }
  assert.equal(codeName(Code.NOT_FOUND), "NOT_FOUND");
  assert.equal(codeName(99), "CODE_99");
});

Deno.test("toStatus() maps each typed error to its code and keeps its message", async (t) => {
  const table: [Error, number][] = [
    [new NotFoundError('Cannot find model "m1": no such id'), Code.NOT_FOUND],
    [new AlreadyExistsError("Cannot import: exists"), Code.ALREADY_EXISTS],
    [
      new PreconditionError("Cannot explain: not ReLU"),
      Code.FAILED_PRECONDITION,
    ],
    [new OutOfRangeError("Cannot read step 12: T is 12"), Code.OUT_OF_RANGE],
    [new ResourceExhaustedError("Cannot queue: full"), Code.RESOURCE_EXHAUSTED],
    [new ConflictError("Cannot cancel: finished"), Code.ABORTED],
    [new DataLossError("Cannot load: hash mismatch"), Code.DATA_LOSS],
    [
      new UnimplementedError("Cannot call X: not implemented"),
      Code.UNIMPLEMENTED,
    ],
    [new UnavailableError("Cannot complete: stopping"), Code.UNAVAILABLE],
    [
      new RangeError("Cannot use epsilon: expected >= 0, found -1"),
      Code.INVALID_ARGUMENT,
    ],
    [new TypeError("Cannot decode: expected a tensor"), Code.INVALID_ARGUMENT],
    [
      new RpcError(Code.PERMISSION_DENIED, "Cannot call: no token"),
      Code.PERMISSION_DENIED,
    ],
  ];
  for (const [error, code] of table) {
    await t.step(`${error.name} → ${codeName(code)}`, () => {
      const status = toStatus(error);
      assert.equal(status.code, code);
      assert.equal(status.details, error.message);
      assert.deepEqual(status.trailers, {});
    });
  }
});

Deno.test("toStatus() sends the offending field as a trailer", () => {
  const status = toStatus(
    new RpcError(Code.INVALID_ARGUMENT, "Cannot decode tensor: 3 bytes", {
      field: "inputs[0].tensor.data",
    }),
  );
  assert.deepEqual(status.trailers, {
    [FIELD_METADATA_KEY]: "inputs[0].tensor.data",
  });
  assert.deepEqual(
    toStatus(new NotFoundError("Cannot find job", { field: "job_id" }))
      .trailers,
    { [FIELD_METADATA_KEY]: "job_id" },
  );
});

Deno.test("toStatus() maps abort reasons to CANCELLED and DEADLINE_EXCEEDED", () => {
  assert.equal(
    toStatus(new DOMException("stop", "AbortError")).code,
    Code.CANCELLED,
  );
  assert.equal(
    toStatus(new DOMException("late", "TimeoutError")).code,
    Code.DEADLINE_EXCEEDED,
  );
});

Deno.test("toStatus() turns anything else into INTERNAL without leaking its message", async (t) => {
  for (
    const thrown of [
      new Error("db password is hunter2"),
      "a string",
      undefined,
      new DOMException("x", "DataCloneError"),
    ]
  ) {
    await t.step(String(thrown), () => {
      const status = toStatus(thrown, { requestId: "r-9" });
      assert.equal(status.code, Code.INTERNAL);
      assert.equal(
        status.details,
        'Internal error; see the server logs with request id "r-9"',
      );
    });
  }
  assert.equal(
    toStatus(new Error("x")).details,
    "Internal error; see the server logs",
  );
});

Deno.test("domain errors keep their cause for the log", () => {
  const cause = new Error("ENOENT");
  const error = new DataLossError("Cannot read checkpoint", { cause });
  assert.equal(error.cause, cause);
  assert.equal(error.name, "DataLossError");
});
