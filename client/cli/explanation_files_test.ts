import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { crc32 } from "../heatmap/mod.ts";
import { encodeTensor, type ExplainStep, Method, TargetKind } from "../mod.ts";
import {
  type Explanation,
  ExplanationCollector,
  renderGrayscale,
  sharedMaxAbs,
  writeExplanationFiles,
} from "./explanation_files.ts";

/** Decodes our own PNGs (RGB, 8 bit, filter 0), checking every chunk's CRC. */
function decodePng(bytes: Uint8Array): {
  width: number;
  height: number;
  pixel(x: number, y: number): [number, number, number];
} {
  assert.deepEqual(
    [...bytes.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  while (at < bytes.length) {
    const length = view.getUint32(at);
    const type = new TextDecoder().decode(bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    assert.equal(
      view.getUint32(at + 8 + length),
      crc32(bytes.subarray(at + 4, at + 8 + length)),
      `CRC of ${type}`,
    );
    if (type === "IHDR") {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      assert.deepEqual([...data.subarray(8)], [8, 2, 0, 0, 0]);
    } else if (type === "IDAT") idat.push(data);
    at += 12 + length;
  }
  const raw = new Uint8Array(inflateSync(Buffer.concat(idat)));
  assert.equal(raw.length, height * (width * 3 + 1));
  return {
    width,
    height,
    pixel(x, y) {
      const o = y * (width * 3 + 1) + 1 + x * 3;
      assert.equal(raw[y * (width * 3 + 1)], 0, "filter type");
      return [raw[o]!, raw[o + 1]!, raw[o + 2]!];
    },
  };
}

/** A 3-step, 2×2 explanation: step 1 holds the largest |R| (−4). */
function sample(): Explanation {
  return {
    relevance: Float32Array.from([
      1,
      0,
      0,
      0, // t = 0
      0,
      -4,
      2,
      0, // t = 1
      0,
      0,
      0,
      0.5, // t = 2
    ]),
    steps: 3,
    rows: 2,
    columns: 2,
    stepSums: [1, -2, 0.5],
    summary: {
      method: Method.METHOD_LRP_ALPHA_BETA,
      params: { alpha: 1.5, beta: 0.5 },
      targetKind: TargetKind.TARGET_KIND_TRUE_LABEL,
      targetClass: 3,
      predictedClass: 3,
      trueLabel: 3,
      targetLogit: 2.5,
      startRelevance: 2.5,
      inputRelevance: -0.5,
      absorbedRelevance: 3,
      initialStateRelevance: 0,
      conservationResidual: 0,
      conservative: true,
    },
  };
}

function step(timestep: number, values: number[]): ExplainStep {
  return {
    timestep,
    relevance: encodeTensor(values, [2, 2]),
    relevanceSum: values.reduce((a, b) => a + b, 0),
  };
}

Deno.test("ExplanationCollector assembles steps arriving from T − 1 down to 0", () => {
  const c = new ExplanationCollector();
  c.addStep(step(2, [0, 0, 0, 0.5]));
  c.addStep(step(1, [0, -4, 2, 0]));
  const first = c.addStep(step(0, [1, 0, 0, 0]));
  assert.deepEqual([...first], [1, 0, 0, 0]);
  c.setSummary(sample().summary);
  const e = c.finish();
  assert.deepEqual([...e.relevance], [...sample().relevance]);
  assert.deepEqual(e.stepSums, [1, -2, 0.5]);
  assert.deepEqual([e.steps, e.rows, e.columns], [3, 2, 2]);
});

Deno.test("ExplanationCollector throws RangeError for missing, repeated or misshapen steps", () => {
  const c = new ExplanationCollector();
  assert.throws(() => c.finish(), /no step arrived/);
  c.addStep(step(2, [0, 0, 0, 0]));
  assert.throws(
    () => c.addStep(step(2, [0, 0, 0, 0])),
    /step 2: it arrived twice/,
  );
  assert.throws(
    () =>
      c.addStep({
        timestep: 1,
        relevance: encodeTensor([0, 0, 0, 0], [4, 1]),
        relevanceSum: 0,
      }),
    /expected shape \[2,2\], found \[4,1\]/,
  );
  assert.throws(() => c.finish(), /no summary arrived/);
  c.setSummary(sample().summary);
  assert.throws(() => c.finish(), /step 0 of 1 is missing/);
});

Deno.test("writeExplanationFiles() writes step and sequence PNGs with one normalisation, and JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = {
      data: Float32Array.from({ length: 12 }, (_, i) => (i % 3) - 1),
      rows: 2,
      width: 6,
    };
    const files = await writeExplanationFiles(dir, sample(), {
      scale: 2,
      input,
      request: { modelId: "m1" },
    });
    assert.deepEqual(files.steps, [
      `${dir}/step_00.png`,
      `${dir}/step_01.png`,
      `${dir}/step_02.png`,
    ]);
    const whole = decodePng(await Deno.readFile(files.sequence!));
    assert.deepEqual([whole.width, whole.height], [12, 4]);
    // max |R| = 4 over the sequence: −4 is pure blue, 2 is half red, 1 a quarter.
    assert.deepEqual(whole.pixel(2 * 3, 0), [0, 0, 255]); // t=1, r=0, c=1
    assert.deepEqual(whole.pixel(2 * 2, 2), [255, 128, 128]); // t=1, r=1, c=0
    assert.deepEqual(whole.pixel(0, 0), [255, 191, 191]); // t=0, r=0, c=0
    assert.deepEqual(whole.pixel(1, 1), [255, 191, 191]); // upscaled copy
    assert.deepEqual(whole.pixel(2, 0), [255, 255, 255]); // zero: white
    for (let t = 0; t < 3; t++) {
      const strip = decodePng(await Deno.readFile(files.steps[t]!));
      assert.deepEqual([strip.width, strip.height], [4, 4]);
      for (let y = 0; y < 4; y++) {
        for (let x = 0; x < 4; x++) {
          // The same colours as the whole sequence: one normalisation.
          assert.deepEqual(strip.pixel(x, y), whole.pixel(t * 4 + x, y));
        }
      }
    }
    const gray = decodePng(await Deno.readFile(files.input!));
    assert.deepEqual([gray.width, gray.height], [12, 4]);
    assert.deepEqual(gray.pixel(0, 0), [0, 0, 0]); // −1: black
    assert.deepEqual(gray.pixel(2, 0), [128, 128, 128]); // 0: mid grey
    assert.deepEqual(gray.pixel(4, 0), [255, 255, 255]); // 1: white

    const json = JSON.parse(await Deno.readTextFile(files.json!));
    assert.deepEqual(json.request, { modelId: "m1" });
    assert.equal(json.method, "lrp_alpha_beta");
    assert.deepEqual(json.params, { alpha: 1.5, beta: 0.5 });
    assert.deepEqual(json.shape, [3, 2, 2]);
    assert.deepEqual(json.relevance, [
      [[1, 0], [0, 0]],
      [[0, -4], [2, 0]],
      [[0, 0], [0, 0.5]],
    ]);
    assert.deepEqual(json.stepSums, [1, -2, 0.5]);
    assert.equal(json.summary.targetClass, 3);
    assert.equal(json.summary.method, "METHOD_LRP_ALPHA_BETA");
    assert.equal(json.maxAbs, 4 + 1e-10);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeExplanationFiles() writes only the formats asked for", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const files = await writeExplanationFiles(`${dir}/json-only`, sample(), {
      formats: ["json"],
    });
    assert.deepEqual(files, {
      steps: [],
      json: `${dir}/json-only/explanation.json`,
    });
    const names = [];
    for await (const e of Deno.readDir(`${dir}/json-only`)) names.push(e.name);
    assert.deepEqual(names, ["explanation.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeExplanationFiles() throws RangeError for an input image of another size", async () => {
  await assert.rejects(
    writeExplanationFiles("/nonexistent-never-written", sample(), {
      input: { data: new Float32Array(4), rows: 2, width: 2 },
    }),
    /expected 2×6 pixels, found 2×2/,
  );
});

Deno.test("sharedMaxAbs() and renderGrayscale() check their inputs", () => {
  assert.equal(sharedMaxAbs(Float32Array.from([0.5, -2, 1])), 2 + 1e-10);
  assert.throws(
    () => renderGrayscale({ data: new Float32Array(3), rows: 2, width: 2 }),
    /expected 4 pixels, found 3/,
  );
});
