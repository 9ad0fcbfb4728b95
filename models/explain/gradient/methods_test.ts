/**
 * Behaviour every gradient method shares: batching, chunking, streaming,
 * cancellation, targets, input validation, no leaks.
 */
import assert from "node:assert/strict";
import { initBackend } from "../../backend.ts";
import { OutOfRangeError, PreconditionError } from "../../errors.ts";
import type {
  ExplainInput,
  Explanation,
  MethodParams,
  StepRelevance,
} from "../explanation.ts";
import { assertClose, assertNoLeak } from "../_testing.ts";
import {
  type GradientOptions,
  gradientXInput,
  guidedBackprop,
  integratedGradients,
  sensitivity,
  smoothgrad,
} from "./mod.ts";
import { randomInput, tinyModel } from "./_testing.ts";

await initBackend("wasm");

type Method = (
  model: ReturnType<typeof tinyModel>,
  input: ExplainInput,
  options?: GradientOptions,
) => Promise<Explanation>;

const METHODS: [string, Method, MethodParams][] = [
  ["sensitivity", sensitivity, {}],
  ["guided_backprop", guidedBackprop, {}],
  ["gradient_x_input", gradientXInput, {}],
  ["integrated_gradients", integratedGradients, { steps: 3 }],
  ["smoothgrad", smoothgrad, { samples: 3 }],
];

/** Runs `body` for every method on a small R-LSTM, with a leak check. */
async function eachMethod(
  t: Deno.TestContext,
  body: (
    method: Method,
    params: MethodParams,
    model: ReturnType<typeof tinyModel>,
  ) => Promise<void>,
): Promise<void> {
  for (const [name, method, params] of METHODS) {
    await t.step(name, async () => {
      await assertNoLeak(async () => {
        const model = tinyModel("r_lstm", { steps: 4 });
        try {
          await body(method, params, model);
        } finally {
          model.dispose();
        }
      });
    });
  }
}

function sample(
  input: ExplainInput & { labels: Uint8Array },
  n: number,
): ExplainInput {
  const size = input.x.length / input.count;
  return {
    x: input.x.slice(n * size, (n + 1) * size),
    count: 1,
    labels: input.labels.slice(n, n + 1),
  };
}

Deno.test("gradient methods explain a batch as they explain each sample alone", async (t) => {
  await eachMethod(t, async (method, params, model) => {
    const input = randomInput(model, 3, 91);
    const batch = await method(model, input, { params });
    const size = input.x.length / 3;
    for (let n = 0; n < 3; n++) {
      const alone = await method(model, sample(input, n), { params });
      assertClose(
        batch.relevance.subarray(n * size, (n + 1) * size),
        alone.relevance,
        1e-5,
        `sample ${n}`,
      );
      assert.equal(
        batch.summaries[n]!.targetClass,
        alone.summaries[0]!.targetClass,
      );
      assertClose(
        [batch.summaries[n]!.targetLogit],
        [alone.summaries[0]!.targetLogit],
        1e-5,
        "logit",
      );
    }
    assert.ok(batch.relevance.some((v) => v !== 0), "relevance vanishes");
    // Chunking (one row per gradient computation) changes nothing either.
    const chunked = await method(model, input, { params, maxBatch: 1 });
    assertClose(chunked.relevance, batch.relevance, 1e-5, "maxBatch 1");
  });
});

Deno.test("gradient methods stream steps from T − 1 down to 0", async (t) => {
  await eachMethod(t, async (method, params, model) => {
    const input = randomInput(model, 2, 93);
    const seen: StepRelevance[] = [];
    const e = await method(model, input, {
      params,
      onStep: (s) => seen.push(s),
    });
    const { steps, rows, columns } = model.spec;
    const size = rows * columns;
    assert.deepEqual(seen.map((s) => s.step), [3, 2, 1, 0]);
    for (const s of seen) {
      assert.equal(s.relevance.length, 2 * size);
      for (let n = 0; n < 2; n++) {
        const offset = (n * steps + s.step) * size;
        assert.deepEqual(
          s.relevance.subarray(n * size, (n + 1) * size),
          e.relevance.subarray(offset, offset + size),
        );
        const sum = e.relevance.subarray(offset, offset + size).reduce(
          (a, v) => a + v,
          0,
        );
        assertClose([s.sums[n]!], [sum], 1e-5, "step sum");
      }
    }
    e.summaries.forEach((summary, n) => {
      const total = seen.reduce((a, s) => a + s.sums[n]!, 0);
      assertClose([summary.inputRelevance], [total], 1e-9, "input relevance");
    });
  });
});

