import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import {
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import type { PackageDefinition } from "@grpc/proto-loader";
import { loadReflectionDescriptors, repairMapEntries } from "./reflection.ts";

function files(definition: PackageDefinition): FileDescriptorProto[] {
  const byName = new Map<string, FileDescriptorProto>();
  for (const value of Object.values(definition)) {
    const protos = (value as { fileDescriptorProtos?: Uint8Array[] })
      .fileDescriptorProtos ?? [];
    for (const bytes of protos) {
      const file = fromBinary(FileDescriptorProtoSchema, bytes);
      byName.set(file.name, file);
    }
  }
  return [...byName.values()];
}

Deno.test("loadReflectionDescriptors() serves the API package and health with protoc-style map entries", () => {
  const loaded = files(loadReflectionDescriptors());
  const health = loaded.find((f) => f.package === "grpc.health.v1");
  const list = health?.messageType.find((m) => m.name === "HealthListResponse");
  assert.ok(list, "HealthListResponse is not served");
  assert.deepEqual(list.nestedType.map((m) => m.name), ["StatusesEntry"]);
  assert.equal(list.nestedType[0]!.options?.mapEntry, true);
  assert.equal(list.field[0]!.typeName, "StatusesEntry");

  const api = loaded.find((f) => f.package === "rnnexplain.v1");
  assert.deepEqual(
    api?.service.map((s) => s.name).sort(),
    [
      "EvaluationService",
      "ExplainService",
      "InferenceService",
      "ModelService",
      "TrainingService",
    ],
  );
  const getModel = api?.messageType.find((m) => m.name === "GetModelRequest");
  assert.deepEqual(getModel?.field.map((f) => f.name), ["model_id"]);
});

Deno.test("repairMapEntries() is idempotent: repaired descriptors come back byte-identical", () => {
  const original = loadReflectionDescriptors();
  const again = repairMapEntries(original);
  for (const [name, value] of Object.entries(original)) {
    const before = (value as { fileDescriptorProtos?: Uint8Array[] })
      .fileDescriptorProtos;
    const after = (again[name] as { fileDescriptorProtos?: Uint8Array[] })
      .fileDescriptorProtos;
    assert.deepEqual(after, before, name);
  }
});
