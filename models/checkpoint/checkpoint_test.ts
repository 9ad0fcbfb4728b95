import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { createSpec } from "../arch/spec.ts";
import { createModel, type RnnModel } from "../arch/rnn_model.ts";
import { liven, read, uniformArray, withoutLeaks } from "../arch/_testing.ts";
import {
  type CheckpointInfo,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  sha256Hex,
} from "./checkpoint.ts";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
import { CheckpointDataLossError, CheckpointVersionError } from "./errors.ts";
import { validateManifest } from "./manifest.ts";

const INFO: CheckpointInfo = {
  dataset: "fashion_mnist",
  problem: "majority",
  fold: { index: 2, folds: 7 },
  seed: 5,
  training: {
    optimizer: "adam",
    epochs: 3,
    batchSize: 50,
    learningRate: 0.0002,
    keepProb: 0.8,
  },
  metrics: { testAccuracy: 0.5 },
  created: new Date("2024-05-06T07:08:09.000Z"),
};

async function withModel<T>(fn: (model: RnnModel) => Promise<T>): Promise<T> {
  return await withoutLeaks(async () => {
    const model = liven(
      createModel(createSpec({ architecture: "conv_r_lstm", steps: 4 }), {
        seed: 3,
      }),
    );
    try {
      return await fn(model);
    } finally {
      model.dispose();
    }
  });
}

