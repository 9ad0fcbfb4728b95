import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { convContribution } from "./conv2d.ts";
import { initBackend } from "../../backend.ts";
import {
  BLAS_BACKEND,
  BlasUnavailableError,
  registerBlasBackend,
} from "../../kernels/blas/mod.ts";
import { assertClose, uniformArray, withoutLeaks } from "../_testing.ts";

async function read(f: () => tf.Tensor): Promise<Float32Array> {
  const t = tf.tidy(f);
  try {
    return await t.data() as Float32Array;
  } finally {
    t.dispose();
  }
}

// Every backend with its own gradient forms: cpu and wasm take the
// flipped-kernel and VALID-convolution forms, blas (when OpenBLAS is
// present) goes over image rows for these narrow images.
const BACKENDS = ["cpu", "wasm"];
await initBackend("wasm");
try {
  registerBlasBackend();
  BACKENDS.push(BLAS_BACKEND);
} catch (err) {
  if (!(err instanceof BlasUnavailableError)) throw err;
  // deno-lint-ignore no-console
  console.warn(`convContribution() not tested on blas: ${err.message}`);
}

Deno.test("convContribution() equals tf.conv2d and its gradients", async (t) => {
  for (
    const [backend, [h, w, cin, cout, k]] of BACKENDS.flatMap((b) =>
      [[28, 7, 1, 4, 5], [14, 4, 6, 5, 3], [7, 3, 2, 3, 5], [9, 11, 2, 3, 3]]
        .map((g) => [b, g] as const)
    )
  ) {
    await t.step(
      `${backend}: ${h}×${w}×${cin} → ${cout}, ${k}×${k}`,
      async () => {
        await tf.setBackend(backend);
        await withoutLeaks(async () => {
          const x = tf.tensor4d(uniformArray(1, 3 * h! * w! * cin!), [
            3,
            h!,
            w!,
            cin!,
          ]);
          const kernel = tf.tensor4d(uniformArray(2, k! * k! * cin! * cout!), [
            k!,
            k!,
            cin!,
            cout!,
          ]);
          const dy = tf.tensor4d(uniformArray(3, 3 * h! * w! * cout!), [
            3,
            h!,
            w!,
            cout!,
          ]);
          const loss =
            (f: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor4D) =>
            (a: tf.Tensor, b: tf.Tensor) =>
              tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D), dy));
          const ours = (a: tf.Tensor4D, b: tf.Tensor4D) =>
            convContribution(a, b);
          const stock = (a: tf.Tensor4D, b: tf.Tensor4D) =>
            tf.conv2d(a, b, 1, "same");
          assertClose(
            await read(() => ours(x, kernel)),
            await read(() => stock(x, kernel)),
          );
          for (const i of [0, 1]) {
            const got = await read(() => tf.grads(loss(ours))([x, kernel])[i]!);
            const want = await read(() =>
              tf.grads(loss(stock))([x, kernel])[i]!
            );
            assertClose(got, want, 1e-4, 1e-4);
          }
          const noInput = await read(() =>
            tf.grads((a: tf.Tensor, b: tf.Tensor) =>
              tf.sum(
                tf.mul(
                  convContribution(a as tf.Tensor4D, b as tf.Tensor4D, {
                    inputGradient: false,
                  }),
                  dy,
                ),
              )
            )([x, kernel])[0]!
          );
          assert.ok(noInput.every((v) => v === 0));
          tf.dispose([x, kernel, dy]);
        });
      },
    );
  }
});
