/**
 * `models list|show|delete|export|import`: stored models and moving their
 * checkpoints between servers as archive files.
 *
 * An archive file is `RNNXARC1`, the length of the encoded
 * ModelArchiveHeader as a big-endian uint32, the header, then the chunk
 * bytes back to back, exactly as ExportModel streams them.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  Architecture,
  Dataset,
  type ModelArchiveHeader,
  ModelArchiveHeader as HeaderCodec,
  type ModelInfo,
  ModelInfo as ModelInfoCodec,
  type PartialMessage,
  Problem,
} from "../mod.ts";
import {
  type Command,
  enumKey,
  enumKeys,
  enumValue,
  EXIT,
  formatTable,
} from "./_context.ts";

const MAGIC = new TextEncoder().encode("RNNXARC1");
const CHUNK_BYTES = 64 * 1024;

/** An archive file that cannot be read back. */
export class ArchiveFileError extends Error {
  /** @param message what is wrong, std style */
  constructor(message: string) {
    super(message);
    this.name = "ArchiveFileError";
  }
}

/**
 * Packs a header and the chunk bytes into an archive file's bytes.
 *
 * @returns the file's bytes
 */
export function packArchive(
  header: ModelArchiveHeader,
  data: Uint8Array,
): Uint8Array {
  const encoded = HeaderCodec.encode(header).finish();
  const out = new Uint8Array(MAGIC.length + 4 + encoded.length + data.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, encoded.length);
  out.set(encoded, MAGIC.length + 4);
  out.set(data, MAGIC.length + 4 + encoded.length);
  return out;
}

/**
 * Splits an archive file into its header and chunk bytes, checking the
 * total size and SHA-256 the header announces.
 *
 * @param bytes the file's bytes
 * @param name the file name, for messages
 * @returns the header and the data
 * @throws {ArchiveFileError} for a wrong magic, a truncated file, or a size or hash mismatch
 */
