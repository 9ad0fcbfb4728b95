import assert from "node:assert/strict";
import { ModelCache } from "./model_cache.ts";

class Fake {
  disposed = 0;
  constructor(readonly name: string) {}
  dispose(): void {
    this.disposed++;
  }
}

function loader(loads: string[], name: string): () => Promise<Fake> {
  return () => {
    loads.push(name);
    return Promise.resolve(new Fake(name));
  };
}

Deno.test("ModelCache.acquire() shares one load between concurrent requests", async () => {
  const cache = new ModelCache<Fake>();
  const loads: string[] = [];
  const [a, b] = await Promise.all([
    cache.acquire("m@1", loader(loads, "m")),
    cache.acquire("m@1", loader(loads, "m")),
  ]);
  assert.equal(a.value, b.value);
  assert.deepEqual(loads, ["m"]);
  a.release();
  b.release();
  const c = await cache.acquire("m@1", loader(loads, "m"));
  assert.equal(c.value, a.value);
  assert.deepEqual(loads, ["m"]);
  c.release();
});

Deno.test("ModelCache evicts the least recently used entry past its capacity and disposes it", async () => {
  const cache = new ModelCache<Fake>({ capacity: 2 });
  const loads: string[] = [];
  const a = await cache.acquire("a", loader(loads, "a"));
  a.release();
  const b = await cache.acquire("b", loader(loads, "b"));
  b.release();
  (await cache.acquire("a", loader(loads, "a"))).release(); // a is now the most recent
  const c = await cache.acquire("c", loader(loads, "c"));
  c.release();
  assert.deepEqual(cache.keys(), ["a", "c"]);
  assert.deepEqual([a.value.disposed, b.value.disposed, c.value.disposed], [
    0,
    1,
    0,
  ]);
  assert.deepEqual(loads, ["a", "b", "c"]);
});

Deno.test("ModelCache never disposes an entry while a lease holds it", async () => {
  const cache = new ModelCache<Fake>({ capacity: 1 });
  const loads: string[] = [];
  const a = await cache.acquire("a", loader(loads, "a"));
  const b = await cache.acquire("b", loader(loads, "b"));
  // Over capacity, but a is in use.
  assert.equal(a.value.disposed, 0);
  a.release();
  a.release(); // idempotent
  assert.equal(a.value.disposed, 1);
  assert.equal(cache.evict("b"), 1);
  assert.equal(b.value.disposed, 0);
  b.release();
  assert.equal(b.value.disposed, 1);
  assert.deepEqual(cache.keys(), []);
});

Deno.test("ModelCache.evict() drops every version of a model by prefix", async () => {
  const cache = new ModelCache<Fake>();
  const loads: string[] = [];
  for (const key of ["m1@aa", "m1@bb", "m10@aa"]) {
    (await cache.acquire(key, loader(loads, key))).release();
  }
  assert.equal(cache.evict("m1@"), 2);
  assert.deepEqual(cache.keys(), ["m10@aa"]);
  cache.clear();
  assert.deepEqual(cache.keys(), []);
});

Deno.test("ModelCache.acquire() does not cache a failed load", async () => {
  const cache = new ModelCache<Fake>();
  const failing = () => Promise.reject(new RangeError("bad"));
  await assert.rejects(cache.acquire("x", failing), RangeError);
  await assert.rejects(cache.acquire("x", failing), RangeError);
  const loads: string[] = [];
  const ok = await cache.acquire("x", loader(loads, "x"));
  assert.deepEqual(loads, ["x"]);
  ok.release();
});

Deno.test("ModelCache disposes a value evicted while it was still loading once its users release it", async () => {
  const cache = new ModelCache<Fake>();
  const { promise, resolve } = Promise.withResolvers<Fake>();
  const pending = cache.acquire("a", () => promise);
  assert.equal(cache.evict("a"), 1);
  const value = new Fake("a");
  resolve(value);
  const lease = await pending;
  assert.equal(value.disposed, 0);
  lease.release();
  assert.equal(value.disposed, 1);
});

Deno.test("ModelCache() throws RangeError for a capacity below 1", () => {
  assert.throws(
    () => new ModelCache({ capacity: 0 }),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot create model cache: capacity must be an integer ≥ 1: got 0",
  );
});
