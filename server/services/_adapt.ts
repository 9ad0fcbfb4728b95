/**
 * Adapters from plain async handlers to grpc-js call handlers, shared by the
 * service files of this folder. A handler takes decoded messages and a
 * {@linkcode CallContext} and returns a promise (unary responses) or an async
 * iterable (streamed responses); streamed requests arrive as an async
 * iterable. The adapters own everything grpc-js specific: the call context,
 * backpressure, cancellation, and the single mapping of thrown errors to a
 * status through {@linkcode toStatus}, so that no raw `Error` ever reaches a
 * grpc-js callback (which would turn it into UNKNOWN and leak its message).
 *
 * @module
 */
import {
  type handleBidiStreamingCall,
  type handleClientStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  Metadata,
  type ServerDuplexStream,
  type ServerWritableStream,
  type StatusObject,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { type CallContext, openCallContext } from "../call_context.ts";
import { createSerializer, type MessageEncoder } from "../codec/mod.ts";
import { Code, toStatus, UnimplementedError } from "../errors.ts";
import type { Logger } from "../logger.ts";

/** Handles a unary RPC. */
export type UnaryHandler<Req, Res> = (
  request: Req,
  ctx: CallContext,
) => Promise<Res>;

/** Handles a server-streaming RPC: yields the responses. */
export type ServerStreamHandler<Req, Res> = (
  request: Req,
  ctx: CallContext,
) => AsyncIterable<Res>;

/** Handles a client-streaming RPC: consumes the requests, returns the response. */
export type ClientStreamHandler<Req, Res> = (
  requests: AsyncIterable<Req>,
  ctx: CallContext,
) => Promise<Res>;

/** Handles a bidirectional-streaming RPC. */
export type BidiStreamHandler<Req, Res> = (
  requests: AsyncIterable<Req>,
  ctx: CallContext,
) => AsyncIterable<Res>;

/** The parts of a generated (ts-proto, grpc-js) method definition used here. */
export interface MethodDefinitionLike {
  /** `/package.Service/Method`. */
  readonly path: string;
  /** Whether the client streams. */
  readonly requestStream: boolean;
  /** Whether the server streams. */
  readonly responseStream: boolean;
}

/**
 * A copy of a generated service definition whose listed methods serialize
 * their responses with {@linkcode createSerializer} (one reused writer, one
 * copy) instead of the generated serializer (a fresh growing writer and
 * two copies); see `../codec/serializer.ts`. Types and paths are unchanged.
 *
 * @param definition the generated service definition
 * @param codecs the response codec of each method to speed up
 * @returns the definition to register
 */
export function withResponseSerializers<
  D extends Record<string, MethodDefinitionLike>,
>(
  definition: D,
  codecs: { [K in keyof D]?: MessageEncoder<ResponseOf<D[K]>> },
): D {
  const copy: Record<string, unknown> = { ...definition };
  for (const [name, codec] of Object.entries(codecs)) {
    if (codec === undefined) continue;
    copy[name] = {
      ...definition[name],
      responseSerialize: createSerializer(codec as MessageEncoder<unknown>),
    };
  }
  return copy as D;
}

/** The response type of a generated method definition. */
type ResponseOf<M> = M extends {
  // deno-lint-ignore no-explicit-any
  responseSerialize: (value: infer Res) => any;
} ? Res
  : never;

/** The handler type of one generated method definition. */
export type HandlerFor<M> = M extends {
  requestStream: infer ClientStreams;
  responseStream: infer ServerStreams;
  // deno-lint-ignore no-explicit-any
  requestDeserialize: (bytes: any) => infer Req;
  // deno-lint-ignore no-explicit-any
  responseSerialize: (value: infer Res) => any;
}
  ? ClientStreams extends true
    ? ServerStreams extends true ? BidiStreamHandler<Req, Res>
    : ClientStreamHandler<Req, Res>
  : ServerStreams extends true ? ServerStreamHandler<Req, Res>
  : UnaryHandler<Req, Res>
  : never;

/** Handlers of every method of a generated service definition. */
export type ServiceHandlers<D> = { [K in keyof D]: HandlerFor<D[K]> };

/** What the adapters need from the server. */
export interface AdapterDeps {
  /** The root logger; each call logs through a child of it. */
  log: Logger;
  /**
   * Aborts every call's signal when the server stops waiting for in-flight
   * calls during shutdown.
   * @default undefined
   */
  shutdown?: AbortSignal;
}

type AnyHandler = (input: unknown, ctx: CallContext) => unknown;

/**
 * Builds the grpc-js implementation of a service. Methods without a handler
 * answer UNIMPLEMENTED with a message naming the method.
 *
 * @param definition the generated service definition
 * @param handlers the implemented methods
 * @param deps the root logger
 * @returns the implementation to pass to `server.addService`
 */
export function buildService<D extends Record<string, MethodDefinitionLike>>(
  definition: D,
  handlers: Partial<ServiceHandlers<D>>,
  deps: AdapterDeps,
): UntypedServiceImplementation {
  const implementation: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const rpc = method.path.replace(/^\//, "");
    const handler =
      (handlers as Record<string, AnyHandler | undefined>)[name] ??
        unimplemented(rpc);
    implementation[name] = adapt(method, rpc, handler, deps);
  }
  return implementation;
}

function unimplemented(rpc: string): AnyHandler {
  return () => {
    throw new UnimplementedError(`Cannot call ${rpc}: not implemented yet`);
  };
}

function adapt(
  method: MethodDefinitionLike,
  rpc: string,
  handler: AnyHandler,
  deps: AdapterDeps,
): UntypedHandleCall {
  if (method.requestStream) {
    return method.responseStream
      ? adaptBidi(rpc, handler, deps)
      : adaptClientStream(rpc, handler, deps);
  }
  return method.responseStream
    ? adaptServerStream(rpc, handler, deps)
    : adaptUnary(rpc, handler, deps);
}

function adaptUnary(
  rpc: string,
  handler: AnyHandler,
  deps: AdapterDeps,
): handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const ctx = openCallContext(call, { ...deps, method: rpc });
    settle(() => handler(call.request, ctx))
      .then(
        (response) => callback(null, response),
        (error) => callback(statusOf(error, ctx)),
      )
      .finally(() => ctx[Symbol.dispose]());
  };
}

