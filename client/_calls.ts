/**
 * The four gRPC call shapes as promises and async iterables over one grpc-js
 * `Client`, with deadlines, metadata and `AbortSignal` cancellation. Every
 * failure surfaces as an {@linkcode RpcError}.
 *
 * @module
 */
import type {
  Client,
  ClientDuplexStream,
  ClientWritableStream,
  Metadata,
} from "@grpc/grpc-js";
import { RpcError, Status } from "./rpc_error.ts";

/** The parts of a generated method definition a call needs. */
export interface MethodDefinition<Req, Res> {
  /** `/package.Service/Method`. */
  readonly path: string;
  /** Encodes a request. */
  readonly requestSerialize: (value: Req) => Buffer;
  /** Decodes a response. */
  readonly responseDeserialize: (bytes: Buffer) => Res;
}

/** Per-call settings, resolved from the client's and the call's options. */
export interface CallSettings {
  /** Request metadata. */
  metadata: Metadata;
  /** When the call must be done; `undefined` for none. */
  deadline: Date | undefined;
  /** Cancels the call. */
  signal: AbortSignal | undefined;
  /**
   * Further attempts after an UNAVAILABLE failure that received no response
   * message; only for methods that are safe to repeat (read-only). 0 for
   * none.
   */
  retries: number;
}

/** Pause before retry `attempt` (1-based): 25 ms, 100 ms, 400 ms, … */
function backoffMs(attempt: number): number {
  return 25 * 4 ** (attempt - 1);
}

/**
 * Whether a failed attempt may be repeated: UNAVAILABLE (the connection
 * dropped or was refused), retries left, not cancelled, and the pause ends
 * before the deadline.
 */
function mayRetry(
  error: RpcError,
  attempt: number,
  settings: CallSettings,
): boolean {
  return error.code === Status.UNAVAILABLE && attempt <= settings.retries &&
    settings.signal?.aborted !== true &&
    (settings.deadline === undefined ||
      Date.now() + backoffMs(attempt) < settings.deadline.getTime());
}

/**
 * The error a call ends with: when every attempt failed with UNAVAILABLE,
 * the first one, whose message says why (a dropped connection, a server
 * shutting down) where later ones often only say the connection was refused.
 */
function finalError(error: unknown, first: RpcError | undefined): unknown {
  return first !== undefined && error instanceof RpcError &&
      error.code === Status.UNAVAILABLE
    ? first
    : error;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function onAbort(
  signal: AbortSignal | undefined,
  cancel: () => void,
): () => void {
  signal?.addEventListener("abort", cancel, { once: true });
  return () => signal?.removeEventListener("abort", cancel);
}

/**
 * Makes a unary call, repeated up to `settings.retries` times after an
 * UNAVAILABLE failure (see {@linkcode CallSettings.retries}).
 */
export async function unaryCall<Req, Res>(
  client: Client,
  method: MethodDefinition<Req, Res>,
  request: Req,
  settings: CallSettings,
): Promise<Res> {
  let first: RpcError | undefined;
  for (let attempt = 1;; attempt++) {
    try {
      return await unaryAttempt(client, method, request, settings);
    } catch (error) {
      if (!(error instanceof RpcError) || !mayRetry(error, attempt, settings)) {
        throw finalError(error, first);
      }
      first ??= error;
      await sleep(backoffMs(attempt));
    }
  }
}

function unaryAttempt<Req, Res>(
  client: Client,
  method: MethodDefinition<Req, Res>,
  request: Req,
  settings: CallSettings,
): Promise<Res> {
  if (settings.signal?.aborted) {
    return Promise.reject(
      RpcError.from(settings.signal.reason, settings.signal),
    );
  }
  return new Promise((resolve, reject) => {
    const call = client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      settings.metadata,
      { deadline: settings.deadline },
      (error, response) => {
        unsubscribe();
        if (error !== null || response === undefined) {
          reject(RpcError.from(error, settings.signal));
        } else resolve(response);
      },
    );
    const unsubscribe = onAbort(settings.signal, () => call.cancel());
  });
}

/**
 * Makes a server-streaming call; breaking out of the loop cancels it. An
 * attempt that fails with UNAVAILABLE before its first response message is
 * repeated up to `settings.retries` times; once a message has arrived, a
 * failure ends the stream.
 */
