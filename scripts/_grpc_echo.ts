/**
 * A bare grpc-js echo: one unary method that answers with the bytes it
 * received, no protobuf and no work. `bench:stream` runs it as its own
 * process to measure what gRPC over Deno's `node:http2` costs the serving
 * thread for a request and a response of a given size, the floor under the
 * server's own serving overhead.
 *
 * Run as a program, it serves on 127.0.0.1 and prints its port.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { print } from "./_bench.ts";

const toBuffer = (b: Uint8Array) =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const same = (b: Uint8Array) => b;

/** The echo method's definition (raw bytes both ways). */
export const ECHO_SERVICE = {
  echo: {
    path: "/rnnexplain.bench.Echo/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: toBuffer,
    requestDeserialize: same,
    responseSerialize: toBuffer,
    responseDeserialize: same,
  },
} as const;

/** Message limits of both ends (the server's defaults are 4 MiB). */
export const ECHO_OPTIONS = {
  "grpc.max_receive_message_length": 64 * 1024 * 1024,
  "grpc.max_send_message_length": 64 * 1024 * 1024,
} as const;

if (import.meta.main) {
  const server = new grpc.Server(ECHO_OPTIONS);
  server.addService(ECHO_SERVICE as unknown as grpc.ServiceDefinition, {
    echo: (
      call: grpc.ServerUnaryCall<Uint8Array, Uint8Array>,
      callback: grpc.sendUnaryData<Uint8Array>,
    ) => callback(null, call.request),
  });
  server.bindAsync(
    "127.0.0.1:0",
    grpc.ServerCredentials.createInsecure(),
    (err, port) => {
      if (err) throw err;
      print(String(port));
    },
  );
}
