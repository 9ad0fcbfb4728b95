/**
 * A per-pass store of weight-derived tensors for the LRP engine.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Tensors derived from one layer's weight only (modified weights, stacked
 * and transposed weights), kept across the calls of one relevance pass
 * instead of being rebuilt at every time step. One cache serves one layer
 * with one rule and one weight; its owner disposes it.
 */
export class WeightCache {
  #entries = new Map<string, tf.Tensor>();

  /**
   * Returns the tensor stored under `key`, computing and keeping it on
   * first use (inside or outside a `tidy`).
   *
   * @param key a name unique within this layer's rule and the engine
   * @param make computes the tensor from the weight only
   * @returns the cached tensor; the cache owns it
   */
  get(key: string, make: () => tf.Tensor): tf.Tensor {
    let t = this.#entries.get(key);
    if (t === undefined) {
      t = tf.keep(make());
      this.#entries.set(key, t);
    }
    return t;
  }

  /** How many tensors the cache holds. */
  get size(): number {
    return this.#entries.size;
  }

  /** Disposes every cached tensor; the cache may be used again after. */
  dispose(): void {
    tf.dispose([...this.#entries.values()]);
    this.#entries.clear();
  }
}
