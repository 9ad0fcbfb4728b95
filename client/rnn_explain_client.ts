/**
 * The typed rnn-explain client: one method per RPC of the v1 contract, as
 * promises (unary and client-streaming calls) and async iterables
 * (server-streaming and bidirectional calls), over one grpc-js channel.
 *
 * @module
 */
import {
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  credentials,
  Metadata,
} from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import {
  EvaluateRequest,
  type EvaluateResponse,
  EvaluationServiceService,
} from "../proto/gen/rnnexplain/v1/evaluation_service.ts";
import {
  ExplainBatchRequest,
  type ExplainBatchResponse,
  ExplainRequest,
  type ExplainResponse,
  ExplainServiceService,
  ListExplainersRequest,
  type ListExplainersResponse,
} from "../proto/gen/rnnexplain/v1/explain_service.ts";
import {
  ClassifyRequest,
  type ClassifyResponse,
  ClassifyStreamRequest,
  type ClassifyStreamResponse,
  InferenceServiceService,
} from "../proto/gen/rnnexplain/v1/inference_service.ts";
import {
  DeleteModelRequest,
  type DeleteModelResponse,
  ExportModelRequest,
  type ExportModelResponse,
  GetModelRequest,
  type GetModelResponse,
  ImportModelRequest,
  type ImportModelResponse,
  ListModelsRequest,
  type ListModelsResponse,
  ModelServiceService,
} from "../proto/gen/rnnexplain/v1/model_service.ts";
import {
  CancelTrainingRequest,
  type CancelTrainingResponse,
  GetTrainingJobRequest,
  type GetTrainingJobResponse,
  ListTrainingJobsRequest,
  type ListTrainingJobsResponse,
  ResumeTrainingRequest,
  type ResumeTrainingResponse,
  StartTrainingRequest,
  type StartTrainingResponse,
  TrainingServiceService,
  WatchTrainingRequest,
  type WatchTrainingResponse,
} from "../proto/gen/rnnexplain/v1/training_service.ts";
import {
  bidiStreamCall,
  type CallSettings,
  clientStreamCall,
  type MethodDefinition,
  serverStreamCall,
  unaryCall,
} from "./_calls.ts";
import { RpcError, Status } from "./rpc_error.ts";
import { createSerializer, type MessageEncoder } from "./_serializer.ts";
import { deferGoawayCloseOnConnect } from "./_defer_goaway_close.ts";

/** TLS material; PEM-encoded. */
export interface TlsOptions {
  /**
   * Certificates of the authorities trusted to sign the server's certificate.
   * @default the system's trusted roots
   */
  rootCerts?: Uint8Array;
  /**
   * The client's private key, for mutual TLS.
   * @default undefined
   */
  privateKey?: Uint8Array;
  /**
   * The client's certificate chain, for mutual TLS.
   * @default undefined
   */
  certChain?: Uint8Array;
}

/** Options of {@linkcode createRnnExplainClient}. */
export interface ClientOptions {
  /**
   * Connect over TLS: `true` trusts the system's roots, an object gives the
   * material explicitly.
   * @default false (plaintext)
   */
  tls?: boolean | TlsOptions;
  /**
   * Bearer token sent as `authorization: Bearer <token>` with every call.
   * Over plaintext it is only sent to loopback addresses.
   * @default undefined
   */
  token?: string;
  /**
   * Deadline of unary and client-streaming calls, in milliseconds from the
   * start of each call; streaming responses have no default deadline.
   * @default 30000
   */
  defaultTimeoutMs?: number;
  /**
   * grpc-js channel options, for example message size limits; they override
   * {@linkcode DEFAULT_CHANNEL_OPTIONS} key by key.
   * @default DEFAULT_CHANNEL_OPTIONS
   */
  channelOptions?: ChannelOptions;
  /**
   * How often a read-only call (List*, Get*, Classify, Explain,
   * ExplainBatch, Evaluate, WatchTraining, ExportModel, health) is repeated
   * after it fails with UNAVAILABLE before any response message arrived:
   * the connection dropped (a replica restarting or shutting down) or was
   * refused. Pauses of 25 ms, 100 ms, … within the
   * deadline. Calls that change state are never repeated.
   * @default 2
   */
  retries?: number;
}

