import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend.ts";
import {
  replicaAlphaBeta,
  type ReplicaCase,
  replicaEpsilon,
  replicaFlat,
  type ReplicaResult,
  replicaWSquare,
  replicaZBox,
} from "../_replica.ts";
import { assertClose, assertNoLeak, values } from "../_testing.ts";
import { applyRule, type Rule } from "../core.ts";
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
import { FAST_CONV2D } from "../lrp/_linear_maps.ts";

interface Row {
  name: string;
  layers: CaseLayer[];
  domain: Domain;
  bias?: boolean;
  /** Zero R where z_j nearly cancels (LRP-0 rows, see `makeCase`). */
  conditioned?: boolean;
  rule: (c: LayerCase) => Rule;
  replica: (c: LayerCase) => ReplicaResult;
}

const pixelsOf = (c: LayerCase) =>
  c.layer.kind === "dense" ? PIXELS.dense : PIXELS.conv;
const CONVS: CaseLayer[] = ["conv3x3", "conv5x5", "conv2x3"];

const ROWS: Row[] = [
  {
    name: "Epsilon(0) (LRP-0)",
    layers: ["dense", ...CONVS],
    domain: "real",
    conditioned: true,
    rule: () => Epsilon({ epsilon: 0 }),
    replica: (c) => replicaEpsilon(c.replica, 0),
  },
  {
    name: "Epsilon(0) (LRP-0) on pooled ReLU maps",
    layers: ["pool"],
    domain: "nonneg",
    rule: () => Epsilon({ epsilon: 0 }),
    replica: (c) => replicaEpsilon(c.replica, 0),
  },
  {
    name: "Epsilon(0.1) with bias",
    layers: ["dense", ...CONVS],
    domain: "real",
    bias: true,
    rule: () => Epsilon({ epsilon: 0.1 }),
    replica: (c) => replicaEpsilon(c.replica, 0.1),
  },
  {
    name: "ZPlus",
    layers: ["dense", ...CONVS],
    domain: "nonneg",
    rule: () => ZPlus(),
    replica: (c) => replicaAlphaBeta(c.replica, 1, 0, 1e-9),
  },
  ...[[2, 1], [1.5, 0.5], [3, 2]].map(([alpha, beta]): Row => ({
    name: `AlphaBeta(${alpha}, ${beta})`,
    layers: ["dense", ...CONVS],
    domain: "nonneg",
    bias: true, // ignored by the rule, as in the thesis code
    rule: () => AlphaBeta({ alpha: alpha!, beta: beta!, stabilizer: 1e-6 }),
    replica: (c) => replicaAlphaBeta(c.replica, alpha!, beta!, 1e-6),
  })),
  {
    // On convolutions ZBox runs its own backward, (x − l)⊙Lᵀ(s; w⁺) + (x − h)⊙Lᵀ(s; w⁻).
    name: "ZBox(-1, 1)",
    layers: ["dense", ...CONVS, "conv5x5c1"],
    domain: "pixels",
    rule: () => ZBox({ low: -1, high: 1 }),
    replica: (c) =>
      replicaZBox(
        c.replica,
        c.lowValues.map(() => -1),
        c.highValues.map(() => 1),
        1e-9,
      ),
  },
  {
    name: "ZBox with per-input bounds",
    layers: ["dense", ...CONVS, "conv5x5c1"],
    domain: "box",
    rule: (c) => ZBox({ low: c.low!, high: c.high!, stabilizer: 1e-6 }),
    replica: (c) => replicaZBox(c.replica, c.lowValues, c.highValues, 1e-6),
  },
  {
    name: "WSquare",
    layers: ["dense", ...CONVS],
    domain: "real",
    rule: () => WSquare(),
    replica: (c) => replicaWSquare(c.replica, 1e-9),
  },
  {
    name: "Flat",
    layers: ["dense", ...CONVS],
    domain: "real",
    rule: () => Flat(),
    replica: (c) => replicaFlat(c.replica, 1e-9),
  },
  ...[[1, 0], [2, 1], [1.5, 0.5]].map(([alpha, beta]): Row => ({
    name: `MixedDomain(alpha ${alpha}, beta ${beta})`,
    layers: ["dense", ...CONVS],
    domain: "mixed",
    rule: (c) =>
      MixedDomain({ pixels: pixelsOf(c), alpha: alpha!, beta: beta! }),
    replica: (c) =>
      replicaZBox(c.replica, c.lowValues, c.highValues, 1e-9, {
        pixel: c.isPixel,
        alpha: alpha!,
        beta: beta!,
      }),
  })),
  {
    name: "MixedDomain with pixel-part bound tensors",
    layers: ["dense", "conv3x3"],
    domain: "mixed",
    rule: (c) =>
      MixedDomain({
        pixels: pixelsOf(c),
        low: c.pixelLow!,
        high: c.pixelHigh!,
        alpha: 2,
        beta: 1,
      }),
    replica: (c) =>
      replicaZBox(c.replica, c.lowValues, c.highValues, 1e-9, {
        pixel: c.isPixel,
        alpha: 2,
        beta: 1,
      }),
  },
  {
    name: "Norm",
    layers: ["pool", "pool1", "dense", "conv3x3"],
    domain: "nonneg",
    rule: () => Norm(),
    replica: (c) => replicaEpsilon({ ...c.replica, bias: undefined }, 1e-9),
  },
  {
    name: "Epsilon(0.01) on pooled ReLU maps",
    layers: ["pool"],
    domain: "nonneg",
    rule: () => Epsilon({ epsilon: 0.01 }),
    replica: (c) => replicaEpsilon(c.replica, 0.01),
  },
];

