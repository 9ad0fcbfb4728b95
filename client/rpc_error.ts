/**
 * The error every client call rejects or throws with: a gRPC status code, the
 * server's message, and the trailing metadata.
 *
 * @module
 */
import { Metadata, status as Status } from "@grpc/grpc-js";

export { Status };

/** Trailer naming the offending request field, set by the server. */
const FIELD_KEY = "rnnexplain-field";
/** Header/trailer carrying the server's request id. */
const REQUEST_ID_KEY = "x-request-id";

/** Options of {@linkcode RpcError}. */
export interface RpcErrorOptions {
  /**
   * Metadata the server sent with the status.
   * @default {}
   */
  metadata?: Record<string, string>;
  /**
   * The underlying error (the grpc-js error, or an abort reason).
   * @default undefined
   */
  cause?: unknown;
}

/**
 * A failed call: `code` is the gRPC status (compare with {@linkcode Status}),
 * `details` the server's message.
 *
 * @example
 * ```ts
 * try {
 *   await client.getModel({ modelId: "nope" });
 * } catch (err) {
 *   if (err instanceof RpcError && err.code === Status.NOT_FOUND) console.log(err.details);
 * }
 * ```
 */
export class RpcError extends Error {
  /** The gRPC status code. */
  readonly code: Status;
  /** The status message from the server. */
  readonly details: string;
  /** Metadata sent with the status (string values only). */
  readonly metadata: Readonly<Record<string, string>>;

  /**
   * @param code the status code
   * @param details the status message
   * @param options the metadata and the cause
   */
  constructor(code: Status, details: string, options: RpcErrorOptions = {}) {
    super(`${Status[code] ?? code}: ${details}`, { cause: options.cause });
    this.name = "RpcError";
    this.code = code;
    this.details = details;
    this.metadata = Object.freeze({ ...options.metadata });
  }

  /** The request field the server named as the culprit, when it did. */
  get field(): string | undefined {
    return this.metadata[FIELD_KEY];
  }

  /** The server's id of the failed call, for finding its log lines. */
  get requestId(): string | undefined {
    return this.metadata[REQUEST_ID_KEY];
  }

  /**
   * Converts what a grpc-js call failed with into an `RpcError`. When the
   * call was cancelled through `signal`, the error is CANCELLED and its cause
   * is the signal's reason.
   *
   * @param error the grpc-js error (a `ServiceError`) or anything else thrown
   * @param signal the call's abort signal, if any
   * @returns the error to surface
   */
  static from(error: unknown, signal?: AbortSignal): RpcError {
    if (error instanceof RpcError) return error;
    if (signal?.aborted) {
      return new RpcError(Status.CANCELLED, "Call cancelled by the caller", {
        cause: signal.reason,
      });
    }
    const e = error as {
      code?: unknown;
      details?: unknown;
      metadata?: unknown;
    };
    if (typeof e?.code === "number" && typeof e.details === "string") {
      return new RpcError(e.code, e.details, {
        metadata: metadataRecord(e.metadata),
        cause: error,
      });
    }
    return new RpcError(Status.UNKNOWN, String(error), { cause: error });
  }
}

function metadataRecord(metadata: unknown): Record<string, string> {
  const record: Record<string, string> = {};
  if (!(metadata instanceof Metadata)) return record;
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (typeof value === "string") record[key] = value;
  }
  return record;
}