/** Options of one call. */
export interface CallOptions {
  /**
   * Cancels the call; it then fails with CANCELLED.
   * @default undefined
   */
  signal?: AbortSignal;
  /**
   * Deadline in milliseconds from now; the call then fails with
   * DEADLINE_EXCEEDED.
   * @default `defaultTimeoutMs` for unary and client-streaming calls, none for streamed responses
   */
  timeoutMs?: number;
  /**
   * Extra request metadata, for example `x-request-id`.
   * @default {}
   */
  metadata?: Record<string, string>;
}

/** Leaves of a message: never made partial (messages hold no functions). */
type Builtin =
  | Date
  | Uint8Array
  | string
  | number
  | boolean
  | undefined;

/**
 * A message in which every field, at any depth, may be left out (the shape
 * ts-proto's `fromPartial` accepts); a oneof keeps its `$case`.
 */
export type PartialMessage<T> = T extends Builtin ? T
  : T extends ReadonlyArray<infer U> ? Array<PartialMessage<U>>
  : T extends { $case: string } ?
      & { [K in keyof Omit<T, "$case">]?: PartialMessage<T[K]> }
      & { $case: T["$case"] }
  : T extends object ? { [K in keyof T]?: PartialMessage<T[K]> }
  : T;

/** Serving status reported by the standard health service. */
export type HealthStatus =
  | "UNKNOWN"
  | "SERVING"
  | "NOT_SERVING"
  | "SERVICE_UNKNOWN";

/** A connection to an rnn-explain server. */
export interface RnnExplainClient extends Disposable {
  /** ModelService.ListModels. */
  listModels(
    request?: PartialMessage<ListModelsRequest>,
    options?: CallOptions,
  ): Promise<ListModelsResponse>;
  /** ModelService.GetModel. */
  getModel(
    request: PartialMessage<GetModelRequest>,
    options?: CallOptions,
  ): Promise<GetModelResponse>;
  /** ModelService.DeleteModel. */
  deleteModel(
    request: PartialMessage<DeleteModelRequest>,
    options?: CallOptions,
  ): Promise<DeleteModelResponse>;
  /** ModelService.ExportModel: the archive header, then chunks. */
  exportModel(
    request: PartialMessage<ExportModelRequest>,
    options?: CallOptions,
  ): AsyncIterable<ExportModelResponse>;
  /** ModelService.ImportModel: send the header, then chunks. */
  importModel(
    requests:
      | AsyncIterable<PartialMessage<ImportModelRequest>>
      | Iterable<PartialMessage<ImportModelRequest>>,
    options?: CallOptions,
  ): Promise<ImportModelResponse>;
  /** TrainingService.StartTraining. */
  startTraining(
    request: PartialMessage<StartTrainingRequest>,
    options?: CallOptions,
  ): Promise<StartTrainingResponse>;
  /** TrainingService.WatchTraining: progress until the job ends. */
  watchTraining(
    request: PartialMessage<WatchTrainingRequest>,
    options?: CallOptions,
  ): AsyncIterable<WatchTrainingResponse>;
  /** TrainingService.CancelTraining. */
  cancelTraining(
    request: PartialMessage<CancelTrainingRequest>,
    options?: CallOptions,
  ): Promise<CancelTrainingResponse>;
  /** TrainingService.ListTrainingJobs. */
  listTrainingJobs(
    request?: PartialMessage<ListTrainingJobsRequest>,
    options?: CallOptions,
  ): Promise<ListTrainingJobsResponse>;
  /** TrainingService.GetTrainingJob. */
  getTrainingJob(
    request: PartialMessage<GetTrainingJobRequest>,
    options?: CallOptions,
  ): Promise<GetTrainingJobResponse>;
  /** TrainingService.ResumeTraining. */
  resumeTraining(
    request: PartialMessage<ResumeTrainingRequest>,
    options?: CallOptions,
  ): Promise<ResumeTrainingResponse>;
  /** InferenceService.Classify. */
  classify(
    request: PartialMessage<ClassifyRequest>,
    options?: CallOptions,
  ): Promise<ClassifyResponse>;
  /** InferenceService.ClassifyStream: a start message, then one timestep per message. */
  classifyStream(
    requests:
      | AsyncIterable<PartialMessage<ClassifyStreamRequest>>
      | Iterable<PartialMessage<ClassifyStreamRequest>>,
    options?: CallOptions,
  ): AsyncIterable<ClassifyStreamResponse>;
  /** ExplainService.ListExplainers. */
  listExplainers(
    request?: PartialMessage<ListExplainersRequest>,
    options?: CallOptions,
  ): Promise<ListExplainersResponse>;
  /** ExplainService.Explain: one message per timestep, then the summary. */
  explain(
    request: PartialMessage<ExplainRequest>,
    options?: CallOptions,
  ): AsyncIterable<ExplainResponse>;
  /** ExplainService.ExplainBatch. */
  explainBatch(
    request: PartialMessage<ExplainBatchRequest>,
    options?: CallOptions,
  ): Promise<ExplainBatchResponse>;
  /** EvaluationService.Evaluate: progress, then one report per explainer. */
  evaluate(
    request: PartialMessage<EvaluateRequest>,
    options?: CallOptions,
  ): AsyncIterable<EvaluateResponse>;
  /**
   * The standard health check (`grpc.health.v1.Health/Check`).
   * @param service a full service name; `""` asks about the server as a whole
   */
  checkHealth(service?: string, options?: CallOptions): Promise<HealthStatus>;
  /** Resolves once the channel is connected; rejects with UNAVAILABLE after `timeoutMs`. */
  waitForReady(timeoutMs?: number): Promise<void>;
  /** Closes the channel; calls in flight are cancelled. */
  close(): void;
}

