/**
 * The one seeded pseudo-random generator of the data pipeline, so that the
 * same seed always gives the same composites, shuffles and folds on every
 * platform and backend.
 *
 * The generator is xoshiro128** (Blackman and Vigna, 2018): 128 bits of
 * state, period 2^128 − 1, 32-bit outputs. Its state is filled from the
 * 32-bit seed with SplitMix32 (the 32-bit variant of Steele, Lea and
 * Flood's SplitMix, with Wellons's "hash prospector" finaliser constants
 * 0x21f0aaad and 0x735a2d97), which also derives child seeds in
 * {@linkcode deriveSeed}. Everything is integer arithmetic on 32-bit words
 * (`Math.imul`, shifts), so results are bit-identical across engines.
 *
 * @module
 */

const UINT32_RANGE = 0x1_0000_0000;
const GOLDEN_GAMMA = 0x9e3779b9;

/** Throws a RangeError unless `seed` is an integer in [0, 2^32 − 1]. */
function checkSeed(seed: number, what: string): void {
  if (!Number.isInteger(seed) || seed < 0 || seed >= UINT32_RANGE) {
    throw new RangeError(
      `Cannot ${what}: seed must be an integer in [0, 4294967295], found ${seed}`,
    );
  }
}

/** The SplitMix32 finaliser: a bijective 32-bit mix. */
function mix32(value: number): number {
  let z = value | 0;
  z ^= z >>> 16;
  z = Math.imul(z, 0x21f0aaad);
  z ^= z >>> 15;
  z = Math.imul(z, 0x735a2d97);
  z ^= z >>> 15;
  return z >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Derives an independent child seed from a seed and a stream number, for
 * example one seed per split or per fold part.
 *
 * @param seed Parent seed, an integer in [0, 2^32 − 1].
 * @param stream Stream number, an integer in [0, 2^32 − 1].
 * @returns A seed in [0, 2^32 − 1]; equal inputs give equal outputs.
 * @throws {RangeError} if `seed` or `stream` is not an integer in range.
 *
 * @example
 * ```ts
 * const trainSeed = deriveSeed(7, 0);
 * const testSeed = deriveSeed(7, 1);
 * ```
 */
export function deriveSeed(seed: number, stream: number): number {
  checkSeed(seed, "derive a seed");
  checkSeed(stream, "derive a seed from a stream");
  return mix32(mix32(seed + GOLDEN_GAMMA) ^ mix32(stream + 2 * GOLDEN_GAMMA));
}

/**
 * A seeded xoshiro128** generator. Same seed, same sequence.
 *
 * @example
 * ```ts
 * const random = new Random(42);
 * const die = random.int(6) + 1;
 * ```
 */
export class Random {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /**
   * @param seed An integer in [0, 2^32 − 1].
   * @throws {RangeError} if `seed` is not an integer in that range.
   */
  constructor(seed: number) {
    checkSeed(seed, "seed random generator");
    let state = seed;
    const next = (): number => {
      state = (state + GOLDEN_GAMMA) >>> 0;
      return mix32(state);
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
    // SplitMix32 is a bijection of distinct states, so the four words are
    // never all zero; the all-zero state would be a fixed point of xoshiro.
  }

  /** The next 32-bit unsigned integer, uniform in [0, 2^32 − 1]. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** A float uniform in [0, 1), with 32 random bits. */
  next(): number {
    return this.nextUint32() / UINT32_RANGE;
  }

  /**
   * An integer uniform in [0, n), without modulo bias (rejection sampling).
   *
   * @param n Number of outcomes, an integer in [1, 2^32].
   * @throws {RangeError} if `n` is not an integer in that range.
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > UINT32_RANGE) {
      throw new RangeError(
        `Cannot draw a random integer: n must be an integer in [1, 4294967296], found ${n}`,
      );
    }
    // Largest multiple of n not above 2^32: values at or past it are redrawn.
    const limit = UINT32_RANGE - (UINT32_RANGE % n);
    let value = this.nextUint32();
    while (value >= limit) value = this.nextUint32();
    return value % n;
  }

  /**
   * Shuffles `values` in place with Fisher–Yates (from the last index down)
   * and returns it.
   */
  shuffle<T extends { [index: number]: number; length: number }>(
    values: T,
  ): T {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = values[i]!;
      values[i] = values[j]!;
      values[j] = tmp;
    }
    return values;
  }

  /** A uniformly random permutation of 0, 1, …, n − 1. */
  permutation(n: number): Uint32Array {
    const values = new Uint32Array(n);
    for (let i = 0; i < n; i++) values[i] = i;
    return this.shuffle(values);
  }
}
