/**
 * Typed errors of the server and the one place that turns any thrown value
 * into a gRPC status (STYLE.md §3.7). Domain code throws these classes (or
 * `RangeError`/`TypeError` for malformed input); only the service edge calls
 * {@linkcode toStatus}. The cause of an error never goes on the wire: it goes
 * to the log under `err`.
 *
 * This file imports nothing from grpc-js so that domain code (jobs, storage)
 * may throw its errors; the numeric codes are fixed by the gRPC specification.
 *
 * @module
 */

/** gRPC status codes, with the numeric values of the gRPC specification. */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** A gRPC status code. */
export type Code = typeof Code[keyof typeof Code];

const CODE_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(Code).map(([name, value]) => [value, name]),
);

/**
 * Returns the name of a status code, for logs.
 *
 * @example
 * ```ts
 * codeName(Code.NOT_FOUND); // "NOT_FOUND"
 * ```
 */
export function codeName(code: number): string {
  return CODE_NAMES.get(code) ?? `CODE_${code}`;
}

/** Trailing-metadata key that names the offending request field. */
export const FIELD_METADATA_KEY = "rnnexplain-field";

/** Options of {@linkcode RpcError} and the domain error classes. */
export interface RpcErrorOptions {
  /**
   * The underlying error; logged, never sent to the client.
   * @default undefined
   */
  cause?: unknown;
  /**
   * Path of the offending request field, for example `inputs[0].shape`; sent
   * to the client as the `rnnexplain-field` trailer.
   * @default undefined
   */
  field?: string;
}

/**
 * An error that carries its gRPC status code explicitly. Prefer the domain
 * classes below in domain code; use this at the service edge.
 *
 * @example
 * ```ts
 * throw new RpcError(Code.INVALID_ARGUMENT, 'Cannot decode tensor: expected 16 bytes, found 12', { field: "input.tensor.data" });
 * ```
 */
export class RpcError extends Error {
  /** The status code sent to the client. */
  readonly code: Code;
  /** Path of the offending request field, when known. */
  readonly field: string | undefined;

  /**
   * @param code the status code
   * @param message the status message sent to the client (std style)
   * @param options the cause (logged only) and the offending field
   */
  constructor(code: Code, message: string, options: RpcErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "RpcError";
    this.code = code;
    this.field = options.field;
  }
}

/** Base of the typed domain errors; each subclass maps to one status code. */
export abstract class DomainError extends Error {
  /** Path of the offending request field, when known. */
  readonly field: string | undefined;

  /**
   * @param message the message sent to the client (std style)
   * @param options the cause (logged only) and the offending field
   */
  constructor(message: string, options: RpcErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.field = options.field;
  }
}

/** An unknown model, checkpoint or job id (NOT_FOUND). */
export class NotFoundError extends DomainError {}

/** A create with an id that already exists (ALREADY_EXISTS). */
export class AlreadyExistsError extends DomainError {}

/** A valid request in the wrong state (FAILED_PRECONDITION). */
export class PreconditionError extends DomainError {}

/** A timestep, class or layer index past the end (OUT_OF_RANGE). */
export class OutOfRangeError extends DomainError {}

/** A full queue, an oversized request or a concurrency limit (RESOURCE_EXHAUSTED). */
export class ResourceExhaustedError extends DomainError {}

/** A lost race: the state changed concurrently (ABORTED). */
export class ConflictError extends DomainError {}

/** An unreadable or corrupt checkpoint (DATA_LOSS). */
export class DataLossError extends DomainError {}

/** An RPC that is declared in the contract but not implemented yet (UNIMPLEMENTED). */
export class UnimplementedError extends DomainError {}

/** The server is draining or not ready (UNAVAILABLE). */
export class UnavailableError extends DomainError {}

/**
 * The one table from error class to status code. Order matters only for
 * subclasses, which must come before their base class.
 */
const ERROR_CODES: ReadonlyArray<
  readonly [abstract new (...args: never[]) => Error, Code]
> = [
  [NotFoundError, Code.NOT_FOUND],
  [AlreadyExistsError, Code.ALREADY_EXISTS],
  [PreconditionError, Code.FAILED_PRECONDITION],
  [OutOfRangeError, Code.OUT_OF_RANGE],
  [ResourceExhaustedError, Code.RESOURCE_EXHAUSTED],
  [ConflictError, Code.ABORTED],
  [DataLossError, Code.DATA_LOSS],
  [UnimplementedError, Code.UNIMPLEMENTED],
  [UnavailableError, Code.UNAVAILABLE],
  // Validation throws the standard classes (STYLE.md §3.7).
  [RangeError, Code.INVALID_ARGUMENT],
  [TypeError, Code.INVALID_ARGUMENT],
];

/** A status ready for grpc-js: code, message, and trailers. */
export interface Status {
  /** The status code. */
  code: Code;
  /** The status message sent to the client. */
  details: string;
  /** Trailing metadata to send with the status (string values). */
  trailers: Record<string, string>;
}

/** Options of {@linkcode toStatus}. */
export interface ToStatusOptions {
  /**
   * The call's request id, quoted in INTERNAL messages so that a user can
   * find the server log entry.
   * @default undefined
   */
  requestId?: string;
}

/**
 * Maps any thrown value to the status sent to the client: typed errors keep
 * their message and code; an aborted signal's reason becomes CANCELLED or
 * DEADLINE_EXCEEDED; everything else becomes INTERNAL with a generic message,
 * so that no internal detail leaks.
 *
 * @param error the thrown value
 * @param options the request id quoted in INTERNAL messages
 * @returns the status to send
 *
 * @example
 * ```ts
 * toStatus(new NotFoundError('Cannot find model "m1": no such id'));
 * // { code: 5, details: 'Cannot find model "m1": no such id', trailers: {} }
 * ```
 */
export function toStatus(
  error: unknown,
  options: ToStatusOptions = {},
): Status {
  if (error instanceof RpcError) {
    return status(error.code, error.message, error.field);
  }
  if (error instanceof DOMException) {
    if (error.name === "AbortError") {
      return status(Code.CANCELLED, "Call cancelled by the client");
    }
    if (error.name === "TimeoutError") {
      return status(Code.DEADLINE_EXCEEDED, "Deadline exceeded");
    }
  }
  for (const [type, code] of ERROR_CODES) {
    if (error instanceof type) {
      const field = error instanceof DomainError ? error.field : undefined;
      return status(code, error.message, field);
    }
  }
  const id = options.requestId === undefined
    ? ""
    : ` with request id "${options.requestId}"`;
  return status(Code.INTERNAL, `Internal error; see the server logs${id}`);
}

function status(code: Code, details: string, field?: string): Status {
  const trailers: Record<string, string> = {};
  if (field !== undefined) trailers[FIELD_METADATA_KEY] = field;
  return { code, details, trailers };
}