/**
 * Channel options every client starts from. The HTTP/2 flow-control window
 * is 8 MiB instead of 64 KiB, so a large response (ExplainBatch relevance,
 * ~470 KB at batch 50) streams without waiting for window updates: a warm
 * 470 KB server-to-client transfer took 3.2–6.3 ms instead of 4.2–9.1 ms in
 * five alternating runs on a loaded 2-core machine.
 */
export const DEFAULT_CHANNEL_OPTIONS: Readonly<ChannelOptions> = Object.freeze({
  "grpc-node.flow_control_window": 8 * 1024 * 1024,
});

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|::1)(:\d+)?$/;

/** Codecs with `fromPartial` and `encode`, as ts-proto generates them. */
interface PartialCodec<T> extends MessageEncoder<T> {
  fromPartial(object: PartialMessage<T>): T;
}

/** Requests of a streaming call, as the caller may give them. */
type RequestSource<T> =
  | AsyncIterable<PartialMessage<T>>
  | Iterable<PartialMessage<T>>;

/**
 * Connects to an rnn-explain server. The connection is made lazily, on the
 * first call (or by `waitForReady`).
 *
 * @param address `host:port`, for example `127.0.0.1:50051`
 * @param options TLS, bearer token, default deadline, channel options
 * @returns the client; `close()` it (or `using`) when done
 * @throws {TypeError} for a token over plaintext to a non-loopback address
 *
 * @example
 * ```ts
 * using client = createRnnExplainClient("127.0.0.1:50051");
 * console.log(await client.checkHealth()); // "SERVING"
 * for await (const message of client.explain({ modelId: "m1", input, explainer })) {
 *   if (message.event?.$case === "step") console.log(message.event.step.timestep);
 * }
 * ```
 */
