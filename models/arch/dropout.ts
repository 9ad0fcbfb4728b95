/**
 * Seeded inverted dropout for recurrent networks (thesis-code §1.5).
 *
 * - **Naive**: a fresh mask at every step and every use, like `tf.nn.dropout`.
 * - **Stationary** (Gal & Ghahramani 2016; the thesis's "-SD" models): one
 *   mask of shape (batch, units) sampled at the first step and reused at every
 *   later step, so each sequence keeps the same units dropped.
 *
 * A kept unit is scaled by 1/keepProb; entries are floor(keep + U[0, 1)).
 * Masks are drawn in JavaScript from streams derived from (seed, site, step,
 * use), so they do not depend on the backend, and a mask for step t is the
 * same whether the step runs alone or inside a batch of all steps.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { DropoutSite } from "./graph.ts";
import { createUniform, deriveSeed } from "../_random.ts";

/** Where in the sequence a tensor lives. */
export type DropoutAt =
  /** One step: the tensor's first dimension is the batch. */
  | { readonly step: number }
  /**
   * All steps at once: the first dimension is steps·batch, time-major
   * (rows [t·batch, (t+1)·batch) belong to step t).
   */
  | { readonly steps: number };

/** Options of {@linkcode DropoutSampler}. */
export interface DropoutSamplerOptions {
  /** Probability of keeping a unit, in (0, 1]. */
  keepProb: number;
  /** Seed of every mask drawn by this sampler. */
  seed: number;
}

/**
 * Applies dropout at the sites of one forward pass. Create one sampler per
 * forward pass; it caches stationary masks for that pass only.
 */
export class DropoutSampler {
  #sites: Map<string, { index: number; mode: DropoutSite["mode"] }>;
  #keep: number;
  #seed: number;
  #uses = new Map<string, number>();
  #stationary = new Map<string, Float32Array>();

  /**
   * @param sites the graph's dropout sites
   * @param options keep probability and seed
   * @throws {RangeError} if keepProb is not in (0, 1]
   */
  constructor(sites: readonly DropoutSite[], options: DropoutSamplerOptions) {
    if (!(options.keepProb > 0 && options.keepProb <= 1)) {
      throw new RangeError(
        `Cannot create dropout sampler: keepProb must be in (0, 1]: got ${options.keepProb}`,
      );
    }
    this.#sites = new Map(
      sites.map((s, index) => [s.id, { index, mode: s.mode }]),
    );
    this.#keep = options.keepProb;
    this.#seed = options.seed;
  }

  /**
   * Multiplies `x` by the site's mask (already scaled by 1/keepProb).
   *
   * @param site the dropout site id
   * @param x activations, [batch, ...units] or [steps·batch, ...units]
   * @param at the step, or the number of steps batched in `x`
   * @returns the dropped activations; caller owns the returned tensor
   * @throws {RangeError} if the site is unknown or the batch does not divide
   */
  apply(site: string, x: tf.Tensor, at: DropoutAt): tf.Tensor {
    const mask = this.mask(site, x.shape, at);
    return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, "float32")));
  }

  /**
   * Returns the mask values `apply` would use (0 or 1/keepProb), row-major.
   *
   * @param site the dropout site id
   * @param shape the activations' shape
   * @param at the step, or the number of steps batched
   * @returns the mask
   * @throws {RangeError} if the site is unknown or the batch does not divide
   */
  mask(site: string, shape: readonly number[], at: DropoutAt): Float32Array {
    const info = this.#sites.get(site);
    if (info === undefined) {
      throw new RangeError(`Cannot apply dropout: unknown site "${site}"`);
    }
    const steps = "steps" in at ? at.steps : 1;
    const first = "steps" in at ? 0 : at.step;
    const rows = shape[0] ?? 0;
    if (rows % steps !== 0) {
      throw new RangeError(
        `Cannot apply dropout at "${site}": ${rows} rows do not split into ${steps} steps`,
      );
    }
    const block = (rows / steps) * shape.slice(1).reduce((a, d) => a * d, 1);
    const out = new Float32Array(block * steps);
    for (let s = 0; s < steps; s++) {
      out.set(this.#block(site, info, first + s, block), s * block);
    }
    return out;
  }

  #block(
    site: string,
    info: { index: number; mode: DropoutSite["mode"] },
    step: number,
    size: number,
  ): Float32Array {
    if (info.mode === "stationary") {
      const key = `${site}:${size}`;
      let mask = this.#stationary.get(key);
      if (mask === undefined) {
        mask = this.#draw(
          deriveSeed(this.#seed, info.index, "stationary"),
          size,
        );
        this.#stationary.set(key, mask);
      }
      return mask;
    }
    const useKey = `${site}:${step}`;
    const use = this.#uses.get(useKey) ?? 0;
    this.#uses.set(useKey, use + 1);
    return this.#draw(deriveSeed(this.#seed, info.index, step, use), size);
  }

  #draw(seed: number, size: number): Float32Array {
    const next = createUniform(seed);
    const threshold = 1 - this.#keep;
    const scale = 1 / this.#keep;
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = next() >= threshold ? scale : 0;
    return out;
  }
}