export function unpackArchive(
  bytes: Uint8Array,
  name: string,
): { header: ModelArchiveHeader; data: Uint8Array } {
  const fail = (why: string) =>
    new ArchiveFileError(`Cannot read archive "${name}": ${why}`);
  if (
    bytes.length < MAGIC.length + 4 ||
    !MAGIC.every((b, i) => bytes[i] === b)
  ) {
    throw fail("not a model archive (no RNNXARC1 signature)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const headerLength = view.getUint32(MAGIC.length);
  const start = MAGIC.length + 4 + headerLength;
  if (start > bytes.length) throw fail("the header is truncated");
  let header: ModelArchiveHeader;
  try {
    header = HeaderCodec.decode(bytes.subarray(MAGIC.length + 4, start));
  } catch (error) {
    throw fail(`the header is malformed: ${(error as Error).message}`);
  }
  const data = bytes.subarray(start);
  if (data.length !== header.totalSizeBytes) {
    throw fail(
      `the header announces ${header.totalSizeBytes} bytes, found ${data.length}`,
    );
  }
  const sha = sha256(data);
  if (sha !== header.sha256) {
    throw fail(`SHA-256 mismatch: header ${header.sha256}, data ${sha}`);
  }
  return { header, data };
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** One line per model. */
function modelRow(m: ModelInfo): string[] {
  const data = m.training?.data;
  return [
    m.id,
    m.displayName || "-",
    enumKey(Architecture, m.spec?.architecture ?? 0, "ARCHITECTURE_"),
    String(m.spec?.steps ?? "-"),
    data
      ? `${enumKey(Dataset, data.dataset, "DATASET_")}/${
        enumKey(Problem, data.problem, "PROBLEM_")
      }`
      : "-",
    m.metrics ? `${(m.metrics.heldoutAccuracy * 100).toFixed(1)}%` : "-",
    m.createTime,
  ];
}

const list: Command = {
  spec: {
    words: ["models", "list"],
    summary: "List stored models, newest first",
    positionals: [],
    flags: {
      architecture: {
        type: "string",
        choices: enumKeys(Architecture, "ARCHITECTURE_"),
        help: "only models of this architecture",
      },
      dataset: {
        type: "string",
        choices: enumKeys(Dataset, "DATASET_"),
        help: "only models trained on this dataset",
      },
    },
  },
  async run(ctx) {
    const models: ModelInfo[] = [];
    let pageToken = "";
    const request: PartialMessage<Parameters<typeof ctx.client.listModels>[0]> =
      {};
    const architecture = ctx.string("architecture");
    const dataset = ctx.string("dataset");
    if (architecture !== undefined) {
      request.architecture = enumValue(
        Architecture,
        architecture,
        "ARCHITECTURE_",
      );
    }
    if (dataset !== undefined) {
      request.dataset = enumValue(Dataset, dataset, "DATASET_");
    }
    do {
      const page = await ctx.client.listModels(
        { ...request, pageSize: 1000, pageToken },
        ctx.call(),
      );
      models.push(...page.models);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    if (ctx.json) {
      ctx.printJson({ models: models.map((m) => ModelInfoCodec.toJSON(m)) });
      return EXIT.ok;
    }
    if (models.length === 0) {
      ctx.print("No models");
      return EXIT.ok;
    }
    const header = ["ID", "NAME", "ARCH", "T", "DATA", "HELD-OUT", "CREATED"];
    for (const line of formatTable(header, models.map(modelRow))) {
      ctx.print(line);
    }
    return EXIT.ok;
  },
};

const show: Command = {
  spec: {
    words: ["models", "show"],
    summary: "Show one model: spec, training, metrics, checkpoint",
    positionals: [{ name: "model", help: "the model's id" }],
    flags: {},
  },
  async run(ctx) {
    const { model } = await ctx.client.getModel(
      { modelId: ctx.positionals[0] },
      ctx.call(),
    );
    ctx.printJson(model === undefined ? {} : ModelInfoCodec.toJSON(model));
    return EXIT.ok;
  },
};

const remove: Command = {
  spec: {
    words: ["models", "delete"],
    summary: "Delete a model and its checkpoint",
    positionals: [{ name: "model", help: "the model's id" }],
    flags: {},
  },
  async run(ctx) {
    const modelId = ctx.positionals[0]!;
    await ctx.client.deleteModel({ modelId }, ctx.call());
    if (ctx.json) ctx.printJson({ deleted: modelId });
    else ctx.print(`Deleted model "${modelId}"`);
    return EXIT.ok;
  },
};

const exportModel: Command = {
  spec: {
    words: ["models", "export"],
    summary: "Download a model's checkpoint into an archive file",
    positionals: [
      { name: "model", help: "the model's id" },
      { name: "file", help: "the archive file to write" },
    ],
    flags: {},
  },
  async run(ctx) {
    const [modelId, file] = ctx.positionals as [string, string];
    let header: ModelArchiveHeader | undefined;
    const chunks: Uint8Array[] = [];
    for await (
      const message of ctx.client.exportModel(
        { modelId },
        ctx.call(ctx.interrupt),
      )
    ) {
      if (message.part?.$case === "header") header = message.part.header;
      else if (message.part?.$case === "chunk") chunks.push(message.part.chunk);
    }
    if (header === undefined) {
      throw new ArchiveFileError(
        `Cannot export model "${modelId}": the server sent no header`,
      );
    }
    const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      data.set(c, at);
      at += c.length;
    }
    // Verify before writing, so a broken transfer never leaves a file that
    // looks like an archive.
    const bytes = packArchive(header, data);
    unpackArchive(bytes, file);
    await Deno.writeFile(file, bytes);
    if (ctx.json) {
      ctx.printJson({
        modelId,
        file,
        sizeBytes: data.length,
        sha256: header.sha256,
      });
    } else {
      ctx.print(
        `Exported model "${modelId}" to ${file} (${data.length} bytes, sha256 ${header.sha256})`,
      );
    }
    return EXIT.ok;
  },
};

const importModel: Command = {
  spec: {
    words: ["models", "import"],
    summary: "Upload an archive file written by `models export`",
    positionals: [{ name: "file", help: "the archive file" }],
    flags: {},
  },
  async run(ctx) {
    const file = ctx.positionals[0]!;
    const { header, data } = unpackArchive(await Deno.readFile(file), file);
    function* messages() {
      yield { part: { $case: "header" as const, header } };
      for (let at = 0; at < data.length; at += CHUNK_BYTES) {
        yield {
          part: {
            $case: "chunk" as const,
            chunk: Buffer.from(
              data.buffer,
              data.byteOffset + at,
              Math.min(CHUNK_BYTES, data.length - at),
            ),
          },
        };
      }
    }
    const response = await ctx.client.importModel(
      messages(),
      ctx.call(ctx.interrupt),
    );
    const id = response.model?.id ?? header.model?.id ?? "";
    if (ctx.json) {
      ctx.printJson({
        model: response.model ? ModelInfoCodec.toJSON(response.model) : null,
        created: response.created,
      });
    } else {
      ctx.print(
        response.created
          ? `Imported model "${id}"`
          : `Model "${id}" was already stored with the same checkpoint`,
      );
    }
    return EXIT.ok;
  },
};

/** The `models` commands. */
export const MODELS_COMMANDS: readonly Command[] = [
  list,
  show,
  remove,
  exportModel,
  importModel,
];