/** The manifest after a trip through JSON, as storage returns it. */
function json(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

Deno.test("encodeCheckpoint() and loadCheckpoint() round-trip to bit-identical logits", async () => {
  await withModel(async (model) => {
    const { weights, manifest } = await encodeCheckpoint(model, INFO);
    assert.equal(manifest.formatVersion, 1);
    assert.equal(manifest.parameterCount, 152410);
    assert.equal(manifest.steps, 4);
    assert.equal(manifest.created, "2024-05-06T07:08:09.000Z");
    assert.deepEqual(manifest.weights, {
      format: "safetensors",
      bytes: weights.length,
      sha256: await sha256Hex(weights),
    });
    assert.equal(
      decodeSafetensors(weights).metadata.architecture,
      "conv_r_lstm",
    );
    const loaded = await loadCheckpoint({ weights, manifest: json(manifest) });
    try {
      assert.deepEqual(loaded.manifest, manifest);
      const x = tf.tensor3d(uniformArray(9, 3 * 4 * 196), [3, 4, 196]);
      assert.deepEqual(
        await read(() => loaded.model.forward(x)),
        await read(() => model.forward(x)),
      );
      x.dispose();
    } finally {
      loaded.model.dispose();
    }
  });
});

Deno.test("sha256Hex() matches a known digest", async () => {
  assert.equal(
    await sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("decodeCheckpoint() refuses corrupted and truncated weights", async () => {
  await withModel(async (model) => {
    const { weights, manifest } = await encodeCheckpoint(model, INFO);
    const flipped = weights.slice();
    flipped[weights.length - 100]! ^= 0x01;
    await assert.rejects(
      () => decodeCheckpoint({ weights: flipped, manifest: json(manifest) }),
      (e: unknown) =>
        e instanceof CheckpointDataLossError &&
        /the weights' SHA-256 is [0-9a-f]{64}, the manifest records/.test(
          (e as Error).message,
        ),
    );
    await assert.rejects(
      () =>
        decodeCheckpoint({
          weights: weights.subarray(0, weights.length - 4),
          manifest: json(manifest),
        }),
      (e: unknown) =>
        e instanceof CheckpointDataLossError &&
        /has \d+ bytes, the manifest records \d+/.test((e as Error).message),
    );
    // A truncated file whose manifest was rewritten to match still fails structurally.
    const cut = weights.subarray(0, weights.length - 4);
    const rewritten = {
      ...manifest,
      weights: {
        format: "safetensors",
        bytes: cut.length,
        sha256: await sha256Hex(cut),
      },
    };
    await assert.rejects(
      () => decodeCheckpoint({ weights: cut, manifest: json(rewritten) }),
      CheckpointDataLossError,
    );
  });
});

Deno.test("decodeCheckpoint() refuses weights whose names or shapes do not fit the spec", async () => {
  await withModel(async (model) => {
    const exported = { ...(await model.exportWeights()) };
    const { manifest } = await encodeCheckpoint(model, INFO);
    const variants: [
      string,
      Record<string, { shape: readonly number[]; data: Float32Array }>,
      RegExp,
    ][] = [
      ["wrong shape", {
        ...exported,
        "in1.bias": { shape: [64], data: new Float32Array(64) },
      }, /tensor "in1.bias" has shape \[64\], expected \[128\]/],
      [
        "missing tensor",
        Object.fromEntries(
          Object.entries(exported).filter(([k]) => k !== "lstm.kernel"),
        ),
        /missing tensor "lstm.kernel"/,
      ],
      ["extra tensor", {
        ...exported,
        "out3.kernel": { shape: [1], data: new Float32Array(1) },
      }, /unexpected tensor "out3.kernel"/],
    ];
    for (const [name, tensors, message] of variants) {
      const weights = encodeSafetensors(tensors);
      const forged = {
        ...manifest,
        weights: {
          format: "safetensors",
          bytes: weights.length,
          sha256: await sha256Hex(weights),
        },
      };
      await assert.rejects(
        () => decodeCheckpoint({ weights, manifest: json(forged) }),
        (e: unknown) =>
          e instanceof CheckpointDataLossError &&
          message.test((e as Error).message),
        name,
      );
    }
    // The same weights under another architecture's spec.
    const { weights } = await encodeCheckpoint(model, INFO);
    const otherSpec = {
      ...manifest,
      spec: createSpec({ architecture: "conv_plus_r_lstm", steps: 4 }),
    };
    await assert.rejects(
      () => decodeCheckpoint({ weights, manifest: json(otherSpec) }),
      /do not fit spec "conv_plus_r_lstm"/,
    );
  });
});

Deno.test("decodeCheckpoint() refuses an unknown format version with CheckpointVersionError", async () => {
  await withModel(async (model) => {
    const { weights, manifest } = await encodeCheckpoint(model, INFO);
    for (const version of [2, 0, "1", undefined]) {
      await assert.rejects(
        () =>
          decodeCheckpoint({
            weights,
            manifest: json({ ...manifest, formatVersion: version }),
          }),
        (e: unknown) =>
          e instanceof CheckpointVersionError && e.version === version &&
          /^Cannot load checkpoint: format version .* is not supported \(this build reads version 1\)$/
            .test((e as Error).message),
      );
    }
  });
});

Deno.test("validateManifest() refuses malformed fields with CheckpointDataLossError", async (t) => {
  await withModel(async (model) => {
    const { manifest } = await encodeCheckpoint(model, INFO);
    const cases: [string, unknown, RegExp][] = [
      ["not an object", 3, /"\(manifest\)" must be an object/],
      [
        "bad spec",
        { ...manifest, spec: { architecture: "gru" } },
        /"spec" is invalid/,
      ],
      [
        "steps disagree",
        { ...manifest, steps: 5 },
        /"steps" is 5 but spec.steps is 4/,
      ],
      [
        "fold past the end",
        { ...manifest, fold: { index: 7, folds: 7 } },
        /"fold.index" must be below fold.folds = 7/,
      ],
      ["bad hash", {
        ...manifest,
        weights: { ...manifest.weights, sha256: "xyz" },
      }, /"weights.sha256" must be 64 lowercase hex digits/],
      [
        "bad metric",
        { ...manifest, metrics: { a: "high" } },
        /"metrics.a" must be a finite number/,
      ],
      [
        "bad time",
        { ...manifest, created: "yesterday" },
        /"created" is not an ISO 8601 time/,
      ],
      [
        "missing dataset",
        { ...manifest, dataset: undefined },
        /"dataset" must be a non-empty string/,
      ],
      ["other optimizer", {
        ...manifest,
        training: { ...manifest.training, optimizer: "sgd" },
      }, /"training.optimizer" must be "adam"/],
    ];
    for (const [name, value, message] of cases) {
      await t.step(name, () => {
        assert.throws(
          () => validateManifest(json(value)),
          (e: unknown) =>
            e instanceof CheckpointDataLossError &&
            message.test((e as Error).message),
        );
      });
    }
    assert.deepEqual(
      validateManifest(json({ ...manifest, fold: null })).fold,
      null,
    );
  });
});