export function createRnnExplainClient(
  address: string,
  options: ClientOptions = {},
): RnnExplainClient {
  const c = new Caller(address, options);
  const model = ModelServiceService;
  const training = TrainingServiceService;
  const inference = InferenceServiceService;
  const explain = ExplainServiceService;
  const evaluation = EvaluationServiceService;
  return {
    listModels: c.unary(model.listModels, ListModelsRequest, "read-only"),
    getModel: c.unary(model.getModel, GetModelRequest, "read-only"),
    deleteModel: c.unary(model.deleteModel, DeleteModelRequest),
    exportModel: c.serverStream(
      model.exportModel,
      ExportModelRequest,
      "read-only",
    ),
    importModel: c.clientStream(model.importModel, ImportModelRequest),
    startTraining: c.unary(training.startTraining, StartTrainingRequest),
    watchTraining: c.serverStream(
      training.watchTraining,
      WatchTrainingRequest,
      "read-only",
    ),
    cancelTraining: c.unary(training.cancelTraining, CancelTrainingRequest),
    listTrainingJobs: c.unary(
      training.listTrainingJobs,
      ListTrainingJobsRequest,
      "read-only",
    ),
    getTrainingJob: c.unary(
      training.getTrainingJob,
      GetTrainingJobRequest,
      "read-only",
    ),
    resumeTraining: c.unary(training.resumeTraining, ResumeTrainingRequest),
    classify: c.unary(inference.classify, ClassifyRequest, "read-only"),
    classifyStream: c.bidiStream(
      inference.classifyStream,
      ClassifyStreamRequest,
    ),
    listExplainers: c.unary(
      explain.listExplainers,
      ListExplainersRequest,
      "read-only",
    ),
    explain: c.serverStream(explain.explain, ExplainRequest, "read-only"),
    explainBatch: c.unary(
      explain.explainBatch,
      ExplainBatchRequest,
      "read-only",
    ),
    evaluate: c.serverStream(evaluation.evaluate, EvaluateRequest, "read-only"),
    checkHealth: (service, call) => c.checkHealth(service, call),
    waitForReady: (timeoutMs) => c.waitForReady(timeoutMs),
    close: () => c.close(),
    [Symbol.dispose]: () => c.close(),
  };
}

/**
 * Whether a method may be repeated after UNAVAILABLE: `read-only` methods
 * change nothing on the server; `once` methods (training, delete, import,
 * ClassifyStream) are never repeated.
 */
type Repeat = "read-only" | "once";

/** One channel and the settings every call shares; makes the four call shapes. */
class Caller {
  readonly #address: string;
  readonly #options: ClientOptions;
  readonly #client: Client;
  readonly #defaultTimeoutMs: number;
  readonly #retries: number;

  constructor(address: string, options: ClientOptions) {
    this.#address = address;
    this.#options = options;
    // Deno 2.9.6 aborts when a session closes inside nghttp2's GOAWAY
    // callback, as it does when a server shuts down (denoland/deno#36788).
    deferGoawayCloseOnConnect();
    this.#client = new Client(
      address,
      channelCredentials(address, options),
      { ...DEFAULT_CHANNEL_OPTIONS, ...options.channelOptions },
    );
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? 30_000;
    this.#retries = options.retries ?? 2;
    if (!Number.isInteger(this.#retries) || this.#retries < 0) {
      throw new TypeError(
        `Cannot create the client: "retries" must be a non-negative integer, found ${options.retries}`,
      );
    }
  }

  unary<Req, Res>(
    generated: MethodDefinition<Req, Res>,
    codec: PartialCodec<Req>,
    repeat: Repeat = "once",
  ) {
    const method = withSerializer(generated, codec);
    return (request?: PartialMessage<Req>, call?: CallOptions): Promise<Res> =>
      unaryCall(
        this.#client,
        method,
        codec.fromPartial(request ?? ({} as PartialMessage<Req>)),
        this.#settings(call, true, repeat),
      );
  }

