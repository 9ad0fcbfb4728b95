/**
 * rnnexplain.v1.ModelService: stored models — list (paged, filtered), get,
 * delete, and moving checkpoints between servers (ExportModel streams the
 * archive header and then the payload in chunks; ImportModel receives the
 * same framing, verifies every hash and stores the model).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  ModelServiceService,
} from "../../proto/gen/rnnexplain/v1/model_service.ts";
import type {
  ExportModelResponse,
  ImportModelRequest,
  ListModelsRequest,
  ListModelsResponse,
  ModelArchiveHeader as WireHeader,
} from "../../proto/gen/rnnexplain/v1/model_service.ts";
import {
  ARCHITECTURE,
  DATASET,
  decodeOptionalEnum,
  encodeModelInfo,
} from "../codec/mod.ts";
import type { CallContext } from "../call_context.ts";
import {
  Code,
  DataLossError,
  ResourceExhaustedError,
  RpcError,
} from "../errors.ts";
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  type ModelArchiveHeader,
  type ModelRecord,
} from "../storage/mod.ts";
import type { ServiceHandlers } from "./_adapt.ts";
import { type ServiceDeps, trainingJobOf } from "./_deps.ts";
import { removePrefixModels } from "./_prefix_models.ts";

/** Handlers of rnnexplain.v1.ModelService, keyed by the generated method names. */
export type ModelServiceHandlers = ServiceHandlers<typeof ModelServiceService>;

/** rnnexplain.v1.ModelService: its full name and generated definition. */
export const MODEL_SERVICE = {
  name: "rnnexplain.v1.ModelService",
  definition: ModelServiceService,
} as const;

/** Export chunk sizes: default and bounds (the proto's 1 KiB to 1 MiB). */
const CHUNK = { default: 64 * 1024, min: 1024, max: 1024 * 1024 } as const;

function invalid(field: string, reason: string): RpcError {
  return new RpcError(
    Code.INVALID_ARGUMENT,
    `Cannot read ${field}: ${reason}`,
    { field },
  );
}

/**
 * Lists models with the registry's pages. With a filter, registry pages are
 * read until the page is full; each is read whole, so the registry's token
 * stays the position and no match is skipped or repeated.
 */
function listModels(
  deps: ServiceDeps,
  request: ListModelsRequest,
): ListModelsResponse {
  const arch = decodeOptionalEnum(
    ARCHITECTURE,
    request.architecture,
    "architecture",
    undefined,
  );
  const dataset = decodeOptionalEnum(
    DATASET,
    request.dataset,
    "dataset",
    undefined,
  );
  if (request.pageSize > MAX_PAGE_SIZE) {
    throw invalid(
      "page_size",
      `must be at most ${MAX_PAGE_SIZE}: got ${request.pageSize}`,
    );
  }
  const size = request.pageSize === 0 ? DEFAULT_PAGE_SIZE : request.pageSize;
  const keep = (m: ModelRecord) =>
    (arch === undefined || m.spec.architecture === arch) &&
    (dataset === undefined || m.dataset === dataset);
  const models: ModelRecord[] = [];
  let token = request.pageToken;
  do {
    const page = deps.store.list({
      pageSize: size - models.length,
      pageToken: token,
    });
    models.push(...page.items.filter(keep));
    token = page.nextPageToken;
  } while (token !== "" && models.length < size);
  return {
    models: models.map((m) => encodeModelInfo(m, trainingJobOf(deps, m))),
    nextPageToken: token,
  };
}

async function* exportModel(
  deps: ServiceDeps,
  modelId: string,
  chunkSize: number | undefined,
  ctx: CallContext,
): AsyncGenerator<ExportModelResponse> {
  const size = chunkSize ?? CHUNK.default;
  if (size < CHUNK.min || size > CHUNK.max) {
    throw invalid(
      "chunk_size",
      `must be from ${CHUNK.min} to ${CHUNK.max} bytes: got ${size}`,
    );
  }
  const record = deps.store.get(modelId);
  const { header, payload } = await deps.store.exportArchive(modelId);
  ctx.log.info(
    { modelId, bytes: payload.length, chunkSize: size },
    "Exporting model",
  );
  yield {
    part: {
      $case: "header",
      header: {
        model: encodeModelInfo(record, trainingJobOf(deps, record)),
        files: header.files.map((f) => ({ ...f })),
        totalSizeBytes: header.totalSizeBytes,
        sha256: header.sha256,
      },
    },
  };
  for (let at = 0; at < payload.length; at += size) {
    const chunk = payload.subarray(at, Math.min(at + size, payload.length));
    yield {
      part: {
        $case: "chunk",
        chunk: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length),
      },
    };
  }
}

