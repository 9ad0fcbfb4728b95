/**
 * Seeded Gaussian noise for SmoothGrad, generated in plain JavaScript so that
 * the stream depends on (seed, sample index) only: not on the backend, the
 * batch a sample sits in, or how passes are chunked.
 *
 * @module
 */

function mix32(h: number): number {
  // murmur3's finaliser: every input bit affects every output bit.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** mulberry32: a uniform generator on [0, 1). */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
  const next = uniform(mix32(mix32((seed >>> 0) ^ 0x9e3779b9) ^ index));
  const out = new Float32Array(size);
  for (let i = 0; i < size; i += 2) {
    const radius = std * Math.sqrt(-2 * Math.log(1 - next()));
    const angle = 2 * Math.PI * next();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < size) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}
