import assert from "node:assert/strict";
import { createSpec } from "../arch/spec.ts";
import { buildGraph } from "../arch/graph.ts";
import { countFlops } from "./flops.ts";

Deno.test("countFlops() counts R-LSTM products by hand", () => {
  const { forward, training } = countFlops(
    buildGraph(createSpec({ architecture: "r_lstm", steps: 12, columns: 7 })),
  );
  const in1 = 2 * 196 * 256 * 12;
  const lstmInput = 2 * 256 * 288 * 12;
  const lstmState = 2 * 72 * 288 * 11; // h_prev is zero at step 0
  const out2 = 2 * 72 * 10;
  assert.equal(forward, in1 + lstmInput + lstmState + out2);
  assert.equal(training, 2 * in1 + 3 * (lstmInput + lstmState + out2));
});

Deno.test("countFlops() counts convolutions and literal connections", () => {
  const conv = countFlops(
    buildGraph(
      createSpec({ architecture: "conv_deep", steps: 12, columns: 7 }),
    ),
  );
  const plus = countFlops(
    buildGraph(
      createSpec({ architecture: "conv_plus_deep", steps: 12, columns: 7 }),
    ),
  );
  // Literal edges: conv1_prev (28×7×24 → 24, 5×5) and conv2_prev (14×4×32 → 32, 3×3), 11 steps each.
  const literal = 2 * 28 * 7 * 25 * 24 * 24 * 11 +
    2 * 14 * 4 * 9 * 32 * 32 * 11;
  assert.equal(plus.forward - conv.forward, literal);
  assert.equal(plus.training - conv.training, 3 * literal);
  const conv1 = 2 * 28 * 7 * 25 * 1 * 24 * 12;
  assert.ok(conv.training > 2 * conv1);
});