function archiveHeader(header: WireHeader): ModelArchiveHeader {
  const modelId = header.model?.id ?? "";
  if (modelId === "") {
    throw invalid("header.model.id", "a model id is required");
  }
  return {
    modelId,
    displayName: header.model?.displayName ?? "",
    files: header.files.map((f) => ({ ...f })),
    totalSizeBytes: header.totalSizeBytes,
    sha256: header.sha256,
  };
}

/** Reads an import stream: one header first, then chunks up to its total size. */
async function receiveArchive(
  requests: AsyncIterable<ImportModelRequest>,
  maxBytes: number,
): Promise<{ header: ModelArchiveHeader; payload: Uint8Array }> {
  let header: ModelArchiveHeader | undefined;
  let payload: Uint8Array | undefined;
  let received = 0;
  let index = 0;
  for await (const request of requests) {
    const part = request.part;
    const field = `requests[${index++}]`;
    if (part === undefined) {
      throw invalid(field, "a header or a chunk is required");
    }
    if (part.$case === "header") {
      if (header !== undefined) {
        throw invalid(`${field}.header`, "the header was already sent");
      }
      header = archiveHeader(part.header);
      if (header.totalSizeBytes > maxBytes) {
        throw new ResourceExhaustedError(
          `Cannot import model "${header.modelId}": ${header.totalSizeBytes} bytes exceed the limit of ${maxBytes}`,
        );
      }
      payload = new Uint8Array(header.totalSizeBytes);
      continue;
    }
    if (header === undefined || payload === undefined) {
      throw invalid(`${field}.chunk`, "the header must come first");
    }
    if (received + part.chunk.length > payload.length) {
      throw new DataLossError(
        `Cannot import model "${header.modelId}": the chunks exceed the header's ${payload.length} bytes`,
      );
    }
    payload.set(part.chunk, received);
    received += part.chunk.length;
  }
  if (header === undefined || payload === undefined) {
    throw invalid("requests", "the stream holds no header");
  }
  if (received !== payload.length) {
    throw new DataLossError(
      `Cannot import model "${header.modelId}": expected ${payload.length} bytes, received ${received}`,
    );
  }
  return { header, payload };
}

/**
 * The ModelService handlers over a store.
 *
 * @param deps the store, job manager, pool and limits
 * @returns every ModelService handler
 */
export function createModelService(deps: ServiceDeps): ModelServiceHandlers {
  return {
    listModels: (request) => Promise.resolve(listModels(deps, request)),
    getModel: (request) => {
      const record = deps.store.get(request.modelId);
      return Promise.resolve({
        model: encodeModelInfo(record, trainingJobOf(deps, record)),
      });
    },
    deleteModel: async (request, ctx) => {
      await deps.store.delete(request.modelId);
      deps.pool.evict(request.modelId);
      await removePrefixModels(deps, request.modelId);
      ctx.log.info({ modelId: request.modelId }, "Model deleted");
      return {};
    },
    exportModel: (request, ctx) =>
      exportModel(deps, request.modelId, request.chunkSize, ctx),
    importModel: async (requests, ctx) => {
      const archive = await receiveArchive(
        requests,
        deps.limits.maxImportBytes,
      );
      const { model, created } = await deps.store.importArchive(archive, {
        expectedSha256: archive.header.sha256,
      });
      ctx.log.info(
        { modelId: model.id, created, bytes: archive.payload.length },
        "Model imported",
      );
      return {
        model: encodeModelInfo(model, trainingJobOf(deps, model)),
        created,
      };
    },
  };
}
