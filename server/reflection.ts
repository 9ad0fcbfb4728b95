/**
 * The descriptors served by gRPC server reflection: the API's .proto files
 * and the standard health service's, loaded once with proto-loader.
 *
 * proto-loader (protobufjs) names the entry message of a map field after the
 * field ("Statuses") where protoc names it "StatusesEntry"; strict descriptor
 * linkers (grpc_cli, grpcio, protobuf-go) then refuse the whole file, and the
 * health service's `List` method has such a map. {@linkcode repairMapEntries}
 * renames those entries so that every tool can link what we serve.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { loadSync, type PackageDefinition } from "@grpc/proto-loader";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type DescriptorProto,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";

/**
 * Loads every .proto file under `proto/rnnexplain/v1` and the health
 * service's, with map entries repaired, ready for `ReflectionService`.
 *
 * @returns the package definition to reflect
 */
export function loadReflectionDescriptors(): PackageDefinition {
  const root = fileURLToPath(new URL("../proto/", import.meta.url));
  const files = [...Deno.readDirSync(`${root}rnnexplain/v1`)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".proto"))
    .map((entry) => `rnnexplain/v1/${entry.name}`)
    .sort();
  return repairMapEntries(
    // keepCase: serve field names as written (model_id), not camelCased.
    loadSync([...files, healthProtoPath], {
      includeDirs: [root],
      keepCase: true,
    }),
  );
}

/**
 * Renames map entry messages to protoc's `<FieldName>Entry` in every file
 * descriptor of a package definition (and points their fields at the new
 * names). Other descriptors are returned unchanged.
 *
 * @param definition a proto-loader package definition
 * @returns a definition whose file descriptors have conventional map entries
 */
export function repairMapEntries(
  definition: PackageDefinition,
): PackageDefinition {
  const repaired = new Map<Uint8Array, Uint8Array>();
  const repair = (bytes: Uint8Array): Uint8Array => {
    let fixed = repaired.get(bytes);
    if (fixed === undefined) {
      const file = fromBinary(FileDescriptorProtoSchema, bytes);
      fixed = file.messageType.map(renameMapEntries).some(Boolean)
        ? Buffer.from(toBinary(FileDescriptorProtoSchema, file))
        : bytes;
      repaired.set(bytes, fixed);
    }
    return fixed;
  };
  const result: PackageDefinition = {};
  for (const [name, value] of Object.entries(definition)) {
    const protos = (value as { fileDescriptorProtos?: Uint8Array[] })
      .fileDescriptorProtos;
    result[name] = Array.isArray(protos)
      ? { ...value, fileDescriptorProtos: protos.map(repair) } as typeof value
      : value;
  }
  return result;
}

/** Renames the map entries of one message, recursively; true if any changed. */
function renameMapEntries(message: DescriptorProto): boolean {
  let changed = false;
  for (const nested of message.nestedType) {
    changed = renameMapEntries(nested) || changed;
    if (nested.options?.mapEntry !== true) continue;
    const field = message.field.find((f) =>
      lastSegment(f.typeName) === nested.name
    );
    if (field === undefined) continue;
    const expected = `${pascalCase(field.name)}Entry`;
    if (nested.name === expected) continue;
    field.typeName = field.typeName.slice(0, -nested.name.length) + expected;
    nested.name = expected;
    changed = true;
  }
  return changed;
}

function lastSegment(typeName: string): string {
  return typeName.slice(typeName.lastIndexOf(".") + 1);
}

/** protoc's map entry naming: `foo_bar` → `FooBar`. */
function pascalCase(fieldName: string): string {
  return fieldName
    .split("_")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}
