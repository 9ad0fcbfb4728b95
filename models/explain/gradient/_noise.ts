/**
 * Seeded Gaussian noise for SmoothGrad, generated in plain JavaScript so that
 * the stream depends on (seed, sample index) only: not on the backend, the
 * batch a sample sits in, or how passes are chunked.
 *
 * @module
 */

import { createUniform, deriveSeed } from "../../_random.ts";

/**
 * The `index`-th noise draw of a SmoothGrad run: `size` independent
 * N(0, std²) values (Box–Muller), from a stream seeded by (seed, index).
 *
 * @param seed the run's seed (its low 32 bits are used)
 * @param index which noisy copy, 0-based
 * @param size number of values (T · rows · columns)
 * @param std standard deviation
 */
export function gaussianNoise(
  seed: number,
  index: number,
  size: number,
  std: number,
): Float32Array {
  const next = createUniform(deriveSeed(seed, index));
  const out = new Float32Array(size);
  for (let i = 0; i < size; i += 2) {
    const radius = std * Math.sqrt(-2 * Math.log(1 - next()));
    const angle = 2 * Math.PI * next();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < size) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}