  serverStream<Req, Res>(
    generated: MethodDefinition<Req, Res>,
    codec: PartialCodec<Req>,
    repeat: Repeat = "once",
  ) {
    const method = withSerializer(generated, codec);
    return (request: PartialMessage<Req>, call?: CallOptions) =>
      serverStreamCall(
        this.#client,
        method,
        codec.fromPartial(request),
        this.#settings(call, false, repeat),
      );
  }

  clientStream<Req, Res>(
    generated: MethodDefinition<Req, Res>,
    codec: PartialCodec<Req>,
  ) {
    const method = withSerializer(generated, codec);
    return (requests: RequestSource<Req>, call?: CallOptions) =>
      clientStreamCall(
        this.#client,
        method,
        fromPartials(requests, codec),
        this.#settings(call, true),
      );
  }

  bidiStream<Req, Res>(
    generated: MethodDefinition<Req, Res>,
    codec: PartialCodec<Req>,
  ) {
    const method = withSerializer(generated, codec);
    return (requests: RequestSource<Req>, call?: CallOptions) =>
      bidiStreamCall(
        this.#client,
        method,
        fromPartials(requests, codec),
        this.#settings(call, false),
      );
  }

  async checkHealth(service = "", call?: CallOptions): Promise<HealthStatus> {
    const check = healthService.Check as unknown as MethodDefinition<
      { service: string },
      { status: HealthStatus }
    >;
    const response = await unaryCall(
      this.#client,
      check,
      { service },
      this.#settings(call, true, "read-only"),
    );
    return response.status;
  }

  waitForReady(timeoutMs = this.#defaultTimeoutMs): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#client.waitForReady(Date.now() + timeoutMs, (error) => {
        if (error === undefined) return resolve();
        reject(
          new RpcError(
            Status.UNAVAILABLE,
            `Cannot connect to "${this.#address}": ${error.message}`,
            { cause: error },
          ),
        );
      })
    );
  }

  close(): void {
    this.#client.close();
  }

  /** Metadata (token first, then the call's), deadline and signal of one call. */
  #settings(
    call: CallOptions = {},
    unaryResponse: boolean,
    repeat: Repeat = "once",
  ): CallSettings {
    const metadata = new Metadata();
    if (this.#options.token !== undefined) {
      metadata.set("authorization", `Bearer ${this.#options.token}`);
    }
    for (const [key, value] of Object.entries(call.metadata ?? {})) {
      metadata.set(key, value);
    }
    const timeoutMs = call.timeoutMs ??
      (unaryResponse ? this.#defaultTimeoutMs : undefined);
    return {
      metadata,
      deadline: timeoutMs === undefined
        ? undefined
        : new Date(Date.now() + timeoutMs),
      signal: call.signal,
      retries: repeat === "read-only" ? this.#retries : 0,
    };
  }
}

/** Plaintext, TLS with the system's roots, or TLS with the given material. */
function channelCredentials(
  address: string,
  options: ClientOptions,
): ChannelCredentials {
  const tls = options.tls ?? false;
  if (options.token !== undefined && tls === false && !LOOPBACK.test(address)) {
    throw new TypeError(
      `Cannot send a bearer token over plaintext to "${address}": enable tls`,
    );
  }
  if (tls === false) return credentials.createInsecure();
  if (tls === true) return credentials.createSsl();
  return credentials.createSsl(
    toBuffer(tls.rootCerts),
    toBuffer(tls.privateKey),
    toBuffer(tls.certChain),
  );
}

/** The method with its requests serialized through the reused writer. */
function withSerializer<Req, Res>(
  method: MethodDefinition<Req, Res>,
  codec: MessageEncoder<Req>,
): MethodDefinition<Req, Res> {
  return { ...method, requestSerialize: createSerializer(codec) };
}

async function* fromPartials<Req>(
  requests: RequestSource<Req>,
  codec: PartialCodec<Req>,
): AsyncGenerator<Req> {
  for await (const request of requests) yield codec.fromPartial(request);
}

function toBuffer(bytes: Uint8Array | undefined): Buffer | null {
  return bytes === undefined ? null : Buffer.from(bytes);
}
