import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../backend.ts";
import { replicaEpsilon, replicaZBox } from "../_replica.ts";
import {
  assertClose,
  assertNoLeak,
  createRandom,
  normal,
  values,
} from "../_testing.ts";
import { applyRule, CONV2D, Epsilon, ZBox } from "../rules/mod.ts";
import { makeCase } from "../rules/_cases.ts";
import { bandTranspose } from "../../kernels/band_conv.ts";
import { FAST_CONV2D } from "./_linear_maps.ts";

/** [N, H, W, co] gradient, [kh, kw, ci, co] kernels, m kernels. */
const GEOMETRIES: [string, number[], number[], number][] = [
  [
    "5×5 onto 1 channel, 2 kernels (zᴮ on pixels)",
    [3, 9, 7, 6],
    [5, 5, 1, 6],
    2,
  ],
  ["5×5, image narrower than the kernel", [2, 6, 3, 4], [5, 5, 1, 4], 1],
  ["3×3 onto 2 channels, 3 kernels", [2, 5, 4, 3], [3, 3, 2, 3], 3],
  ["1×3, one row of kernel", [2, 4, 5, 2], [1, 3, 1, 2], 2],
  ["3×1, one column of kernel", [2, 4, 1, 2], [3, 1, 1, 2], 1],
  ["3×3 onto 24 channels from 32 (a second convolution)", [2, 6, 4, 32], [
    3,
    3,
    24,
    32,
  ], 2],
];

function flip(k: tf.Tensor4D): tf.Tensor4D {
  return tf.transpose(tf.reverse(k, [0, 1]), [0, 1, 3, 2]);
}

Deno.test("bandTranspose() equals conv2dTranspose for every kernel, interleaved along the channels", async (t) => {
  await initBackend("wasm");
  let seed = 40;
  for (const [name, gShape, kShape, m] of GEOMETRIES) {
    await t.step(name, async () => {
      const random = createRandom(seed++);
      const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
      const g = tf.tensor4d(normal(random, size(gShape)), gShape as never);
      const kernels = Array.from(
        { length: m },
        () => tf.tensor4d(normal(random, size(kShape)), kShape as never),
      );
      const [n, h, w] = gShape as [number, number, number];
      const ci = kShape[2]!;
      try {
        await assertNoLeak(async () => {
          const [band, ...stock] = tf.tidy(() => [
            bandTranspose(g, kernels.map(flip)),
            ...kernels.map((k) => CONV2D.transpose(g, k, [n, h, w, ci])),
          ]);
          try {
            assert.deepEqual(band!.shape, [n, h, w, ci * m]);
            const got = await values(band!);
            for (let j = 0; j < m; j++) {
              const want = await values(stock[j]!);
              const mine = want.map((_, i) => got[i * m + j]!);
              assertClose(mine, want, 1e-4, `${name}: kernel ${j}`);
            }
          } finally {
            tf.dispose([band!, ...stock]);
          }
        });
      } finally {
        tf.dispose([g, ...kernels]);
      }
    });
  }
});

Deno.test("FAST_CONV2D.transposeEach() bands odd kernels on narrow images onto one channel (onto any on blas) and declines the rest", async () => {
  const backend = await initBackend("wasm");
  const blas = backend.name === "blas";
  // [columns, kernel shape, banded]
  const cases: [number, number[], boolean][] = [
    [3, [3, 3, 1, 2], true],
    [6, [3, 3, 1, 2], true],
    [7, [3, 3, 1, 2], false],
    [3, [3, 3, 2, 2], blas],
    [3, [2, 3, 1, 2], false],
  ];
  await assertNoLeak(() => {
    for (const [columns, shape, banded] of cases) {
      const g = tf.ones([1, 4, columns, 2]);
      const k = tf.ones(shape);
      const out = FAST_CONV2D.transposeEach!(g, [k, k], [
        1,
        4,
        columns,
        shape[2]!,
      ]);
      assert.equal(
        out !== undefined,
        banded,
        `${columns} columns, kernel [${shape.join(", ")}]`,
      );
      tf.dispose([g, k, out ?? []].flat());
    }
  });
});

Deno.test("ZBox and Epsilon on FAST_CONV2D (banded transposes where they pay) match the plain-loop replica", async (t) => {
  await initBackend("wasm");
  const rows = [
    {
      name: "ZBox(-1, 1)",
      domain: "pixels" as const,
      rule: () => ZBox({ low: -1, high: 1 }),
      replica: (c: ReturnType<typeof makeCase>) =>
        replicaZBox(
          c.replica,
          c.lowValues.map(() => -1),
          c.highValues.map(() => 1),
          1e-9,
        ),
    },
    {
      name: "ZBox with per-input bounds",
      domain: "box" as const,
      rule: (c: ReturnType<typeof makeCase>) =>
        ZBox({ low: c.low!, high: c.high!, stabilizer: 1e-6 }),
      replica: (c: ReturnType<typeof makeCase>) =>
        replicaZBox(c.replica, c.lowValues, c.highValues, 1e-6),
    },
    {
      name: "Epsilon(0.1) with bias",
      domain: "real" as const,
      bias: true,
      rule: () => Epsilon({ epsilon: 0.1 }),
      replica: (c: ReturnType<typeof makeCase>) =>
        replicaEpsilon(c.replica, 0.1),
    },
  ];
  // conv3x3 has 3 input channels: banded (5-D pairing) on blas only.
  const layers = ["conv5x5c1", "conv3x3"] as const;
  let seed = 60;
  for (const row of rows) {
    for (const layer of layers) {
      await t.step(`${row.name} on ${layer}`, async () => {
        const c = makeCase(layer, row.domain, seed++, {
          bias: row.bias ?? false,
        });
        try {
          for (const given of [false, true]) {
            await assertNoLeak(async () => {
              const output = given
                ? tf.tidy(() => FAST_CONV2D.forward(c.input, c.weight!))
                : undefined;
              const out = applyRule(row.rule(c), FAST_CONV2D, {
                ...c,
                ...(output === undefined ? {} : { output }),
              });
              try {
                const want = row.replica(c);
                assertClose(
                  await values(out.relevance),
                  want.relevance,
                  1e-4,
                  `relevance (W·x given: ${given})`,
                );
                assertClose(
                  await values(out.absorbed),
                  want.absorbed,
                  1e-4,
                  `absorbed (W·x given: ${given})`,
                );
              } finally {
                tf.dispose([out.relevance, out.absorbed, output ?? []].flat());
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