function adaptClientStream(
  rpc: string,
  handler: AnyHandler,
  deps: AdapterDeps,
): handleClientStreamingCall<unknown, unknown> {
  return (call, callback) => {
    const ctx = openCallContext(call, { ...deps, method: rpc });
    settle(() => handler(requests(call, ctx.signal), ctx))
      .then(
        (response) => callback(null, response),
        (error) => callback(statusOf(error, ctx)),
      )
      .finally(() => ctx[Symbol.dispose]());
  };
}

function adaptServerStream(
  rpc: string,
  handler: AnyHandler,
  deps: AdapterDeps,
): handleServerStreamingCall<unknown, unknown> {
  return (call) => {
    const ctx = openCallContext(call, { ...deps, method: rpc });
    pump(call, () => handler(call.request, ctx) as AsyncIterable<unknown>, ctx)
      .finally(() => ctx[Symbol.dispose]());
  };
}

function adaptBidi(
  rpc: string,
  handler: AnyHandler,
  deps: AdapterDeps,
): handleBidiStreamingCall<unknown, unknown> {
  return (call) => {
    const ctx = openCallContext(call, { ...deps, method: rpc });
    const input = requests(call, ctx.signal);
    pump(call, () => handler(input, ctx) as AsyncIterable<unknown>, ctx)
      .finally(() => ctx[Symbol.dispose]());
  };
}

/** Writes a handler's responses with backpressure, then ends with one status. */
async function pump(
  call:
    | ServerWritableStream<unknown, unknown>
    | ServerDuplexStream<unknown, unknown>,
  responses: () => AsyncIterable<unknown>,
  ctx: CallContext,
): Promise<void> {
  try {
    for await (const response of responses()) {
      ctx.signal.throwIfAborted();
      if (!call.write(response)) await drained(call, ctx.signal);
    }
    ctx.signal.throwIfAborted();
    call.end();
  } catch (error) {
    // A cancelled call already has its status; nothing may follow it.
    if (!call.cancelled) call.emit("error", statusOf(error, ctx));
  }
}

/** The requests of a client stream; throws the abort reason if cancelled mid-stream. */
async function* requests(
  stream: {
    iterator(options: { destroyOnReturn: boolean }): AsyncIterable<unknown>;
  },
  signal: AbortSignal,
): AsyncGenerator<unknown> {
  // A plain `for await` destroys the stream once it ends, which would kill
  // the response side of a bidirectional call before its status is sent.
  for await (const request of stream.iterator({ destroyOnReturn: false })) {
    signal.throwIfAborted();
    yield request;
  }
  // A cancelled client stream may end without an error: never let a handler
  // take a truncated stream for a complete one.
  signal.throwIfAborted();
}

function drained(
  stream: {
    once(event: "drain", listener: () => void): unknown;
    removeListener(event: "drain", listener: () => void): unknown;
  },
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    };
    const onAbort = () => {
      stream.removeListener("drain", onDrain);
      reject(signal.reason);
    };
    stream.once("drain", onDrain);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function settle(run: () => unknown): Promise<unknown> {
  return new Promise((resolve) => resolve(run()));
}

function statusOf(error: unknown, ctx: CallContext): Partial<StatusObject> {
  const status = toStatus(error, { requestId: ctx.requestId });
  if (status.code === Code.INTERNAL || status.code === Code.DATA_LOSS) {
    ctx.log.error({ err: error }, "Request failed");
  }
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(status.trailers)) {
    metadata.set(key, value);
  }
  return { code: status.code, details: status.details, metadata };
}
