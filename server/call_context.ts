/**
 * Turns an incoming gRPC call into the plain context handlers and domain code
 * see: a request id, a child logger, the deadline, and an `AbortSignal` that
 * fires when the client cancels or the deadline passes (the connect-es
 * `HandlerContext` idea). Domain code checks `signal.throwIfAborted()` between
 * steps; {@linkcode toStatus} maps the signal's reason to CANCELLED or
 * DEADLINE_EXCEEDED.
 *
 * The call is described structurally, so this file does not import grpc-js.
 *
 * @module
 */
import type { Logger } from "./logger.ts";

/** Metadata key of the request id, in requests and response headers. */
export const REQUEST_ID_KEY = "x-request-id";

/** A cancellation this close to the deadline counts as the deadline. */
const DEADLINE_SLACK_MS = 20;

/** The parts of a grpc-js server call this module reads. */
export interface IncomingCall {
  /** Request metadata. */
  readonly metadata: { get(key: string): Array<string | Uint8Array> };
  /** Whether the call was cancelled. */
  readonly cancelled: boolean;
  /** The client's address. */
  getPeer(): string;
  /** The call's deadline; `Infinity` when there is none. */
  getDeadline(): Date | number;
  /** Subscribes to the call's cancellation. */
  once(event: "cancelled", listener: () => void): unknown;
  /** Unsubscribes from the call's cancellation. */
  removeListener(event: "cancelled", listener: () => void): unknown;
}

/** What a handler knows about its call. */
export interface CallContext {
  /** Id of this call in logs and in the `x-request-id` response header. */
  readonly requestId: string;
  /** Full method name, for example `rnnexplain.v1.ModelService/GetModel`. */
  readonly method: string;
  /** The client's address. */
  readonly peer: string;
  /** Child logger bound to `{ rpc, requestId, peer }`. */
  readonly log: Logger;
  /** When the call must be done; `undefined` when the client set no deadline. */
  readonly deadline: Date | undefined;
  /**
   * Aborts when the client cancels (reason: a `DOMException` named
   * `AbortError`), the deadline passes (`TimeoutError`), or the server stops
   * waiting for the call during shutdown (an `UnavailableError`).
   */
  readonly signal: AbortSignal;
  /** Returns the first string value of a request metadata key. */
  header(key: string): string | undefined;
}

/** A {@linkcode CallContext} that must be closed when the call ends. */
export interface OpenCallContext extends CallContext, Disposable {}

/** Options of {@linkcode openCallContext}. */
export interface OpenCallContextOptions {
  /** The root logger; the context's logger is its child. */
  log: Logger;
  /** Full method name, without the leading slash. */
  method: string;
  /**
   * Aborts every call when the server gives up draining; its reason becomes
   * the context's abort reason.
   * @default undefined
   */
  shutdown?: AbortSignal;
}

/**
 * Opens the context of one call. Dispose it when the call ends: that removes
 * the cancellation listeners and the deadline timer.
 *
 * @param call the grpc-js server call
 * @param options the root logger and the method name
 * @returns the context; dispose it (`using`) when the call ends
 */
export function openCallContext(
  call: IncomingCall,
  options: OpenCallContextOptions,
): OpenCallContext {
  const requestId = firstString(call.metadata.get(REQUEST_ID_KEY)) ??
    crypto.randomUUID();
  const peer = call.getPeer();
  const deadline = toDate(call.getDeadline());
  const controller = new AbortController();
  const timeout = () =>
    controller.abort(new DOMException("Deadline exceeded", "TimeoutError"));
  const onCancelled = () => {
    // grpc-js cancels the call itself when the deadline passes; its timer may
    // fire a few milliseconds before the deadline we read, hence the slack.
    if (
      deadline !== undefined &&
      Date.now() >= deadline.getTime() - DEADLINE_SLACK_MS
    ) timeout();
    else {
      controller.abort(
        new DOMException("Call cancelled by the client", "AbortError"),
      );
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (deadline !== undefined) {
    timer = setTimeout(timeout, Math.max(0, deadline.getTime() - Date.now()));
  }
  if (call.cancelled) onCancelled();
  else call.once("cancelled", onCancelled);
  const shutdown = options.shutdown;
  const onShutdown = () => controller.abort(shutdown?.reason);
  if (shutdown?.aborted) onShutdown();
  else shutdown?.addEventListener("abort", onShutdown, { once: true });
  return {
    requestId,
    method: options.method,
    peer,
    deadline,
    signal: controller.signal,
    log: options.log.child({ rpc: options.method, requestId, peer }),
    header: (key) => firstString(call.metadata.get(key)),
    [Symbol.dispose]() {
      clearTimeout(timer);
      call.removeListener("cancelled", onCancelled);
      shutdown?.removeEventListener("abort", onShutdown);
    },
  };
}

function firstString(
  values: Array<string | Uint8Array>,
): string | undefined {
  const value = values[0];
  return typeof value === "string" ? value : undefined;
}

function toDate(deadline: Date | number): Date | undefined {
  if (deadline instanceof Date) return deadline;
  return Number.isFinite(deadline) ? new Date(deadline) : undefined;
}
