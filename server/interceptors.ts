/**
 * The server interceptor that gives every call, including health and
 * reflection, a request id and one access-log line (method, peer, status,
 * duration). The id is a client's valid `x-request-id` or a fresh UUID; it is
 * put into the request metadata (where `call_context.ts` reads it) and sent
 * back as a response header.
 *
 * @module
 */
import {
  Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  ServerListenerBuilder,
} from "@grpc/grpc-js";
import { Code, codeName } from "./errors.ts";
import { REQUEST_ID_KEY } from "./call_context.ts";
import type { Logger } from "./logger.ts";

const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Methods logged at debug level: probes that would flood the log. */
const QUIET_METHODS = new Set([
  "grpc.health.v1.Health/Check",
  "grpc.health.v1.Health/Watch",
]);

/** Log level of a finished call with this status (STYLE.md §3.8). */
export function accessLogLevel(
  code: number,
  method: string,
): "debug" | "info" | "warn" | "error" {
  switch (code) {
    case Code.INTERNAL:
    case Code.DATA_LOSS:
    case Code.UNKNOWN:
      return "error";
    case Code.INVALID_ARGUMENT:
    case Code.RESOURCE_EXHAUSTED:
    case Code.OUT_OF_RANGE:
      return "warn";
    default:
      return QUIET_METHODS.has(method) ? "debug" : "info";
  }
}

/**
 * Creates the request-id and access-log interceptor.
 *
 * @param log the root logger
 * @returns a grpc-js server interceptor
 */
export function createAccessLogInterceptor(log: Logger): ServerInterceptor {
  return (descriptor, call: ServerInterceptingCallInterface) => {
    const method = descriptor.path.replace(/^\//, "");
    const started = performance.now();
    let requestId: string | undefined;
    let logged = false;
    const id = () => (requestId ??= crypto.randomUUID());
    const finish = (code: number) => {
      if (logged) return;
      logged = true;
      const fields = {
        rpc: method,
        requestId: id(),
        peer: call.getPeer(),
        code: codeName(code),
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      };
      log[accessLogLevel(code, method)](fields, "Request finished");
    };
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const offered = metadata.get(REQUEST_ID_KEY)[0];
        if (typeof offered === "string" && VALID_REQUEST_ID.test(offered)) {
          requestId ??= offered;
        }
        metadata.set(REQUEST_ID_KEY, id());
        next(metadata);
      })
      .withOnCancel(() => finish(Code.CANCELLED))
      .build();
    const responder = new ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendMetadata((metadata, next) => {
        metadata.set(REQUEST_ID_KEY, id());
        next(metadata);
      })
      .withSendStatus((status, next) => {
        finish(status.code);
        // Also a trailer: a failed call's error carries only the trailers.
        const metadata = status.metadata ?? new Metadata();
        metadata.set(REQUEST_ID_KEY, id());
        next({ ...status, metadata });
      })
      .build();
    return new ServerInterceptingCall(call, responder);
  };
}
