/**
 * The rnn-explain client: a typed, promise- and async-iterable-based wrapper
 * over the generated grpc-js code, plus the generated message types and
 * enums of the v1 contract and helpers for wire tensors.
 *
 * @example
 * ```ts
 * import { createRnnExplainClient, Method } from "./client/mod.ts";
 *
 * using client = createRnnExplainClient("127.0.0.1:50051");
 * const { explainers } = await client.listExplainers();
 * console.log(explainers.map((e) => e.key), Method.METHOD_LRP_EPSILON);
 * ```
 *
 * @module
 */
export {
  type CallOptions,
  type ClientOptions,
  createRnnExplainClient,
  DEFAULT_CHANNEL_OPTIONS,
  type HealthStatus,
  type PartialMessage,
  type RnnExplainClient,
  type TlsOptions,
} from "./rnn_explain_client.ts";
export { RpcError, type RpcErrorOptions, Status } from "./rpc_error.ts";
export {
  type DecodedTensor,
  decodeTensor,
  encodeTensor,
  type EncodeTensorOptions,
} from "./tensor.ts";

export {
  assembleSteps,
  bwr,
  encodePng,
  type HeatmapOptions,
  renderHeatmap,
} from "./heatmap/mod.ts";

export * from "../proto/gen/rnnexplain/v1/types.ts";
export * from "../proto/gen/rnnexplain/v1/tensor.ts";
export * from "../proto/gen/rnnexplain/v1/explainer.ts";
export * from "../proto/gen/rnnexplain/v1/model_service.ts";
export * from "../proto/gen/rnnexplain/v1/training_service.ts";
export * from "../proto/gen/rnnexplain/v1/inference_service.ts";
export * from "../proto/gen/rnnexplain/v1/explain_service.ts";
export * from "../proto/gen/rnnexplain/v1/evaluation_service.ts";