export async function* serverStreamCall<Req, Res>(
  client: Client,
  method: MethodDefinition<Req, Res>,
  request: Req,
  settings: CallSettings,
): AsyncGenerator<Res> {
  let first: RpcError | undefined;
  for (let attempt = 1;; attempt++) {
    let received = false;
    try {
      for await (
        const response of serverStreamAttempt(client, method, request, settings)
      ) {
        received = true;
        yield response;
      }
      return;
    } catch (error) {
      if (
        received || !(error instanceof RpcError) ||
        !mayRetry(error, attempt, settings)
      ) throw finalError(error, first);
      first ??= error;
      await sleep(backoffMs(attempt));
    }
  }
}

async function* serverStreamAttempt<Req, Res>(
  client: Client,
  method: MethodDefinition<Req, Res>,
  request: Req,
  settings: CallSettings,
): AsyncGenerator<Res> {
  if (settings.signal?.aborted) {
    throw RpcError.from(settings.signal.reason, settings.signal);
  }
  const call = client.makeServerStreamRequest(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
    request,
    settings.metadata,
    { deadline: settings.deadline },
  );
  const unsubscribe = onAbort(settings.signal, () => call.cancel());
  try {
    for await (const response of call) yield response as Res;
  } catch (error) {
    throw RpcError.from(error, settings.signal);
  } finally {
    unsubscribe();
    call.cancel(); // a no-op once the call has finished
  }
}

/** Makes a client-streaming call: writes every request, then awaits the response. */
export function clientStreamCall<Req, Res>(
  client: Client,
  method: MethodDefinition<Req, Res>,
  requests: AsyncIterable<Req> | Iterable<Req>,
  settings: CallSettings,
): Promise<Res> {
  if (settings.signal?.aborted) {
    return Promise.reject(
      RpcError.from(settings.signal.reason, settings.signal),
    );
  }
  return new Promise((resolve, reject) => {
    let finished = false;
    const call = client.makeClientStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      settings.metadata,
      { deadline: settings.deadline },
      (error, response) => {
        finished = true;
        unsubscribe();
        if (error !== null || response === undefined) {
          reject(RpcError.from(error, settings.signal));
        } else resolve(response);
      },
    );
    const unsubscribe = onAbort(settings.signal, () => call.cancel());
    writeAll(call, requests, () => finished).catch((error) => {
      // The request source failed: abandon the call, surface the source's error.
      unsubscribe();
      call.cancel();
      reject(error);
    });
  });
}

/** Makes a bidirectional call: requests are written while responses are read. */
export async function* bidiStreamCall<Req, Res>(
  client: Client,
  method: MethodDefinition<Req, Res>,
  requests: AsyncIterable<Req> | Iterable<Req>,
  settings: CallSettings,
): AsyncGenerator<Res> {
  if (settings.signal?.aborted) {
    throw RpcError.from(settings.signal.reason, settings.signal);
  }
  const call = client.makeBidiStreamRequest(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
    settings.metadata,
    { deadline: settings.deadline },
  );
  const unsubscribe = onAbort(settings.signal, () => call.cancel());
  let finished = false;
  let sourceError: { error: unknown } | undefined;
  const writing = writeAll(call, requests, () => finished).catch((error) => {
    sourceError = { error };
    call.cancel();
  });
  try {
    for await (const response of call) yield response as Res;
  } catch (error) {
    if (sourceError !== undefined) throw sourceError.error;
    throw RpcError.from(error, settings.signal);
  } finally {
    finished = true;
    unsubscribe();
    call.cancel();
    // Not awaited: a request source blocked in next() cannot be interrupted,
    // and it stops at its next value (isFinished) without writing it.
    void writing;
  }
  if (sourceError !== undefined) throw sourceError.error;
}

/** Writes requests with backpressure, then half-closes; stops once the call is finished. */
async function writeAll<Req>(
  call: ClientWritableStream<Req> | ClientDuplexStream<Req, unknown>,
  requests: AsyncIterable<Req> | Iterable<Req>,
  isFinished: () => boolean,
): Promise<void> {
  for await (const request of requests) {
    if (isFinished()) return;
    if (!call.write(request)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          call.removeListener("drain", done);
          call.removeListener("close", done);
          resolve();
        };
        call.once("drain", done);
        call.once("close", done);
      });
    }
  }
  if (!isFinished()) call.end();
}
