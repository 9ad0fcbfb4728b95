import assert from "node:assert/strict";
import {
  CheckpointDataLossError,
  CheckpointVersionError,
  OutOfRangeError as ModelOutOfRangeError,
  PreconditionError as ModelPreconditionError,
} from "../../models/mod.ts";
import { DatasetNotFoundError } from "../datasets/mod.ts";
import {
  Code,
  DataLossError,
  NotFoundError,
  OutOfRangeError,
  PreconditionError,
  ResourceExhaustedError,
  toStatus,
} from "../errors.ts";
import { ComputeError, fromWireError, toWireError } from "./wire_error.ts";

/** What crosses postMessage: a structured clone of the wire form. */
function across(error: unknown): Error {
  return fromWireError(structuredClone(toWireError(error)));
}

Deno.test("fromWireError(toWireError()) keeps the type and message of every mapped error", async (t) => {
  const cases: [
    string,
    unknown,
    abstract new (...a: never[]) => Error,
    number,
  ][] = [
    [
      "RangeError",
      new RangeError("Cannot use x: bad"),
      RangeError,
      Code.INVALID_ARGUMENT,
    ],
    [
      "TypeError",
      new TypeError("Cannot use x: bad"),
      TypeError,
      Code.INVALID_ARGUMENT,
    ],
    [
      "models PreconditionError",
      new ModelPreconditionError("Cannot explain: no"),
      PreconditionError,
      Code.FAILED_PRECONDITION,
    ],
    [
      "models OutOfRangeError",
      new ModelOutOfRangeError("Cannot explain class 12: no"),
      OutOfRangeError,
      Code.OUT_OF_RANGE,
    ],
    [
      "CheckpointDataLossError",
      new CheckpointDataLossError("Cannot load checkpoint: hash"),
      DataLossError,
      Code.DATA_LOSS,
    ],
    [
      "CheckpointVersionError",
      new CheckpointVersionError(9, [1]),
      PreconditionError,
      Code.FAILED_PRECONDITION,
    ],
    [
      "DatasetNotFoundError",
      new DatasetNotFoundError("fashion_mnist", ["/x"]),
      PreconditionError,
      Code.FAILED_PRECONDITION,
    ],
    [
      "NotFoundError",
      new NotFoundError('Cannot read checkpoint "m": it does not exist'),
      NotFoundError,
      Code.NOT_FOUND,
    ],
    [
      "DataLossError",
      new DataLossError("Cannot load model: hash"),
      DataLossError,
      Code.DATA_LOSS,
    ],
    [
      "ResourceExhaustedError",
      new ResourceExhaustedError("Cannot queue: full"),
      ResourceExhaustedError,
      Code.RESOURCE_EXHAUSTED,
    ],
  ];
  for (const [name, original, Kind, code] of cases) {
    await t.step(`${name} arrives as ${Kind.name}`, () => {
      const error = across(original);
      assert.ok(error instanceof Kind, `${error.name}`);
      assert.equal(error.message, (original as Error).message);
      assert.equal(toStatus(error).code, code);
    });
  }
});

Deno.test("fromWireError() turns abort reasons into CANCELLED and DEADLINE_EXCEEDED", () => {
  const aborted = across(
    new DOMException("Compute task cancelled", "AbortError"),
  );
  assert.equal(aborted.name, "AbortError");
  assert.equal(toStatus(aborted).code, Code.CANCELLED);
  const late = across(new DOMException("Deadline exceeded", "TimeoutError"));
  assert.equal(toStatus(late).code, Code.DEADLINE_EXCEEDED);
});

Deno.test("fromWireError() turns unexpected errors into an INTERNAL ComputeError without leaking the message", () => {
  const error = across(new Error("secret detail"));
  assert.ok(error instanceof ComputeError);
  assert.match(error.message, /secret detail/);
  const status = toStatus(error, { requestId: "r1" });
  assert.equal(status.code, Code.INTERNAL);
  assert.doesNotMatch(status.details, /secret/);
  assert.equal((error.cause as { name: string }).name, "Error");
});

Deno.test("toWireError() keeps the offending field of domain errors", () => {
  const wire = toWireError(
    new NotFoundError("Cannot find model", { field: "model_id" }),
  );
  assert.equal(wire.field, "model_id");
  assert.equal((fromWireError(wire) as NotFoundError).field, "model_id");
  assert.equal(toWireError("a string").message, "a string");
});
