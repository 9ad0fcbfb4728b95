/**
 * A worker's bounded cache of loaded models. Requests for the same key share
 * one load and one copy; the least recently used entries are evicted past
 * the bound and disposed, but never while a task still holds them: an entry
 * evicted in use is disposed when its last lease is released.
 *
 * @module
 */

/** Something with an owner who must free it. */
export interface DisposableValue {
  /** Frees the value; called once, when evicted and unused. */
  dispose(): void;
}

/** A use of a cached value; release it when the task is done. */
export interface Lease<T> {
  /** The cached value. */
  readonly value: T;
  /** Ends this use. Idempotent. */
  release(): void;
}

interface Entry<T extends DisposableValue> {
  key: string;
  loading: Promise<T>;
  value?: T;
  leases: number;
  evicted: boolean;
}

/** Options of {@linkcode ModelCache}. */
export interface ModelCacheOptions {
  /**
   * Entries kept (in use ones can exceed it until released).
   * @default 4
   */
  capacity?: number;
}

/** A bounded least-recently-used cache of disposable values with leases. */
export class ModelCache<T extends DisposableValue> {
  #capacity: number;
  /** Map order is recency order: the first key is the least recently used. */
  #entries = new Map<string, Entry<T>>();

  /**
   * @param options the capacity
   * @throws {RangeError} if the capacity is not a positive integer
   */
  constructor(options: ModelCacheOptions = {}) {
    const capacity = options.capacity ?? 4;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Cannot create model cache: capacity must be an integer ≥ 1: got ${capacity}`,
      );
    }
    this.#capacity = capacity;
  }

  /** Keys of the loaded entries, least recently used first. */
  keys(): string[] {
    return [...this.#entries.values()].filter((e) => e.value !== undefined)
      .map((e) => e.key);
  }

  /**
   * Returns a lease on the value for `key`, loading it once if absent.
   * Concurrent calls for one key share the load; a failed load is not
   * cached, and every waiting call rejects with its error.
   *
   * @param key the cache key
   * @param load produces the value (the cache owns it from then on)
   * @returns a lease; release it when done
   */
  async acquire(key: string, load: () => Promise<T>): Promise<Lease<T>> {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const created: Entry<T> = {
        key,
        loading: load(),
        leases: 0,
        evicted: false,
      };
      entry = created;
      this.#entries.set(key, created);
      created.loading.then(
        (value) => {
          created.value = value;
          if (created.evicted && created.leases === 0) value.dispose();
        },
        () => {
          if (this.#entries.get(key) === created) this.#entries.delete(key);
        },
      );
    } else {
      // Refresh recency.
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    entry.leases++;
    let value: T;
    try {
      value = await entry.loading;
    } catch (err) {
      entry.leases--;
      throw err;
    }
    this.#trim();
    return this.#lease(entry, value);
  }

  /**
   * Evicts every entry whose key starts with `prefix` (e.g. `"m1@"` for all
   * versions of model m1); in-use entries are disposed on release.
   *
   * @param prefix the key prefix
   * @returns the number of entries evicted
   */
  evict(prefix: string): number {
    let evicted = 0;
    for (const entry of [...this.#entries.values()]) {
      if (entry.key.startsWith(prefix)) {
        this.#drop(entry);
        evicted++;
      }
    }
    return evicted;
  }

  /** Evicts everything (disposing unused entries now, in-use ones on release). */
  clear(): void {
    for (const entry of [...this.#entries.values()]) this.#drop(entry);
  }

  #lease(entry: Entry<T>, value: T): Lease<T> {
    let released = false;
    return {
      value,
      release: () => {
        if (released) return;
        released = true;
        entry.leases--;
        if (entry.evicted && entry.leases === 0) value.dispose();
        else this.#trim();
      },
    };
  }

  #drop(entry: Entry<T>): void {
    this.#entries.delete(entry.key);
    entry.evicted = true;
    if (entry.leases === 0 && entry.value !== undefined) entry.value.dispose();
  }

  #trim(): void {
    for (const entry of [...this.#entries.values()]) {
      if (this.#entries.size <= this.#capacity) return;
      if (entry.leases === 0 && entry.value !== undefined) this.#drop(entry);
    }
  }
}
