/**
 * A client process for the disconnect fault test: it opens one streamed
 * Explain (integrated gradients with many path points, so the server works
 * for a long time) and reads it until it is killed. Run with
 * `deno run --allow-net=127.0.0.1 explain_client.ts <address> <modelId>`.
 *
 * @module
 */
import {
  createRnnExplainClient,
  encodeTensor,
  Method,
} from "../../../client/mod.ts";

const [address, modelId] = Deno.args;
if (address === undefined || modelId === undefined) {
  throw new TypeError("Usage: explain_client.ts <address> <modelId>");
}
const client = createRnnExplainClient(address);
const values = new Float32Array(12 * 28 * 7).fill(0.25);
for await (
  const _ of client.explain({
    modelId,
    input: {
      source: { $case: "tensor", tensor: encodeTensor(values, [12, 28 * 7]) },
    },
    explainer: {
      method: Method.METHOD_INTEGRATED_GRADIENTS,
      params: { steps: 1024 },
    },
  })
) {
  // Only the open stream matters; the test kills this process.
}
