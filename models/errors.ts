/**
 * Typed errors thrown by `models/`. The server maps them to gRPC status codes
 * in one place (`server/errors.ts`): invalid arguments stay the built-in
 * `RangeError`/`TypeError` (INVALID_ARGUMENT); these cover the other cases.
 *
 * @module
 */

/**
 * A valid request that cannot run in the current state, for example a method
 * that is undefined for an architecture or inputs outside a rule's bounds
 * (FAILED_PRECONDITION).
 */
export class PreconditionError extends Error {
  /** @param message std-style: `Cannot explain …: reason` */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PreconditionError";
  }
}

/** An index past the end: a class, a time step or a sample (OUT_OF_RANGE). */
export class OutOfRangeError extends Error {
  /** @param message std-style: `Cannot explain …: class 12 is past the last class 9` */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OutOfRangeError";
  }
}
