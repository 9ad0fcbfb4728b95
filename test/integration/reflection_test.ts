/**
 * Server reflection, queried the way generic tools (grpcurl, Postman, evans)
 * do: a grpc-js client built from the reflection proto alone, decoding the
 * returned descriptors with an independent protobuf library.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  type Client,
  type ClientDuplexStream,
  credentials,
  loadPackageDefinition,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { fromBinary } from "@bufbuild/protobuf";
import {
  type DescriptorProto,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import { HEALTH_SERVICE_NAME, SERVICE_NAMES } from "../../server/main.ts";
import { ModelServiceService } from "../../proto/gen/rnnexplain/v1/model_service.ts";
import { TrainingServiceService } from "../../proto/gen/rnnexplain/v1/training_service.ts";
import { InferenceServiceService } from "../../proto/gen/rnnexplain/v1/inference_service.ts";
import { ExplainServiceService } from "../../proto/gen/rnnexplain/v1/explain_service.ts";
import { EvaluationServiceService } from "../../proto/gen/rnnexplain/v1/evaluation_service.ts";
import { startTestServer } from "../_helpers.ts";

/** The generated definitions: what reflection must describe, method by method. */
const GENERATED = [
  ModelServiceService,
  TrainingServiceService,
  InferenceServiceService,
  ExplainServiceService,
  EvaluationServiceService,
];

interface ReflectionResponse {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Uint8Array[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

type ReflectionStream = ClientDuplexStream<unknown, ReflectionResponse>;

function reflectionClient(address: string): Client & {
  serverReflectionInfo(): ReflectionStream;
} {
  // The reflection package ships its proto next to its build output.
  const proto = new URL(
    "../proto/grpc/reflection/v1/reflection.proto",
    import.meta.resolve("@grpc/reflection"),
  );
  const definition = loadSync(fileURLToPath(proto));
  // deno-lint-ignore no-explicit-any
  const pkg = loadPackageDefinition(definition) as any;
  return new pkg.grpc.reflection.v1.ServerReflection(
    address,
    credentials.createInsecure(),
  );
}

/** Sends one reflection request on the stream and reads its answer. */
function ask(
  stream: ReflectionStream,
  request: Record<string, unknown>,
): Promise<ReflectionResponse> {
  return new Promise((resolve, reject) => {
    const onData = (response: ReflectionResponse) => {
      stream.removeListener("error", reject);
      resolve(response);
    };
    stream.once("data", onData);
    stream.once("error", reject);
    stream.write(request);
  });
}

function decode(response: ReflectionResponse): FileDescriptorProto[] {
  assert.equal(response.errorResponse, undefined);
  const protos = response.fileDescriptorResponse?.fileDescriptorProto ?? [];
  return protos.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
}

Deno.test("ServerReflection lists the five API services and health", async () => {
  await using t = await startTestServer();
  const client = reflectionClient(t.address);
  const stream = client.serverReflectionInfo();
  try {
    const response = await ask(stream, { listServices: "" });
    const names = response.listServicesResponse?.service.map((s) => s.name);
    assert.ok(names !== undefined);
    for (const name of [...SERVICE_NAMES, HEALTH_SERVICE_NAME]) {
      assert.ok(names.includes(name), `${name} is not listed: ${names}`);
    }
  } finally {
    stream.end();
    client.close();
  }
});

Deno.test("ServerReflection describes every method of every service, each type resolvable through the file's own imports", async () => {
  await using t = await startTestServer();
  const client = reflectionClient(t.address);
  const stream = client.serverReflectionInfo();
  try {
    for (const [i, serviceName] of SERVICE_NAMES.entries()) {
      const files = decode(
        await ask(stream, { fileContainingSymbol: serviceName }),
      );
      const found = files
        .flatMap((f) => f.service.map((s) => ({ file: f, service: s })))
        .find((s) => `${s.file.package}.${s.service.name}` === serviceName);
      assert.ok(found, `no descriptor of ${serviceName}`);
      const described = found.service.method.map((m) => ({
        path: `/${serviceName}/${m.name}`,
        requestStream: m.clientStreaming === true,
        responseStream: m.serverStreaming === true,
      }));
      const generated = Object.values(GENERATED[i]!).map((m) => ({
        path: m.path,
        requestStream: m.requestStream,
        responseStream: m.responseStream,
      }));
      assert.deepEqual(described, generated);

      // A generic tool links a file against the files it imports, fetched by
      // name: every referenced type must be defined there, or the tool fails
      // with "cannot resolve type" (as grpcurl does for google.protobuf types
      // served by proto-loader based reflection).
      const visible = [found.file];
      for (const name of found.file.dependency) {
        visible.push(
          ...decode(await ask(stream, { fileByFilename: name })).filter((f) =>
            f.name === name
          ),
        );
      }
      const defined = new Set(visible.flatMap(definedTypes));
      const referenced = referencedTypes(found.file);
      assert.ok(referenced.length > 0);
      for (const ref of referenced) {
        assert.ok(resolves(ref, defined), `${ref.name} is not resolvable`);
      }
    }
  } finally {
    stream.end();
    client.close();
  }
});

/** Fully qualified names (".pkg.Type") of the messages and enums a file defines. */
function definedTypes(file: FileDescriptorProto): string[] {
  const names: string[] = [];
  const visit = (scope: string, message: DescriptorProto) => {
    const name = `${scope}.${message.name}`;
    names.push(name, ...message.enumType.map((e) => `${name}.${e.name}`));
    for (const nested of message.nestedType) visit(name, nested);
  };
  const scope = file.package === "" ? "" : `.${file.package}`;
  names.push(...file.enumType.map((e) => `${scope}.${e.name}`));
  for (const message of file.messageType) visit(scope, message);
  return names;
}

/**
 * The type references of a file's fields and methods, each with the scope a
 * relative name is resolved from (proto-loader writes relative names).
 */
function referencedTypes(
  file: FileDescriptorProto,
): { name: string; scope: string }[] {
  const pkg = file.package === "" ? "" : `.${file.package}`;
  const refs = file.service.flatMap((s) =>
    s.method.flatMap((m) => [
      { name: m.inputType, scope: pkg },
      { name: m.outputType, scope: pkg },
    ])
  );
  const visit = (scope: string, message: DescriptorProto) => {
    const name = `${scope}.${message.name}`;
    for (const field of message.field) {
      if (field.typeName !== "") {
        refs.push({ name: field.typeName, scope: name });
      }
    }
    for (const nested of message.nestedType) visit(name, nested);
  };
  for (const message of file.messageType) visit(pkg, message);
  return refs;
}

/** Resolves a type reference as protobuf does: absolute, or relative to each enclosing scope. */
function resolves(
  ref: { name: string; scope: string },
  defined: ReadonlySet<string>,
): boolean {
  if (ref.name.startsWith(".")) return defined.has(ref.name);
  for (let scope = ref.scope;; scope = scope.slice(0, scope.lastIndexOf("."))) {
    if (defined.has(`${scope}.${ref.name}`)) return true;
    if (scope === "") return false;
  }
}
