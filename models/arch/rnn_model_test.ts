import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  type Architecture,
  ARCHITECTURES,
  createSpec,
  type ModelSpecInit,
} from "./spec.ts";
import {
  createModel,
  disposeTrace,
  linearOutputName,
  type RnnModel,
} from "./rnn_model.ts";
import { staticActivations } from "./graph.ts";
import { SOFTPLUS_BIAS_INIT } from "./parameters.ts";
import {
  assertClose,
  liven,
  read,
  referenceLogits,
  uniformArray,
  withoutLeaks,
} from "./_testing.ts";

const COLUMNS: Record<number, number> = { 1: 28, 4: 7, 7: 4, 12: 7 };

function input(model: RnnModel, n: number, seed = 1): tf.Tensor3D {
  const { steps, rows, columns } = model.spec;
  return tf.tensor3d(uniformArray(seed, n * steps * rows * columns), [
    n,
    steps,
    rows * columns,
  ]);
}

async function withModel<T>(
  init: ModelSpecInit,
  fn: (m: RnnModel) => T | Promise<T>,
  seed = 1,
): Promise<T> {
  return await withoutLeaks(async () => {
    const model = liven(createModel(createSpec(init), { seed }));
    try {
      return await fn(model);
    } finally {
      model.dispose();
    }
  });
}

Deno.test("RnnModel.forward() returns [N, 10] logits equal to a plain per-step replica", async (t) => {
  for (const steps of [1, 4, 7, 12]) {
    for (const architecture of ARCHITECTURES) {
      await t.step(`${architecture} T=${steps}`, async () => {
        await withModel({
          architecture,
          steps,
          columns: COLUMNS[steps]!,
          dropout: "none",
        }, async (model) => {
          const x = input(model, 2);
          const logits = model.forward(x);
          const expected = referenceLogits(model, x);
          assert.deepEqual(logits.shape, [2, 10]);
          const values = await logits.data();
          assertClose(values, await expected.data(), 1e-4, 1e-5);
          assert.ok(
            new Set(values).size > 10,
            "logits are not trivially constant",
          );
          tf.dispose([x, logits, expected]);
        });
      });
    }
  }
});

Deno.test("RnnModel.forward() matches the replica without biases too", async () => {
  for (const architecture of ["deep", "conv_plus_r_lstm"] as const) {
    await withModel({ architecture, steps: 4, bias: "none" }, async (model) => {
      const x = input(model, 3);
      const [a, b] = [model.forward(x), referenceLogits(model, x)];
      assertClose(await a.data(), await b.data());
      tf.dispose([x, a, b]);
    });
  }
});

Deno.test("RnnModel.forward() gradients equal the replica's for every architecture", async (t) => {
  for (const architecture of ARCHITECTURES) {
    await t.step(architecture, async () => {
      await withModel(
        { architecture, steps: 4, columns: 7, dropout: "none" },
        async (model) => {
          const x = input(model, 3);
          const weights = tf.tensor2d(uniformArray(5, 30), [3, 10]);
          const vars = [...model.parameters.values()];
          const ours = tf.variableGrads(
            () => tf.sum(tf.mul(model.forward(x), weights)),
            vars,
          );
          const theirs = tf.variableGrads(
            () => tf.sum(tf.mul(referenceLogits(model, x), weights)),
            vars,
          );
          for (const name of Object.keys(theirs.grads)) {
            assertClose(
              await ours.grads[name]!.data(),
              await theirs.grads[name]!.data(),
              1e-3,
              1e-5,
            );
          }
          const dx = tf.grad((v: tf.Tensor) =>
            tf.sum(tf.mul(model.forward(v as tf.Tensor3D), weights))
          )(x);
          const dxRef = tf.grad((v: tf.Tensor) =>
            tf.sum(tf.mul(referenceLogits(model, v as tf.Tensor3D), weights))
          )(x);
          assertClose(await dx.data(), await dxRef.data(), 1e-3, 1e-5);
          tf.dispose([x, weights, ours.value, theirs.value, dx, dxRef]);
          tf.dispose(Object.values(ours.grads));
          tf.dispose(Object.values(theirs.grads));
        },
      );
    });
  }
});

