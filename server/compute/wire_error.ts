/**
 * Errors across the worker boundary. Structured cloning keeps only a plain
 * `Error`'s message, so a worker sends `{ name, message, code }` (the code
 * is a hint chosen by class, see {@linkcode toWireError}) and the pool
 * rebuilds the matching typed error with {@linkcode fromWireError}: the gRPC
 * edge (`server/errors.ts` `toStatus`) then maps it as if it had been thrown
 * on the main thread. The remote stack travels as the `cause`, which goes to
 * the log only.
 *
 * @module
 */
import {
  CheckpointDataLossError,
  CheckpointVersionError,
  IdxFormatError,
  OutOfRangeError as ModelOutOfRangeError,
  PreconditionError as ModelPreconditionError,
} from "../../models/mod.ts";
import { DatasetNotFoundError } from "../datasets/mod.ts";
import {
  AlreadyExistsError,
  Code,
  codeName,
  ConflictError,
  DataLossError,
  DomainError,
  NotFoundError,
  OutOfRangeError,
  PreconditionError,
  ResourceExhaustedError,
  RpcError,
  toStatus,
  UnavailableError,
  UnimplementedError,
} from "../errors.ts";

/** An error as a worker posts it. */
export interface WireError {
  /** The original class name, e.g. `"RangeError"`, `"PreconditionError"`. */
  readonly name: string;
  /** The original message (sent to clients unless the code is INTERNAL). */
  readonly message: string;
  /** The gRPC status name the error maps to, e.g. `"INVALID_ARGUMENT"`. */
  readonly code: string;
  /** The offending request field, when known. */
  readonly field?: string;
  /** The remote stack, for the log. */
  readonly stack?: string;
}

/** Errors of `models/` and `server/datasets`, which `toStatus` does not know. */
const FOREIGN_CODES: ReadonlyArray<
  readonly [abstract new (...args: never[]) => Error, Code]
> = [
  [ModelPreconditionError, Code.FAILED_PRECONDITION],
  [ModelOutOfRangeError, Code.OUT_OF_RANGE],
  [CheckpointDataLossError, Code.DATA_LOSS],
  // The bytes may be fine; this build cannot read them.
  [CheckpointVersionError, Code.FAILED_PRECONDITION],
  // The server lacks the files: a state of the server, not of the request.
  [DatasetNotFoundError, Code.FAILED_PRECONDITION],
  [IdxFormatError, Code.DATA_LOSS],
];

/**
 * Serialises a thrown value for `postMessage`, with the status code it maps
 * to.
 *
 * @param error anything thrown in a worker
 * @returns name, message, code hint, field and stack
 */
export function toWireError(error: unknown): WireError {
  const name = error instanceof Error || error instanceof DOMException
    ? error.name
    : "Error";
  const message = error instanceof Error || error instanceof DOMException
    ? error.message
    : String(error);
  const stack = error instanceof Error ? error.stack : undefined;
  const field = error instanceof DomainError || error instanceof RpcError
    ? error.field
    : undefined;
  let code: Code = toStatus(error).code;
  for (const [type, mapped] of FOREIGN_CODES) {
    if (error instanceof type) code = mapped;
  }
  return {
    name,
    message,
    code: codeName(code),
    ...(field === undefined ? {} : { field }),
    ...(stack === undefined ? {} : { stack }),
  };
}

/**
 * An unexpected failure inside a compute worker (a bug, or a worker that
 * crashed). It is no domain error, so `toStatus` answers INTERNAL with a
 * generic message; the detail goes to the log.
 */
export class ComputeError extends Error {
  /**
   * @param message what failed, std style
   * @param options the remote error as the cause
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ComputeError";
  }
}

type DomainErrorClass = new (
  message: string,
  options?: { cause?: unknown; field?: string },
) => DomainError;

const DOMAIN_CLASSES: Readonly<Record<string, DomainErrorClass>> = {
  NOT_FOUND: NotFoundError,
  ALREADY_EXISTS: AlreadyExistsError,
  FAILED_PRECONDITION: PreconditionError,
  OUT_OF_RANGE: OutOfRangeError,
  RESOURCE_EXHAUSTED: ResourceExhaustedError,
  ABORTED: ConflictError,
  DATA_LOSS: DataLossError,
  UNIMPLEMENTED: UnimplementedError,
  UNAVAILABLE: UnavailableError,
};

/**
 * Rebuilds a worker's error as the typed error its code names: RangeError or
 * TypeError (INVALID_ARGUMENT), the `server/errors.ts` domain classes, a
 * `DOMException` for CANCELLED (`AbortError`) and DEADLINE_EXCEEDED
 * (`TimeoutError`), and {@linkcode ComputeError} for everything else.
 *
 * @param wire the posted error
 * @returns an error to throw on the main thread
 */
export function fromWireError(wire: WireError): Error {
  const remote = { name: wire.name, message: wire.message, stack: wire.stack };
  const options = { cause: remote, field: wire.field };
  if (wire.code === "INVALID_ARGUMENT") {
    const Kind = wire.name === "TypeError" ? TypeError : RangeError;
    return new Kind(wire.message, { cause: remote });
  }
  if (wire.code === "CANCELLED") {
    return new DOMException(wire.message, "AbortError");
  }
  if (wire.code === "DEADLINE_EXCEEDED") {
    return new DOMException(wire.message, "TimeoutError");
  }
  const Domain = DOMAIN_CLASSES[wire.code];
  if (Domain !== undefined) return new Domain(wire.message, options);
  return new ComputeError(
    `Cannot finish compute task: the worker failed with ${wire.name}: ${wire.message}`,
    { cause: remote },
  );
}