Deno.test("applyRule() matches the plain-loop replica for every rule and layer kind", async (t) => {
  await initBackend("wasm");
  let seed = 100;
  for (const row of ROWS) {
    for (const layer of row.layers) {
      const caseSeed = seed++;
      await t.step(`${row.name} on ${layer}`, async () => {
        const c = makeCase(layer, row.domain, caseSeed, {
          bias: row.bias ?? false,
          conditioned: row.conditioned ?? false,
        });
        try {
          // Plain, and with W·x given as a forward trace gives it (Epsilon,
          // ZBox and Norm then skip their plain term's forward).
          for (const given of [false, true]) {
            await assertNoLeak(async () => {
              const output = given
                ? tf.tidy(() => c.layer.forward(c.input, c.weight ?? null))
                : undefined;
              const out = applyRule(row.rule(c), c.layer, {
                ...c,
                ...(output === undefined ? {} : { output }),
              });
              try {
                const want = row.replica(c);
                const label = given ? " (W·x given)" : "";
                assertClose(
                  await values(out.relevance),
                  want.relevance,
                  1e-4,
                  `relevance${label}`,
                );
                assertClose(
                  await values(out.absorbed),
                  want.absorbed,
                  1e-4,
                  `absorbed${label}`,
                );
              } finally {
                tf.dispose([out.relevance, out.absorbed, output]);
              }
            });
          }
        } finally {
          c.dispose();
        }
      });
    }
  }
});

const ACTIVE_ONLY: [string, Rule, (c: ReplicaCase) => ReplicaResult][] = [
  // On pooled ReLU maps: R is 0 where the pooled value is.
  [
    "Norm",
    Norm({ stabilizer: 1e-6 }),
    (c: ReplicaCase) => replicaEpsilon({ ...c, bias: undefined }, 1e-6),
  ],
  // Known stabiliser sign only (z⁺ computed): W·x is not used.
  [
    "ZPlus",
    ZPlus({ stabilizer: 1e-6 }),
    (c: ReplicaCase) => replicaAlphaBeta(c, 1, 0, 1e-6),
  ],
  ...([[2, 1], [1.5, 0.5]] as const).map(([alpha, beta]) =>
    [
      `AlphaBeta(${alpha}, ${beta})`,
      AlphaBeta({ alpha, beta, stabilizer: 1e-6 }),
      (c: ReplicaCase) => replicaAlphaBeta(c, alpha, beta, 1e-6),
    ] as [string, Rule, (c: ReplicaCase) => ReplicaResult]
  ),
  ...[0.1, 1e-9].map((epsilon) =>
    [
      `Epsilon(${epsilon})`,
      Epsilon({ epsilon }),
      (c: ReplicaCase) => replicaEpsilon(c, epsilon),
    ] as [string, Rule, (c: ReplicaCase) => ReplicaResult]
  ),
];

