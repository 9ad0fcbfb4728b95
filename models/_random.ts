/**
 * Small deterministic random helpers shared by initialisation, dropout and
 * training: seeds derived by hashing, and a fast 32-bit generator. They run in
 * plain JavaScript, so their streams do not depend on the TensorFlow.js
 * backend.
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

/**
 * Derives an unsigned 32-bit seed from a base seed and a path of numbers or
 * strings, so that every (site, step, use) gets its own independent stream.
 *
 * @param seed the base seed (any finite number; its low 32 bits are used)
 * @param parts the path that names the stream
 * @returns a seed in [0, 2^32)
 */
export function deriveSeed(
  seed: number,
  ...parts: readonly (number | string)[]
): number {
  let h = mix32((seed >>> 0) ^ 0x9e3779b9);
  for (const part of parts) {
    if (typeof part === "number") {
      h = mix32(h ^ mix32((part >>> 0) + 0x7f4a7c15));
    } else {
      for (let i = 0; i < part.length; i++) {
        h = mix32(h ^ (part.charCodeAt(i) + 0x632be5ab));
      }
      h = mix32(h ^ part.length);
    }
  }
  return h;
}

/**
 * Returns a generator of uniform numbers in [0, 1) (mulberry32).
 *
 * @param seed the stream's seed
 * @returns a function that yields the next number on every call
 */
export function createUniform(seed: number): () => number {
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
 * Returns a seeded random permutation of 0 … n−1 (Fisher–Yates).
 *
 * @param n the length
 * @param seed the stream's seed
 * @returns the permutation
 */
export function permutation(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  const next = createUniform(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const tmp = out[i];
    out[i] = out[j];
    out[j] = tmp;
  }
  return out;
}
