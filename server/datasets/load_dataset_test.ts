import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { encodeIdx, IdxFormatError, type ImageSet } from "../../models/mod.ts";
import { writeIdxDataset } from "./_testing.ts";
import { DatasetNotFoundError } from "./dataset_not_found_error.ts";
import { EMBEDDED_MNIST_SOURCE } from "./embedded_mnist.ts";
import {
  clearDatasetCache,
  type DatasetName,
  FASHION_MNIST_SYSTEM_DIR,
  IDX_FILE_NAMES,
  loadDataset,
} from "./load_dataset.ts";

const FASHION_MNIST_PRESENT = (() => {
  try {
    return Deno.statSync(
      join(FASHION_MNIST_SYSTEM_DIR, `${IDX_FILE_NAMES.trainImages}.gz`),
    ).isFile;
  } catch {
    return false;
  }
})();

async function withTempDir(
  body: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "load_dataset_test_" });
  try {
    await body(dir);
  } finally {
    clearDatasetCache();
    await Deno.remove(dir, { recursive: true });
  }
}

function classCounts(set: ImageSet): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const label of set.labels) counts[label]!++;
  return counts;
}

/** Every pixel is 2·p/255 − 1 for an integer p in [0, 255]. */
function assertOnPixelGrid(set: ImageSet): void {
  for (let i = 0; i < set.images.length; i++) {
    const p = Math.round((set.images[i]! + 1) * 127.5);
    if (p < 0 || p > 255 || set.images[i] !== Math.fround(2 * p / 255 - 1)) {
      assert.fail(`pixel ${i} is ${set.images[i]}, off the 2·p/255 − 1 grid`);
    }
  }
}

Deno.test("loadDataset() gives the 10,000 embedded MNIST digits by default", async () => {
  try {
    const { train, test, source } = await loadDataset("mnist");
    assert.equal(source, EMBEDDED_MNIST_SOURCE);
    assert.equal(train.count, 8000);
    assert.equal(test.count, 2000);
    for (const set of [train, test]) {
      assert.equal(set.height, 28);
      assert.equal(set.width, 28);
      assert.equal(set.images.length, set.count * 784);
      assertOnPixelGrid(set);
      // Background is −1 and strokes reach 1.
      let background = 0;
      for (const x of set.images) if (x === -1) background++;
      assert.ok(
        background > set.images.length / 2,
        `${background} background pixels`,
      );
      assert.ok(set.images.includes(1));
    }
    // Per-class totals of the npm package; the test set takes 1/5 of each.
    const totals = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
    const trainCounts = classCounts(train);
    const testCounts = classCounts(test);
    totals.forEach((total, c) => {
      assert.equal(trainCounts[c]! + testCounts[c]!, total);
      assert.ok(
        Math.abs(testCounts[c]! - total / 5) < 1,
        `class ${c}: ${testCounts[c]}`,
      );
    });
    // The split is pinned: changing it would silently change every result
    // trained on the embedded data.
    assert.deepEqual(Array.from(train.labels.subarray(0, 12)), [
      1,
      1,
      0,
      7,
      7,
      6,
      8,
      6,
      3,
      3,
      2,
      2,
    ]);
    assert.deepEqual(Array.from(test.labels.subarray(0, 12)), [
      7,
      3,
      2,
      2,
      2,
      4,
      4,
      4,
      0,
      8,
      5,
      3,
    ]);
    // Shuffled: the first 100 training digits are not all of one class.
    assert.ok(new Set(train.labels.subarray(0, 100)).size >= 8);
    // Cached per process: a second call gives the very same object.
    assert.equal(await loadDataset("mnist"), await loadDataset("mnist"));
  } finally {
    clearDatasetCache();
  }
});

Deno.test({
  name: "loadDataset() reads Debian's FashionMNIST: 60,000/10,000 28×28 images",
  ignore: !FASHION_MNIST_PRESENT,
  async fn() {
    try {
      const { train, test, source } = await loadDataset("fashion_mnist");
      assert.equal(source, FASHION_MNIST_SYSTEM_DIR);
      assert.equal(train.count, 60000);
      assert.equal(test.count, 10000);
      for (const set of [train, test]) {
        assert.equal(set.height, 28);
        assert.equal(set.width, 28);
        assert.equal(set.images.length, set.count * 784);
        assert.equal(set.labels.length, set.count);
        assert.ok(set.labels.every((label) => label < 10));
        let low = Infinity;
        let high = -Infinity;
        for (const x of set.images) {
          if (x < low) low = x;
          if (x > high) high = x;
        }
        assert.equal(low, -1);
        assert.equal(high, 1);
      }
      // FashionMNIST is balanced: 6,000 and 1,000 images per class.
      assert.deepEqual(classCounts(train), new Array(10).fill(6000));
      assert.deepEqual(classCounts(test), new Array(10).fill(1000));
    } finally {
      clearDatasetCache();
    }
  },
});

