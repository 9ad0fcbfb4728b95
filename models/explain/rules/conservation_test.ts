import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend.ts";
import { assertNoLeak, values } from "../_testing.ts";
import { applyRule, type Rule } from "../core.ts";
import { DENSE } from "../layers/dense.ts";
import {
  type CaseLayer,
  type Domain,
  type LayerCase,
  makeCase,
  PIXELS,
} from "./_cases.ts";
import {
  AlphaBeta,
  Epsilon,
  Flat,
  MixedDomain,
  Norm,
  WSquare,
  ZBox,
  ZPlus,
} from "./mod.ts";

interface Row {
  name: string;
  layers: CaseLayer[];
  domain: Domain;
  bias?: boolean;
  rule: (c: LayerCase) => Rule;
}

const CONVS: CaseLayer[] = ["conv3x3", "conv5x5", "conv2x3"];
const pixelsOf = (c: LayerCase) =>
  c.layer.kind === "dense" ? PIXELS.dense : PIXELS.conv;

const ROWS: Row[] = [
  ...[[1, 0], [2, 1], [1.5, 0.5], [3, 2], [1.2, 0.2]].map((
    [alpha, beta],
  ): Row => ({
    name: `AlphaBeta(${alpha}, ${beta})`,
    layers: ["dense", ...CONVS],
    domain: "nonneg",
    bias: true,
    rule: () => AlphaBeta({ alpha: alpha!, beta: beta! }),
  })),
  {
    name: "ZPlus",
    layers: ["dense", ...CONVS],
    domain: "nonneg",
    rule: () => ZPlus(),
  },
  {
    name: "ZBox(-1, 1)",
    layers: ["dense", ...CONVS],
    domain: "pixels",
    rule: () => ZBox(),
  },
  {
    name: "ZBox with per-input bounds",
    layers: ["dense", ...CONVS],
    domain: "box",
    rule: (c) => ZBox({ low: c.low!, high: c.high! }),
  },
  ...[[1, 0], [2, 1], [1.5, 0.5]].map(([alpha, beta]): Row => ({
    name: `MixedDomain(alpha ${alpha}, beta ${beta})`,
    layers: ["dense", ...CONVS],
    domain: "mixed",
    rule: (c) =>
      MixedDomain({ pixels: pixelsOf(c), alpha: alpha!, beta: beta! }),
  })),
  {
    name: "Norm",
    layers: ["pool", "pool1"],
    domain: "nonneg",
    rule: () => Norm(),
  },
  {
    name: "Epsilon(0.1) with bias",
    layers: ["dense", ...CONVS],
    domain: "real",
    bias: true,
    rule: () => Epsilon({ epsilon: 0.1 }),
  },
  {
    name: "WSquare",
    layers: ["dense", ...CONVS],
    domain: "real",
    rule: () => WSquare(),
  },
  {
    name: "Flat",
    layers: ["dense", ...CONVS],
    domain: "real",
    rule: () => Flat(),
  },
];

/** Per sample: Σ R_in, absorbed, Σ R, Σ |R|. */
async function sums(
  c: LayerCase,
  out: { relevance: tf.Tensor; absorbed: tf.Tensor },
): Promise<[number, number, number, number][]> {
  const n = c.input.shape[0] as number;
  const rin = await values(out.relevance);
  const absorbed = await values(out.absorbed);
  const r = await values(c.relevance);
  const per = rin.length / n;
  const perOut = r.length / n;
  const result: [number, number, number, number][] = [];
  for (let s = 0; s < n; s++) {
    let a = 0;
    let b = 0;
    let m = 0;
    for (let i = 0; i < per; i++) a += rin[s * per + i]!;
    for (let j = 0; j < perOut; j++) {
      b += r[s * perOut + j]!;
      m += Math.abs(r[s * perOut + j]!);
    }
    result.push([a, absorbed[s]!, b, m]);
  }
  return result;
}

Deno.test("applyRule() conserves relevance: Σ R_in + absorbed = Σ R per sample", async (t) => {
  await initBackend("wasm");
  let seed = 500;
  for (const row of ROWS) {
    for (const layer of row.layers) {
      const caseSeed = seed++;
      await t.step(`${row.name} on ${layer}`, async () => {
        const c = makeCase(layer, row.domain, caseSeed, {
          bias: row.bias ?? false,
        });
        try {
          await assertNoLeak(async () => {
            const out = applyRule(row.rule(c), c.layer, c);
            try {
              for (
                const [s, [rin, absorbed, r, size]] of (await sums(c, out))
                  .entries()
              ) {
                assert.ok(size > 0, "the case has relevance");
                assert.ok(
                  Math.abs(rin + absorbed - r) <= 1e-5 * size,
                  `sample ${s}: Σ R_in ${rin} + absorbed ${absorbed} vs Σ R ${r}`,
                );
              }
            } finally {
              out.relevance.dispose();
              out.absorbed.dispose();
            }
          });
        } finally {
          c.dispose();
        }
      });
    }
  }
});

Deno.test("AlphaBeta() hands an empty part's share to z⁺ or to absorbed, never drops it", async () => {
  await initBackend("wasm");
  // Output 0: weights ≥ 0 (no negative part); output 1: weights ≤ 0 (no
  // positive part); output 2: mixed. Sample 1 is all zero (both parts empty).
  const x = tf.tensor2d([[1, 2, 0.5], [0, 0, 0]]);
  const w = tf.tensor2d([[1, -1, 2], [0.5, -2, -1], [2, -0.5, 1]]);
  const r = tf.tensor2d([[3, 5, 7], [2, 4, 6]]);
  try {
    await assertNoLeak(async () => {
      const out = applyRule(AlphaBeta({ alpha: 2, beta: 1 }), DENSE, {
        input: x,
        weight: w,
        relevance: r,
      });
      try {
        const rin = await values(out.relevance);
        const absorbed = await values(out.absorbed);
        // Output 2: z⁺ = 1·2 + 0.5·1 = 2.5, z⁻ = 2·(−1) = −2.
        // Output 0 goes through z⁺ (z⁺ = 1 + 1 + 1 = 3); output 1 is absorbed.
        const want = [
          1 * 3 / 3 + 2 * 7 * 2 / 2.5, // x0: w00 share + α · x0 w02 share
          1 * 3 / 3 - 1 * 7 * (-2) / -2, // x1: w10 share − β · x1 w12 share
          1 * 3 / 3 + 2 * 7 * 0.5 / 2.5, // x2
        ];
        for (let i = 0; i < 3; i++) {
          assert.ok(
            Math.abs(rin[i]! - want[i]!) < 1e-5,
            `R_in[${i}] ${rin[i]}`,
          );
        }
        assert.deepEqual(Array.from(rin.slice(3)), [0, 0, 0]);
        assert.ok(Math.abs(absorbed[0]! - 5) < 1e-5, `absorbed ${absorbed[0]}`);
        assert.ok(
          Math.abs(absorbed[1]! - 12) < 1e-5,
          `absorbed ${absorbed[1]}`,
        );
      } finally {
        out.relevance.dispose();
        out.absorbed.dispose();
      }
    });
  } finally {
    tf.dispose([x, w, r]);
  }
});
