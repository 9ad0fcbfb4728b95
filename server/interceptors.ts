/**
 * The server interceptors. The access-log interceptor gives every call,
 * including health and reflection, a request id, one access-log line
 * (method, peer, status, duration) and one observation in the request
 * metrics. The id is a client's valid `x-request-id` or a fresh UUID; it is
 * put into the request metadata (where `call_context.ts` reads it) and sent
 * back as a response header. The auth interceptor answers UNAUTHENTICATED
 * before a handler sees a call without an accepted bearer token.
 *
 * Order matters: grpc-js wraps each interceptor of the server's list around
 * the ones before it, so incoming metadata meets the first one first and a
 * status sent by a later one passes the earlier ones. List the access log
 * before the auth check, so that it sets the request id first and logs and
 * counts the refusals.
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
import type { AuthTokens } from "./auth_tokens.ts";
import { Code, codeName } from "./errors.ts";
import { REQUEST_ID_KEY } from "./call_context.ts";
import type { Logger } from "./logger.ts";
import type { RequestMetrics } from "./metrics/mod.ts";

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
    case Code.UNAUTHENTICATED:
      return "warn";
    default:
      return QUIET_METHODS.has(method) ? "debug" : "info";
  }
}

/** Options of {@linkcode createAccessLogInterceptor}. */
export interface AccessLogOptions {
  /**
   * Records every finished call (method, status, duration).
   * @default undefined (no metrics)
   */
  metrics?: RequestMetrics;
}

/**
 * Creates the request-id, access-log and request-metrics interceptor.
 *
 * @param log the root logger
 * @param options the request metrics
 * @returns a grpc-js server interceptor
 */
export function createAccessLogInterceptor(
  log: Logger,
  options: AccessLogOptions = {},
): ServerInterceptor {
  return (descriptor, call: ServerInterceptingCallInterface) => {
    const method = descriptor.path.replace(/^\//, "");
    const started = performance.now();
    let requestId: string | undefined;
    let logged = false;
    const id = () => (requestId ??= crypto.randomUUID());
    const finish = (code: number) => {
      if (logged) return;
      logged = true;
      const seconds = (performance.now() - started) / 1000;
      const fields = {
        rpc: method,
        requestId: id(),
        peer: call.getPeer(),
        code: codeName(code),
        durationMs: Math.round(seconds * 1e6) / 1000,
      };
      log[accessLogLevel(code, method)](fields, "Request finished");
      options.metrics?.observe(method, fields.code, seconds);
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

/** Methods of the standard health service. */
const HEALTH_PREFIX = "/grpc.health.v1.Health/";

/** Options of {@linkcode createAuthInterceptor}. */
export interface AuthInterceptorOptions {
  /**
   * Whether health checks are answered without a token (for load balancers
   * and Kubernetes probes, which cannot send one).
   * @default true
   */
  exemptHealth?: boolean;
}

/**
 * Creates the bearer-token interceptor: a call whose `authorization`
 * metadata is not `Bearer <an accepted token>` ends with UNAUTHENTICATED
 * before its handler receives anything. Tokens are never logged.
 *
 * @param tokens the accepted tokens
 * @param options which methods stay open
 * @returns a grpc-js server interceptor; list it after the access log
 */
export function createAuthInterceptor(
  tokens: AuthTokens,
  options: AuthInterceptorOptions = {},
): ServerInterceptor {
  const exemptHealth = options.exemptHealth ?? true;
  return (descriptor, call: ServerInterceptingCallInterface) => {
    if (exemptHealth && descriptor.path.startsWith(HEALTH_PREFIX)) {
      return new ServerInterceptingCall(call);
    }
    let refused = false;
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const values = metadata.get("authorization");
        const value = values.length === 1 && typeof values[0] === "string"
          ? values[0]
          : undefined;
        if (tokens.verify(value)) {
          next(metadata);
          return;
        }
        refused = true;
        call.sendStatus({
          code: Code.UNAUTHENTICATED,
          details: value === undefined
            ? "Cannot authenticate the call: no bearer token in the authorization metadata"
            : "Cannot authenticate the call: the bearer token is not accepted",
          metadata: new Metadata(),
        });
      })
      // Nothing of a refused call reaches the handler.
      .withOnReceiveMessage((message, next) => {
        if (!refused) next(message);
      })
      .withOnReceiveHalfClose((next) => {
        if (!refused) next();
      })
      .build();
    const responder = new ResponderBuilder()
      .withStart((next) => next(listener))
      .build();
    return new ServerInterceptingCall(call, responder);
  };
}