Deno.test("AlphaBeta (z⁺ = z − z⁻) and Epsilon (+ε) with W·x given and activeOnly match the replica where R is 0 on units that are off", async (t) => {
  await initBackend("wasm");
  let seed = 300;
  for (const [name, rule, replica] of ACTIVE_ONLY) {
    const pool = name.startsWith("Norm");
    const layers: CaseLayer[] = pool ? ["pool", "pool1"] : ["dense", ...CONVS];
    for (const layer of layers) {
      const caseSeed = seed++;
      await t.step(`${name} on ${layer}`, async () => {
        const c = makeCase(layer, "nonneg", caseSeed, { bias: !pool });
        // The upper relevance of a ReLU layer: zero where W·x + b ≤ 0.
        const [z, active] = tf.tidy(() => {
          const z = c.layer.forward(c.input, c.weight ?? null);
          return [z, tf.step(c.bias ? tf.add(z, c.bias) : z, 0)];
        });
        const relevance = tf.mul(c.relevance, active!);
        const r = await values(relevance);
        const on = (await values(active!)).reduce((a, v) => a + v, 0);
        try {
          assert.ok(on > 0 && on < r.length, "no unit is on, or every one");
          await assertNoLeak(async () => {
            const tensors = { ...c, relevance, output: z!, activeOnly: true };
            const wrong = tf.add(z!, 0.5);
            const out = [
              applyRule(rule, c.layer, tensors),
              applyRule(rule, c.layer, { ...tensors, output: wrong }),
            ];
            try {
              const want = replica({ ...c.replica, r });
              assertClose(
                await values(out[0]!.relevance),
                want.relevance,
                1e-4,
                "relevance",
              );
              assertClose(
                await values(out[0]!.absorbed),
                want.absorbed,
                1e-4,
                "absorbed",
              );
              // The given z is used: a wrong one changes the result.
              const moved = await values(out[1]!.relevance);
              assert.equal(
                moved.some((v, i) => Math.abs(v - want.relevance[i]!) > 1e-3),
                rule.name !== "ZPlus",
                "a wrong W·x was (not) used",
              );
            } finally {
              tf.dispose([
                wrong,
                ...out.flatMap((o) => [o.relevance, o.absorbed]),
              ]);
            }
          });
        } finally {
          tf.dispose([z!, active!, relevance]);
          c.dispose();
        }
      });
    }
  }
});

Deno.test("ZBox with W·x given and activeOnly (scalar bounds around 0: +ε, relu(z)) matches the replica where R is 0 on units that are off", async (t) => {
  await initBackend("wasm");
  const cases: [string, CaseLayer, boolean][] = [
    ["dense", "dense", false],
    ["conv5x5c1", "conv5x5c1", false],
    ["conv5x5c1 on FAST_CONV2D (banded transposes)", "conv5x5c1", true],
    ["conv3x3", "conv3x3", false],
  ];
  // [−1, 1] takes the known-sign divide; [0.25, 2] (not around 0) the general one.
  const bounds: [number, number][] = [[-1, 1], [-0.5, 2], [0.25, 2]];
  let seed = 400;
  for (const [name, layer, fast] of cases) {
    for (const [low, high] of bounds) {
      const caseSeed = seed++;
      await t.step(`${name}, bounds [${low}, ${high}]`, async () => {
        const c = makeCase(layer, "pixels", caseSeed, { bias: true });
        const map = fast ? FAST_CONV2D : c.layer;
        const [z, active] = tf.tidy(() => {
          const z = c.layer.forward(c.input, c.weight ?? null);
          return [z, tf.step(tf.add(z, c.bias!), 0)];
        });
        const relevance = tf.mul(c.relevance, active!);
        const r = await values(relevance);
        try {
          const on = (await values(active!)).reduce((a, v) => a + v, 0);
          assert.ok(on > 0 && on < r.length, "no unit is on, or every one");
          await assertNoLeak(async () => {
            // A large stabiliser, so that its sign shows in the result.
            const rule = ZBox({ low, high, stabilizer: 0.1 });
            const tensors = { ...c, relevance, output: z!, activeOnly: true };
            const out = applyRule(rule, map, tensors);
            try {
              const want = replicaZBox(
                { ...c.replica, r },
                c.lowValues.map(() => low),
                c.highValues.map(() => high),
                0.1,
              );
              assertClose(
                await values(out.relevance),
                want.relevance,
                1e-4,
                "relevance",
              );
              assertClose(
                await values(out.absorbed),
                want.absorbed,
                1e-4,
                "absorbed",
              );
            } finally {
              tf.dispose([out.relevance, out.absorbed]);
            }
          });
        } finally {
          tf.dispose([z!, active!, relevance]);
          c.dispose();
        }
      });
    }
  }
});