Deno.test("gradient methods reject with the signal's reason when aborted, leaking nothing", async (t) => {
  await eachMethod(t, async (method, params, model) => {
    const input = randomInput(model, 2, 95);
    const reason = new Error("stop");
    // Aborted before the call: nothing is computed or streamed.
    const before = new AbortController();
    before.abort(reason);
    let streamed = 0;
    await assert.rejects(
      method(model, input, {
        params,
        signal: before.signal,
        onStep: () => streamed++,
      }),
      (err) => err === reason,
    );
    assert.equal(streamed, 0);
    // Aborted by the consumer of the first step: no further step is streamed.
    const during = new AbortController();
    const steps: number[] = [];
    await assert.rejects(
      method(model, input, {
        params,
        signal: during.signal,
        onStep: (s) => {
          steps.push(s.step);
          during.abort(reason);
        },
      }),
      (err) => err === reason,
    );
    assert.deepEqual(steps, [3]);
    // Aborted partway through the computation: with maxBatch 1 every sample
    // is its own chunk, each followed by a check; the third check throws.
    let checks = 0;
    const between = {
      aborted: false,
      throwIfAborted() {
        if (++checks === 3) throw reason;
      },
    } as unknown as AbortSignal;
    streamed = 0;
    await assert.rejects(
      method(model, input, {
        params,
        signal: between,
        maxBatch: 1,
        onStep: () => streamed++,
      }),
      (err) => err === reason,
    );
    assert.equal(checks, 3);
    assert.equal(streamed, 0);
  });
});

Deno.test("gradient methods resolve targets and refuse bad ones with typed errors", async (t) => {
  await eachMethod(t, async (method, params, model) => {
    const input = randomInput(model, 2, 97);
    await assert.rejects(
      method(model, { x: input.x, count: 2 }, { params }),
      PreconditionError,
    );
    await assert.rejects(
      method(model, input, { params, target: { kind: "class", index: 10 } }),
      OutOfRangeError,
    );
    const predicted = await method(model, { x: input.x, count: 2 }, {
      params,
      target: { kind: "predicted" },
    });
    for (const s of predicted.summaries) {
      assert.equal(s.targetClass, s.predictedClass);
    }
    const explicit = await method(model, input, {
      params,
      target: { kind: "class", index: 4 },
    });
    assert.deepEqual(explicit.summaries.map((s) => s.targetClass), [4, 4]);
  });
});

Deno.test("gradient methods throw RangeError for malformed input or options", async (t) => {
  await eachMethod(t, async (method, params, model) => {
    const input = randomInput(model, 2, 99);
    const size = input.x.length / 2;
    const bad: [ExplainInput, GradientOptions, RegExp][] = [
      [
        { ...input, count: 0 },
        { params },
        /count must be an integer ≥ 1: got 0/,
      ],
      [
        { ...input, count: 3 },
        { params },
        new RegExp(`x has ${2 * size} values, expected ${3 * size}`),
      ],
      [
        { ...input, x: input.x.map((v, i) => (i === 5 ? NaN : v)) },
        { params },
        /x\[5\] is not finite/,
      ],
      [input, { params, maxBatch: 0 }, /maxBatch must be an integer in \[1, /],
      [
        input,
        { params: { ...params, epsilon: 0.1 } },
        /"epsilon": method "[a-z_]+" does not use it/,
      ],
    ];
    for (const [i, o, message] of bad) {
      await assert.rejects(method(model, i, o), (err: unknown) => {
        assert.ok(err instanceof RangeError, String(err));
        assert.match(err.message, message);
        return true;
      });
    }
  });
});