Deno.test("loadDataset() prefers IDX files in the data folder, gzip or raw", async (t) => {
  const layouts: [string, DatasetName, string, boolean][] = [
    ["subfolder mnist/, gzip", "mnist", "mnist", true],
    ["subfolder fashion-mnist/, raw", "fashion_mnist", "fashion-mnist", false],
    ["flat folder, raw", "mnist", ".", false],
  ];
  for (const [title, name, sub, gzip] of layouts) {
    await t.step(title, () =>
      withTempDir(async (dir) => {
        await writeIdxDataset(join(dir, sub), {
          train: 12,
          test: 5,
          side: 4,
          gzip,
        });
        const { train, test, source } = await loadDataset(name, {
          dataDir: dir,
          systemDirs: [],
        });
        assert.equal(source, resolve(dir, sub));
        assert.equal(train.count, 12);
        assert.equal(test.count, 5);
        assert.equal(train.height, 4);
        assert.deepEqual(Array.from(test.labels), [0, 1, 2, 3, 4]);
        // Image 1, pixel 2 holds byte 1·7 + 2 = 9.
        assert.equal(train.images[16 + 2], Math.fround(2 * 9 / 255 - 1));
      }));
  }
});

Deno.test("loadDataset() throws DatasetNotFoundError listing where it looked", async () => {
  await withTempDir(async (dir) => {
    const missing = join(dir, "nowhere");
    await assert.rejects(
      loadDataset("fashion_mnist", { dataDir: dir, systemDirs: [missing] }),
      (error: unknown) => {
        assert.ok(error instanceof DatasetNotFoundError);
        const searched = [
          join(dir, "fashion_mnist"),
          join(dir, "fashion-mnist"),
          dir,
          missing,
        ];
        assert.deepEqual(error.searched, searched);
        assert.equal(
          error.message,
          `Cannot find dataset "fashion_mnist": no IDX files in ${
            searched.map((s) => `"${s}"`).join(", ")
          }`,
        );
        return true;
      },
    );
  });
});

Deno.test("loadDataset() throws DatasetNotFoundError for an incomplete folder", async () => {
  await withTempDir(async (dir) => {
    await writeIdxDataset(dir, { train: 3, test: 2, side: 2, gzip: true });
    await Deno.remove(join(dir, `${IDX_FILE_NAMES.testLabels}.gz`));
    await assert.rejects(loadDataset("mnist", { dataDir: dir }), {
      name: "DatasetNotFoundError",
      message:
        `Cannot find dataset "mnist": "${dir}" lacks "t10k-labels-idx1-ubyte(.gz)"`,
    });
  });
});

Deno.test("loadDataset() refuses a corrupt file naming it, without caching the failure", async () => {
  await withTempDir(async (dir) => {
    await writeIdxDataset(dir, { train: 3, test: 2, side: 2, gzip: false });
    const path = join(dir, IDX_FILE_NAMES.trainImages);
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - 1));
    const options = { dataDir: dir, systemDirs: [] };
    await assert.rejects(loadDataset("mnist", options), {
      name: "IdxFormatError",
      message:
        'Cannot read IDX file "train-images-idx3-ubyte": expected 28 bytes, found 27',
    });
    await Deno.writeFile(path, bytes);
    assert.equal((await loadDataset("mnist", options)).train.count, 3);
  });
});

Deno.test("loadDataset() refuses test images of another size than train images", async () => {
  await withTempDir(async (dir) => {
    await writeIdxDataset(dir, { train: 3, test: 2, side: 2, gzip: false });
    const wide = encodeIdx({
      kind: "images",
      dims: [2, 2, 3],
      data: new Uint8Array(12),
    });
    await Deno.writeFile(join(dir, IDX_FILE_NAMES.testImages), wide);
    await assert.rejects(
      loadDataset("mnist", { dataDir: dir }),
      (error: unknown) => {
        assert.ok(error instanceof IdxFormatError);
        assert.equal(
          error.message,
          'Cannot read IDX file "t10k-images-idx3-ubyte": expected 2×2 images to match "train-images-idx3-ubyte", found 2×3',
        );
        return true;
      },
    );
  });
});

Deno.test("loadDataset() rejects an unknown name with RangeError", async () => {
  await assert.rejects(loadDataset("cifar" as DatasetName), {
    name: "RangeError",
    message:
      'Cannot load dataset "cifar": unknown name, expected "mnist" or "fashion_mnist"',
  });
});