Deno.test("RnnModel.forward() fuses the R-LSTM recurrence without changing values or gradients", async (t) => {
  const cases = [
    ["r_lstm", "naive"],
    ["r_lstm", "stationary"],
    ["conv_r_lstm", "naive"],
    ["r_lstm", "none"],
  ] as const;
  for (const [architecture, dropout] of cases) {
    await t.step(`${architecture} ${dropout}`, async () => {
      await withModel({ architecture, steps: 4, dropout }, async (model) => {
        const x = input(model, 3);
        const weights = tf.tensor2d(uniformArray(5, 30), [3, 10]);
        const vars = [...model.parameters.values()];
        // A caller-supplied ReLU (even the stock one) takes the step-by-step path.
        const run = (fused: boolean) =>
          tf.variableGrads(
            () =>
              tf.sum(tf.mul(
                model.forward(x, {
                  training: true,
                  seed: 7,
                  ...(fused ? {} : { relu: tf.relu }),
                }),
                weights,
              )),
            vars,
          );
        const [fused, stepwise] = [run(true), run(false)];
        assertClose(
          await fused.value.data(),
          await stepwise.value.data(),
          1e-5,
          1e-6,
        );
        for (const name of Object.keys(stepwise.grads)) {
          assertClose(
            await fused.grads[name]!.data(),
            await stepwise.grads[name]!.data(),
            1e-4,
            1e-6,
          );
        }
        tf.dispose([x, weights, fused.value, stepwise.value]);
        tf.dispose([
          ...Object.values(fused.grads),
          ...Object.values(stepwise.grads),
        ]);
      });
    });
  }
});

Deno.test("RnnModel.forward() applies dropout only in training, reproducibly per seed", async () => {
  for (const dropout of ["naive", "stationary"] as const) {
    await withModel(
      { architecture: "deep", steps: 4, dropout },
      async (model) => {
        const x = input(model, 4);
        const evalA = await read(() => model.forward(x));
        const evalB = await read(() => model.forward(x, { seed: 9 }));
        const trainA = await read(() =>
          model.forward(x, { training: true, seed: 1 })
        );
        const trainB = await read(() =>
          model.forward(x, { training: true, seed: 1 })
        );
        const trainC = await read(() =>
          model.forward(x, { training: true, seed: 2 })
        );
        assert.deepEqual(evalA, evalB);
        assert.deepEqual(trainA, trainB);
        assert.notDeepEqual(trainA, evalA);
        assert.notDeepEqual(trainA, trainC);
        x.dispose();
      },
    );
  }
  await withModel(
    { architecture: "r_lstm", steps: 4, keepProb: 1 },
    async (model) => {
      const x = input(model, 2);
      // Training runs the fused recurrence (float64 cell arithmetic in
      // JavaScript): equal up to rounding, not bit for bit.
      assertClose(
        await read(() => model.forward(x, { training: true })),
        await read(() => model.forward(x)),
        1e-5,
        1e-6,
      );
      x.dispose();
    },
  );
});

Deno.test("RnnModel.forward() uses the caller's ReLU everywhere and can zero gate gradients", async () => {
  await withModel({ architecture: "conv_r_lstm", steps: 4 }, async (model) => {
    const x = input(model, 2);
    let calls = 0;
    const relu = (z: tf.Tensor) => {
      calls++;
      return tf.relu(z);
    };
    assert.deepEqual(
      await read(() => model.forward(x, { relu })),
      await read(() => model.forward(x)),
    );
    // conv1, conv2, in1 once (batched over steps) and the candidate at each of 4 steps.
    assert.equal(calls, 3 + 4);
    const gateBias = model.parameters.get("lstm.gate_bias")!;
    const grad = (gateGradient: "keep" | "zero") =>
      tf.variableGrads(() => tf.sum(model.forward(x, { gateGradient })), [
        gateBias,
      ]);
    const keep = grad("keep");
    const zero = grad("zero");
    assert.ok(
      (await read(() => tf.abs(keep.grads[gateBias.name]!).max()))[0]! > 0,
    );
    assert.deepEqual(
      Array.from(await zero.grads[gateBias.name]!.data()),
      new Array(3 * 96).fill(0),
    );
    assert.deepEqual(await keep.value.data(), await zero.value.data());
    tf.dispose([
      x,
      keep.value,
      zero.value,
      ...Object.values(keep.grads),
      ...Object.values(zero.grads),
    ]);
  });
});

