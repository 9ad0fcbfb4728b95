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
import { RpcError } from "./rpc_error.ts";

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
}

function onAbort(
  signal: AbortSignal | undefined,
  cancel: () => void,
): () => void {
  signal?.addEventListener("abort", cancel, { once: true });
  return () => signal?.removeEventListener("abort", cancel);
}

/** Makes a unary call. */
export function unaryCall<Req, Res>(
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

/** Makes a server-streaming call; breaking out of the loop cancels it. */
export async function* serverStreamCall<Req, Res>(
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
