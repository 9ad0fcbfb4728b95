/**
 * ModelService end to end: import, get, paged and filtered listing, export
 * from one server and import into another with identical hashes, delete,
 * and each failure path with its exact status.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  Architecture,
  type ExportModelResponse,
  Status,
} from "../../client/mod.ts";
import { tensorMemory } from "../../models/mod.ts";
import {
  assertStatus,
  buildModelFiles,
  collect,
  importModel,
  startTestServer,
} from "../_helpers.ts";

function payloadOf(messages: ExportModelResponse[]): Uint8Array {
  const chunks = messages.slice(1).map((m) => {
    assert.equal(m.part?.$case, "chunk");
    return m.part.$case === "chunk" ? m.part.chunk : new Uint8Array();
  });
  return Buffer.concat(chunks);
}

Deno.test("ModelService exports a model from one server and imports it into another with identical hashes", async () => {
  const tensors = tensorMemory().numTensors;
  await using a = await startTestServer();
  await using b = await startTestServer();
  using source = a.connect();
  using target = b.connect();
  const files = await buildModelFiles("m-export");
  const imported = await source.importModel(files.messages);
  assert.equal(imported.created, true);
  assert.equal(imported.model?.weightsSha256, files.weightsSha256);

  const messages = await collect(
    source.exportModel({ modelId: "m-export", chunkSize: 1024 }),
  );
  const header = messages[0]?.part;
  assert.equal(header?.$case, "header");
  if (header?.$case !== "header") return;
  assert.equal(header.header.sha256, files.payloadSha256);
  assert.equal(header.header.model?.id, "m-export");
  const payload = payloadOf(messages);
  assert.equal(payload.length, header.header.totalSizeBytes);
  assert.ok(messages.length > 2, "expected several 1 KiB chunks");

  const copied = await target.importModel(
    messages.map((m) => ({ part: m.part })),
  );
  assert.equal(copied.created, true);
  assert.equal(copied.model?.weightsSha256, files.weightsSha256);
  const again = await target.importModel(
    messages.map((m) => ({ part: m.part })),
  );
  assert.equal(again.created, false, "the same bytes twice are idempotent");
  const reexported = await collect(target.exportModel({ modelId: "m-export" }));
  const h2 = reexported[0]?.part;
  assert.ok(h2?.$case === "header");
  assert.equal(h2.header.sha256, header.header.sha256);
  assert.deepEqual(payloadOf(reexported), payload);
  assert.equal(tensorMemory().numTensors, tensors);
});

Deno.test("ModelService lists, filters, pages, gets and deletes models", async () => {
  await using t = await startTestServer();
  using client = t.connect();
  await importModel(client, "m1");
  await importModel(client, "m2", {
    architecture: "shallow",
    steps: 4,
    columns: 7,
    layers: { hidden: 8, recur: 8 },
  }, { problem: "sequence" });
  await importModel(client, "m3", undefined, { seed: 3 });

  const all = await client.listModels({});
  assert.deepEqual(all.models.map((m) => m.id).sort(), ["m1", "m2", "m3"]);
  assert.equal(all.nextPageToken, "");

  const seen: string[] = [];
  let token = "";
  do {
    const page = await client.listModels({ pageSize: 1, pageToken: token });
    assert.ok(page.models.length <= 1);
    seen.push(...page.models.map((m) => m.id));
    token = page.nextPageToken;
  } while (token !== "");
  assert.deepEqual(seen.sort(), ["m1", "m2", "m3"]);

  const lstms: string[] = [];
  token = "";
  do {
    const page = await client.listModels({
      pageSize: 1,
      pageToken: token,
      architecture: Architecture.ARCHITECTURE_R_LSTM,
    });
    lstms.push(...page.models.map((m) => m.id));
    token = page.nextPageToken;
  } while (token !== "");
  assert.deepEqual(lstms.sort(), ["m1", "m3"]);

  const { model } = await client.getModel({ modelId: "m2" });
  assert.equal(model?.spec?.architecture, Architecture.ARCHITECTURE_SHALLOW);
  assert.equal(model?.spec?.steps, 4);
  assert.equal(model?.spec?.rows, 28, "defaults are filled in");
  assert.ok((model?.parameterCount ?? 0) > 0);

  await client.deleteModel({ modelId: "m2" });
  await assertStatus(client.getModel({ modelId: "m2" }), Status.NOT_FOUND);
  const after = await client.listModels({});
  assert.deepEqual(after.models.map((m) => m.id).sort(), ["m1", "m3"]);
});

Deno.test("ModelService answers each failure with its exact status", async (t) => {
  await using server = await startTestServer();
  using client = server.connect();
  const files = await buildModelFiles("m-bad");
  const [header, chunk] = files.messages;
  await t.step("unknown ids are NOT_FOUND", async () => {
    await assertStatus(client.getModel({ modelId: "nope" }), Status.NOT_FOUND);
    await assertStatus(
      client.deleteModel({ modelId: "nope" }),
      Status.NOT_FOUND,
    );
    await assertStatus(
      () => collect(client.exportModel({ modelId: "nope" })),
      Status.NOT_FOUND,
    );
  });
  await t.step(
    "an empty id and a bad page token are INVALID_ARGUMENT",
    async () => {
      await assertStatus(
        client.getModel({ modelId: "" }),
        Status.INVALID_ARGUMENT,
      );
      await assertStatus(
        client.listModels({ pageToken: "garbage" }),
        Status.INVALID_ARGUMENT,
      );
      await assertStatus(
        () => collect(client.exportModel({ modelId: "x", chunkSize: 10 })),
        Status.INVALID_ARGUMENT,
        /chunk_size/,
      );
    },
  );
  await t.step(
    "a chunk before the header or a second header is INVALID_ARGUMENT",
    async () => {
      await assertStatus(
        client.importModel([chunk!, header!]),
        Status.INVALID_ARGUMENT,
        /header must come first/,
      );
      await assertStatus(
        client.importModel([header!, header!, chunk!]),
        Status.INVALID_ARGUMENT,
        /already sent/,
      );
      await assertStatus(client.importModel([]), Status.INVALID_ARGUMENT);
    },
  );
  await t.step("a corrupted or truncated payload is DATA_LOSS", async () => {
    const bytes = chunk!.part?.$case === "chunk"
      ? Buffer.from(chunk!.part.chunk!)
      : Buffer.alloc(0);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1] ^= 0xff;
    await assertStatus(
      client.importModel([header!, {
        part: { $case: "chunk", chunk: flipped },
      }]),
      Status.DATA_LOSS,
    );
    await assertStatus(
      client.importModel([header!, {
        part: { $case: "chunk", chunk: bytes.subarray(0, 100) },
      }]),
      Status.DATA_LOSS,
    );
    await assertStatus(client.getModel({ modelId: "m-bad" }), Status.NOT_FOUND);
  });
  await t.step(
    "a different model under an existing id is ALREADY_EXISTS",
    async () => {
      await client.importModel(files.messages);
      const other = await buildModelFiles("m-bad", undefined, { seed: 9 });
      await assertStatus(
        client.importModel(other.messages),
        Status.ALREADY_EXISTS,
      );
    },
  );
});