Deno.test("RnnModel.forward() skips the input gradient when asked", async () => {
  await withModel({ architecture: "deep", steps: 4 }, async (model) => {
    const x = input(model, 2);
    const dx = tf.grad((v: tf.Tensor) =>
      tf.sum(model.forward(v as tf.Tensor3D, { inputGradient: false }))
    )(x);
    assert.equal((await read(() => tf.abs(dx).max()))[0], 0);
    tf.dispose([x, dx]);
  });
});

Deno.test("RnnModel.forward() throws RangeError for a wrong input shape", async () => {
  await withModel({ architecture: "shallow", steps: 4 }, (model) => {
    const x = tf.zeros([2, 3, 196]) as tf.Tensor3D;
    assert.throws(
      () => model.forward(x),
      /Cannot run model: input shape is \[2, 3, 196\], expected \[N, 4, 196\]/,
    );
    x.dispose();
  });
});

Deno.test("RnnModel.trace() records every layer's inputs and outputs at every step", async (t) => {
  for (const architecture of ARCHITECTURES) {
    await t.step(architecture, async () => {
      await withModel({ architecture, steps: 4 }, async (model) => {
        const x = input(model, 3);
        const trace = model.trace(x);
        const logits = model.forward(x);
        assert.deepEqual(await trace.logits.data(), await logits.data());
        assert.equal(trace.steps.length, 4);
        const g = model.graph;
        for (const step of trace.steps) {
          for (const layer of g.stepLayers) {
            const names = layer.kind === "lstm"
              ? [
                ...layer.inputs.map((i) => i.from),
                layer.cellInput,
                ...Object.values(layer.outputs),
              ]
              : layer.kind === "pool" || layer.kind === "reshape"
              ? [layer.input, layer.output]
              : [...layer.inputs.map((i) => i.from), layer.output];
            for (const name of names) {
              assert.deepEqual(
                step[name]?.shape,
                [3, ...g.shapes[name]!],
                `${layer.name}: ${name}`,
              );
            }
          }
        }
        for (const layer of g.headLayers) {
          assert.deepEqual(trace.head[layer.output]!.shape, [
            3,
            ...g.shapes[layer.output]!,
          ]);
        }
        // States at t are the sources at t − 1, zeros at t = 0.
        for (const state of g.states) {
          assert.equal(
            (await read(() => tf.abs(trace.steps[0]![state.name]!).max()))[0],
            0,
          );
          assert.deepEqual(
            await trace.steps[2]![state.name]!.data(),
            await trace.steps[1]![state.source]!.data(),
          );
        }
        // The input is the step's slice.
        assert.deepEqual(
          await trace.steps[3]!.x!.data(),
          await read(() =>
            tf.squeeze(tf.slice(x, [0, 3, 0], [3, 1, 196]), [1])
          ),
        );
        disposeTrace(trace);
        tf.dispose([x, logits]);
      });
    });
  }
});

Deno.test("RnnModel.trace() keeps static activations time-major with batchStatics", async (t) => {
  for (const architecture of ARCHITECTURES) {
    await t.step(architecture, async () => {
      await withModel({ architecture, steps: 4 }, async (model) => {
        const x = input(model, 3);
        const plain = model.trace(x);
        const batched = model.trace(x, { batchStatics: true });
        try {
          assert.deepEqual(
            await batched.logits.data(),
            await plain.logits.data(),
          );
          const g = model.graph;
          const names = Object.keys(batched.statics);
          assert.ok(names.includes("x"));
          for (const name of names) {
            // Rows t·N … (t+1)·N − 1 are step t of the plain trace.
            const stacked = await read(() =>
              tf.concat(plain.steps.map((s) => s[name]!), 0)
            );
            assert.deepEqual(
              batched.statics[name]!.shape,
              [12, ...g.shapes[name]!],
            );
            assert.deepEqual(await batched.statics[name]!.data(), stacked);
          }
          // Steps keep what the recurrent layers read, identical to the plain trace.
          for (const [name, value] of Object.entries(batched.steps[2]!)) {
            assert.deepEqual(
              await value.data(),
              await plain.steps[2]![name]!.data(),
              name,
            );
          }
          assert.deepEqual(plain.statics, {});
          if (architecture === "conv_r_lstm") {
            // The front end is read by no recurrent layer: not split.
            assert.equal(batched.steps[0]!.conv1, undefined);
          }
        } finally {
          disposeTrace(plain);
          disposeTrace(batched);
          x.dispose();
        }
      });
    });
  }
});

