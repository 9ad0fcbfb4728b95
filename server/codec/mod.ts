/**
 * The codec: the only place where proto messages and domain types meet
 * (STYLE.md §3.2, habit 6). Decoders validate once, at the edge, and throw
 * `RpcError`/typed errors with the offending field path; encoders build
 * complete messages (`Msg.fromPartial`) from domain results.
 *
 * @module
 */
export {
  ARCHITECTURE,
  DATASET,
  decodeEnum,
  decodeOptionalEnum,
  encodeEnum,
  type EnumTable,
  JOB_STATE,
  METHOD,
  NEGATIVE,
  PROBLEM,
  SPLIT_PART,
} from "./enums.ts";
export { type DecodedTensor, decodeTensor, encodeTensor } from "./tensor.ts";
export {
  createSerializer,
  encodeMessage,
  MAX_RETAINED_BYTES,
  type MessageEncoder,
} from "./serializer.ts";
export {
  decodeDataSource,
  decodeInput,
  decodeInputs,
  type DecodeInputsOptions,
  decodeSequence,
  DEFAULT_FOLDS,
  type InputGeometry,
} from "./inputs.ts";
export {
  type DecodedExplainer,
  decodeExplainer,
  decodeParams,
  decodeTarget,
  encodeExplainerInfo,
  encodeParams,
  encodeSummary,
  type SummaryContext,
} from "./explainer.ts";
export {
  decodeModelSpec,
  decodeTrainingConfig,
  encodeJob,
  encodeModelInfo,
  encodeModelSpec,
  encodeProgress,
  encodeTrainConfig,
  modelDataSource,
} from "./model.ts";
export {
  encodeClassification,
  encodeClassifications,
  encodeReport,
} from "./results.ts";
