/**
 * The linear part of a convolution over channel-concatenated inputs, with a
 * backward pass built from fast kernels.
 *
 * The `wasm` backend of TensorFlow.js 4.22 has no `Conv2DBackpropFilter`
 * (a plain-JavaScript fallback is registered at start-up) and a slow
 * `Conv2DBackpropInput`; together they took ~90% of a ConvDeep training
 * step. For stride 1, SAME padding and odd kernels both gradients have fast
 * forms:
 * - dX = conv(dY, K'), K'[a, b, o, i] = K[kh−1−a, kw−1−b, i, o] (the padding
 *   is symmetric, so the adjoint is again a SAME convolution);
 * - dK as one VALID convolution of the transposed input with dY.
 *
 * On the `blas` backend, for the thesis models' narrow images, both go over
 * image rows instead (`../../kernels/band_conv.ts`, see `overRows`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { BLAS_BACKEND } from "../../kernels/blas/mod.ts";
import { bandKernelGradient, bandTranspose } from "../../kernels/band_conv.ts";

type GradArgs = (tf.Tensor | tf.GradSaveFunc)[];

/**
 * dK[a, b, i, o] = Σ_{n, y, x} X_pad[n, y + a, x + b, i] · dY[n, y, x, o],
 * computed as one VALID convolution that treats input channels as the batch
 * and the batch as channels (XNNPACK's fast path; measured 5–20× faster than
 * the registered fallback kernel).
 */
function kernelGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  kh: number,
  kw: number,
): tf.Tensor4D {
  const top = (kh - 1) / 2;
  const left = (kw - 1) / 2;
  const padded = tf.pad(x, [[0, 0], [top, top], [left, left], [0, 0]]);
  const images = tf.transpose(padded, [3, 1, 2, 0]) as tf.Tensor4D;
  const filters = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
  return tf.transpose(tf.conv2d(images, filters, 1, "valid"), [1, 2, 0, 3]);
}

/**
 * Whether both gradients go over image rows (`../../kernels/band_conv.ts`):
 * on the `blas` backend, whose convolutions are im2col and a GEMM only co
 * wide, for images at most twice the kernel's width (the thesis models' 7
 * and 4 columns). There a ConvR-LSTM training step's kernel gradients
 * took 31 and 24 ms and its input gradient 19 ms as stock convolutions;
 * over rows the whole step went from 190 to 138 ms (264 → 361 samples/s,
 * interleaved in one process). XNNPACK's direct convolutions on `wasm`
 * keep the stock forms.
 */
function overRows(width: number, kw: number): boolean {
  return tf.getBackend() === BLAS_BACKEND && width <= 2 * kw;
}

function gradients(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  dy: tf.Tensor4D,
  inputGradient: boolean,
): tf.Tensor[] {
  const [kh, kw] = kernel.shape;
  const rows = overRows(x.shape[2], kw);
  const flipped = () =>
    tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
  const dx = !inputGradient
    ? tf.zerosLike(x)
    : rows
    ? bandTranspose(dy, [flipped()])
    : tf.conv2d(dy, flipped(), 1, "same");
  return [
    dx,
    rows ? bandKernelGradient(x, dy, kh, kw) : kernelGradient(x, dy, kh, kw),
  ];
}

function convOp(inputGradient: boolean) {
  return tf.customGrad((...args: GradArgs) => {
    const [x, kernel, save] = args as [
      tf.Tensor4D,
      tf.Tensor4D,
      tf.GradSaveFunc,
    ];
    save([x, kernel]);
    return {
      value: tf.conv2d(x, kernel, 1, "same"),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sk] = saved as [tf.Tensor4D, tf.Tensor4D];
        return gradients(sx, sk, dy as tf.Tensor4D, inputGradient);
      },
    };
  }) as (x: tf.Tensor4D, kernel: tf.Tensor4D) => tf.Tensor4D;
}

const withBothGradients = convOp(true);
const withKernelGradient = convOp(false);

/**
 * Computes one input's contribution conv(a, K_a) to a stride-1, SAME-padded
 * convolution whose kernel's input channels follow its inputs in order (so
 * conv([a; b], K) = conv(a, K_a) + conv(b, K_b)).
 *
 * @param input activations, NHWC [batch, h, w, cin]
 * @param kernel the input channels of the kernel that belong to this input, [kh, kw, cin, filters]
 * @param options `inputGradient: false` when `input` is data whose gradient
 *   is never needed (it then reads as zero)
 * @returns [batch, h, w, filters]; caller owns the returned tensor
 */
export function convContribution(
  input: tf.Tensor4D,
  kernel: tf.Tensor4D,
  options: { inputGradient?: boolean } = {},
): tf.Tensor4D {
  const [kh, kw] = kernel.shape;
  if (kh % 2 === 0 || kw % 2 === 0) {
    // The fast adjoint needs symmetric padding; even kernels take the stock path.
    return tf.conv2d(input, kernel, 1, "same");
  }
  return options.inputGradient === false
    ? withKernelGradient(input, kernel)
    : withBothGradients(input, kernel);
}