Deno.test("RnnModel.trace() exposes an R-LSTM cell that follows its equations", async () => {
  await withModel({ architecture: "r_lstm", steps: 4 }, async (model) => {
    const x = input(model, 3);
    const trace = model.trace(x);
    for (let t = 0; t < 4; t++) {
      const s = trace.steps[t]!;
      assertClose(
        await s.c!.data(),
        await read(() => tf.add(tf.mul(s.i!, s.g!), tf.mul(s.f!, s.c_prev!))),
      );
      assertClose(await s.h!.data(), await read(() => tf.mul(s.o!, s.c!)));
      assert.ok(
        (await read(() => tf.min(s.g!)))[0]! >= 0,
        "the candidate is a ReLU",
      );
    }
    disposeTrace(trace);
    x.dispose();
  });
});

Deno.test("RnnModel.layerWeights() returns slices and effective biases the caller owns", async () => {
  await withModel(
    { architecture: "conv_plus_r_lstm", steps: 4 },
    async (model) => {
      const lstm = model.layerWeights("lstm");
      assert.deepEqual(lstm.kernel.shape, [224, 384]);
      assert.deepEqual(lstm.inputKernels.map((k) => [k.from, k.kernel.shape]), [
        ["in1", [128, 384]],
        ["h_prev", [96, 384]],
      ]);
      const bias = await lstm.bias.data();
      assert.deepEqual(
        Array.from(bias.subarray(0, 288)),
        new Array(288).fill(0),
      );
      assertClose(bias.subarray(288), new Array(96).fill(-0.01));
      assert.deepEqual(lstm.gates!.g.kernel.shape, [224, 96]);
      assertClose(
        await lstm.gates!.g.kernel.data(),
        await read(() => tf.slice(lstm.kernel, [0, 288], [224, 96])),
      );
      const conv1 = model.layerWeights("conv1");
      assert.deepEqual(
        conv1.inputKernels.map((k) => [k.from, k.kernel.shape]),
        [
          ["x_image", [5, 5, 1, 24]],
          ["conv1_prev", [5, 5, 24, 24]],
        ],
      );
      assertClose(await conv1.bias.data(), new Array(24).fill(-0.01));
      assert.throws(() => model.layerWeights("pool1"), /a pool layer has none/);
      assert.throws(() => model.layerWeights("nope"), RangeError);
      for (const w of [lstm, conv1]) {
        tf.dispose([w.kernel, w.bias, ...w.inputKernels.map((k) => k.kernel)]);
        if (w.gates) {
          tf.dispose(
            Object.values(w.gates).flatMap((g) => [g.kernel, g.bias]),
          );
        }
      }
    },
  );
  await withModel({ architecture: "deep", bias: "none" }, async (model) => {
    const w = model.layerWeights("hidden");
    assert.deepEqual(Array.from(await w.bias.data()), new Array(128).fill(0));
    tf.dispose([w.kernel, w.bias, ...w.inputKernels.map((k) => k.kernel)]);
  });
});

Deno.test("createModel() initialises seeded truncated normals and softplus biases", async () => {
  await withoutLeaks(async () => {
    const spec = createSpec({ architecture: "deep", steps: 4 });
    const [model, again, other] = [1, 1, 2].map((seed) =>
      createModel(spec, { seed })
    ) as [RnnModel, RnnModel, RnnModel];
    try {
      const kernel = await model.parameters.get("in1.kernel")!
        .data() as Float32Array;
      const sigma = 1 / Math.sqrt(196);
      assert.ok(
        kernel.every((v) => Math.abs(v) <= 2 * sigma + 1e-7),
        "truncated at 2σ",
      );
      const std = Math.sqrt(
        kernel.reduce((a, v) => a + v * v, 0) / kernel.length,
      );
      // A normal truncated at ±2σ has standard deviation ≈ 0.88σ.
      assert.ok(Math.abs(std / sigma - 0.88) < 0.02, `std ${std / sigma}σ`);
      const bias = await model.parameters.get("in1.bias")!
        .data() as Float32Array;
      assert.ok(bias.every((v) => Math.abs(v - SOFTPLUS_BIAS_INIT) < 1e-6));
      const hidden = (m: RnnModel) => m.parameters.get("hidden.kernel")!.data();
      assert.deepEqual(await hidden(again), await hidden(model));
      assert.notDeepEqual(await hidden(other), await hidden(model));
    } finally {
      for (const m of [model, again, other]) m.dispose();
    }
  });
});

Deno.test("RnnModel.exportWeights() and importWeights() round-trip bit-identically", async () => {
  await withModel({ architecture: "conv_r_lstm", steps: 4 }, async (model) => {
    const weights = await model.exportWeights();
    const copy = createModel(model.spec, { weights });
    const other = createModel(model.spec, { seed: 3 });
    other.importWeights(weights);
    const x = input(model, 2);
    const expected = await read(() => model.forward(x));
    assert.deepEqual(await read(() => copy.forward(x)), expected);
    assert.deepEqual(await read(() => other.forward(x)), expected);
    copy.dispose();
    other.dispose();
    x.dispose();
  });
});

Deno.test("RnnModel.importWeights() throws RangeError listing every mismatch", async () => {
  await withModel({ architecture: "shallow", steps: 4 }, async (model) => {
    const weights = { ...(await model.exportWeights()) } as Record<
      string,
      { shape: readonly number[]; data: Float32Array }
    >;
    delete weights["out.bias"];
    weights["hidden.kernel"] = { shape: [3], data: new Float32Array(3) };
    weights["extra"] = { shape: [1], data: new Float32Array(1) };
    assert.throws(
      () => model.importWeights(weights),
      /unexpected tensor "extra"; tensor "hidden.kernel" has shape \[3\], expected \[452×256\]; missing tensor "out.bias"/,
    );
    assert.throws(
      () => createModel(model.spec, { weights }),
      /Cannot create model from weights/,
    );
  });
});

Deno.test("RnnModel.dispose() frees every variable and is idempotent", async () => {
  await withoutLeaks(() => {
    const model = createModel(
      createSpec({ architecture: "conv_plus_deep" as Architecture }),
    );
    assert.equal(model.parameterCount(), 175418);
    model.dispose();
    model.dispose();
    assert.ok(model.disposed);
    assert.throws(() => model.parameters, /Cannot use model: it was disposed/);
  });
});

Deno.test("RnnModel.trace() keeps the static layers' linear parts W·x with linearOutputs", async (t) => {
  for (const architecture of ["r_lstm", "conv_r_lstm"] as const) {
    await t.step(architecture, async () => {
      await withModel({ architecture, steps: 3 }, async (model) => {
        const x = input(model, 2);
        const trace = model.trace(x, {
          batchStatics: true,
          linearOutputs: true,
        });
        try {
          const statics = staticActivations(model.graph);
          let checked = 0;
          for (const layer of model.graph.stepLayers) {
            if (layer.kind !== "dense" && layer.kind !== "conv") continue;
            if (!statics.has(layer.output)) continue;
            const linear = trace.statics[linearOutputName(layer.output)];
            assert.ok(linear !== undefined, layer.name);
            const input = trace.statics[layer.inputs[0]!.from]!;
            const w = model.layerWeights(layer.name);
            try {
              const expected = await read(() =>
                layer.kind === "conv"
                  ? tf.conv2d(
                    input as tf.Tensor4D,
                    w.kernel as tf.Tensor4D,
                    1,
                    "same",
                  )
                  : tf.matMul(input as tf.Tensor2D, w.kernel as tf.Tensor2D)
              );
              assertClose(await linear.data(), expected);
              // relu(W·x + b) is the layer's activation.
              assertClose(
                await read(() => tf.relu(tf.add(linear, w.bias))),
                await trace.statics[layer.output]!.data(),
              );
            } finally {
              tf.dispose([
                w.kernel,
                w.bias,
                ...w.inputKernels.map((k) => k.kernel),
              ]);
            }
            checked++;
          }
          assert.equal(checked, architecture === "r_lstm" ? 1 : 3);
        } finally {
          disposeTrace(trace);
          x.dispose();
        }
      });
    });
  }
});
