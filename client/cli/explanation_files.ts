/**
 * Collects a streamed explanation and writes it out: one heatmap PNG per
 * timestep strip and one for the whole sequence, all normalised by the same
 * max |R| (so strips compare with each other and with the whole), the input
 * image as a grayscale PNG when its pixels are known, and a JSON file with
 * the relevance, the per-step sums, the summary and the parameters used.
 *
 * @module
 */
import { assembleSteps, encodePng, renderHeatmap } from "../heatmap/mod.ts";
import {
  decodeTensor,
  type ExplainerParams,
  ExplainerParams as ExplainerParamsCodec,
  type ExplainStep,
  type ExplanationSummary,
  ExplanationSummary as ExplanationSummaryCodec,
  Method,
} from "../mod.ts";

/** A complete explanation of one sequence. */
export interface Explanation {
  /** Relevance, row-major [steps, rows, columns]. */
  relevance: Float32Array;
  /** Timesteps T. */
  steps: number;
  /** Image rows. */
  rows: number;
  /** Columns per timestep. */
  columns: number;
  /** Sum of relevance per timestep, index t. */
  stepSums: number[];
  /** The summary the server sent last. */
  summary: ExplanationSummary;
}

/**
 * Gathers the messages of an Explain stream, which arrive from t = T − 1 down
 * to 0, into one [T, rows, columns] array.
 */
export class ExplanationCollector {
  readonly #steps = new Map<number, { data: Float32Array; sum: number }>();
  #shape: [number, number] | undefined;
  #summary: ExplanationSummary | undefined;

  /**
   * Adds one step.
   *
   * @returns the step's decoded relevance, shaped [rows, columns]
   * @throws {RangeError} when the step repeats a timestep or its shape differs from the earlier steps
   */
  addStep(step: ExplainStep): Float32Array {
    if (step.relevance === undefined) {
      throw new RangeError(
        `Cannot collect step ${step.timestep}: it carries no relevance`,
      );
    }
    const { data, shape } = decodeTensor(step.relevance);
    if (shape.length !== 2) {
      throw new RangeError(
        `Cannot collect step ${step.timestep}: expected relevance shaped [rows, columns], found [${shape}]`,
      );
    }
    if (
      this.#shape !== undefined &&
      (this.#shape[0] !== shape[0] || this.#shape[1] !== shape[1])
    ) {
      throw new RangeError(
        `Cannot collect step ${step.timestep}: expected shape [${this.#shape}], found [${shape}]`,
      );
    }
    if (this.#steps.has(step.timestep)) {
      throw new RangeError(
        `Cannot collect step ${step.timestep}: it arrived twice`,
      );
    }
    this.#shape = [shape[0]!, shape[1]!];
    this.#steps.set(step.timestep, { data, sum: step.relevanceSum });
    return data;
  }

  /** Records the summary (the last message). */
  setSummary(summary: ExplanationSummary): void {
    this.#summary = summary;
  }

  /**
   * The whole explanation.
   *
   * @throws {RangeError} when steps 0 … T − 1 are not all there or the summary is missing
   */
  finish(): Explanation {
    const steps = this.#steps.size;
    if (this.#shape === undefined || this.#summary === undefined) {
      throw new RangeError(
        `Cannot assemble the explanation: ${
          this.#shape === undefined ? "no step" : "no summary"
        } arrived`,
      );
    }
    const [rows, columns] = this.#shape;
    const relevance = new Float32Array(steps * rows * columns);
    const stepSums: number[] = [];
    for (let t = 0; t < steps; t++) {
      const step = this.#steps.get(t);
      if (step === undefined) {
        throw new RangeError(
          `Cannot assemble the explanation: step ${t} of ${steps} is missing`,
        );
      }
      relevance.set(step.data, t * rows * columns);
      stepSums.push(step.sum);
    }
    return {
      relevance,
      steps,
      rows,
      columns,
      stepSums,
      summary: this.#summary,
    };
  }
}

/** The input image, pixels in [−1, 1] (background −1). */
export interface InputImage {
  /** Pixels, row-major [rows, width]. */
  data: Float32Array;
  /** Image rows. */
  rows: number;
  /** Image width (T · columns). */
  width: number;
}

/** What {@linkcode writeExplanationFiles} writes. */
export type OutputFormat = "png" | "json";

/** Options of {@linkcode writeExplanationFiles}. */
export interface WriteExplanationOptions {
  /** File kinds to write. @default ["png", "json"] */
  formats?: readonly OutputFormat[];
  /** Nearest-neighbour upscaling of the PNGs. @default 8 */
  scale?: number;
  /** The input image, written as `input.png` beside the heatmaps. */
  input?: InputImage;
  /** Extra fields put into the JSON under `request` (model id, sample). */
  request?: Record<string, unknown>;
}

/** Files written, by role. */
export interface WrittenFiles {
  /** Per-step heatmaps, index t. */
  steps: string[];
  /** The whole-sequence heatmap. */
  sequence?: string;
  /** The grayscale input image. */
  input?: string;
  /** The JSON file. */
  json?: string;
}

/**
 * The shared normalisation constant: max |R| over the whole sequence plus
 * 1e-10, as the thesis's heatmaps divide by.
 */
export function sharedMaxAbs(relevance: Float32Array): number {
  let maxAbs = 0;
  for (const v of relevance) maxAbs = Math.max(maxAbs, Math.abs(v));
  return maxAbs + 1e-10;
}

/**
 * Renders an image with pixels in [−1, 1] as a grayscale PNG (−1 black,
 * +1 white), upscaled by `scale`.
 *
 * @returns PNG file bytes
 * @throws {RangeError} when the pixel count does not match
 */
export function renderGrayscale(image: InputImage, scale = 8): Uint8Array {
  const { data, rows, width } = image;
  if (data.length !== rows * width) {
    throw new RangeError(
      `Cannot render the input image: expected ${
        rows * width
      } pixels, found ${data.length}`,
    );
  }
  const w = width * scale;
  const h = rows * scale;
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = data[Math.floor(y / scale) * width + Math.floor(x / scale)]!;
      const g = Math.round(255 * Math.max(0, Math.min(1, (v + 1) / 2)));
      rgb.fill(g, (y * w + x) * 3, (y * w + x) * 3 + 3);
    }
  }
  return encodePng(rgb, w, h);
}

/** `lrp_alpha_beta` for METHOD_LRP_ALPHA_BETA. */
export function methodKey(method: Method): string {
  const name = Method[method] ?? `METHOD_${method}`;
  return name.replace(/^METHOD_/, "").toLowerCase();
}

/** The JSON document written as `explanation.json`. */
export function explanationJson(
  explanation: Explanation,
  request: Record<string, unknown> = {},
): Record<string, unknown> {
  const { steps, rows, columns, relevance, summary } = explanation;
  const nested: number[][][] = [];
  for (let t = 0; t < steps; t++) {
    const step: number[][] = [];
    for (let r = 0; r < rows; r++) {
      const offset = (t * rows + r) * columns;
      step.push(Array.from(relevance.subarray(offset, offset + columns)));
    }
    nested.push(step);
  }
  const params: ExplainerParams = summary.params ?? {};
  return {
    request,
    method: methodKey(summary.method),
    params: ExplainerParamsCodec.toJSON(params),
    summary: ExplanationSummaryCodec.toJSON(summary),
    shape: [steps, rows, columns],
    maxAbs: sharedMaxAbs(relevance),
    stepSums: explanation.stepSums,
    relevance: nested,
  };
}

/**
 * Writes an explanation into `dir` (created when missing): `step_00.png` …
 * for each timestep strip, `sequence.png` for the whole sequence (all with
 * one normalisation), `input.png` when the input is given, and
 * `explanation.json`.
 *
 * @param dir the output folder
 * @param explanation the collected explanation
 * @param options formats, scale, input image, request fields
 * @returns the paths written
 * @throws {RangeError} when the input image does not fit the explanation
 */
export async function writeExplanationFiles(
  dir: string,
  explanation: Explanation,
  options: WriteExplanationOptions = {},
): Promise<WrittenFiles> {
  const formats = options.formats ?? ["png", "json"];
  const scale = options.scale ?? 8;
  const { steps, rows, columns, relevance } = explanation;
  const input = options.input;
  if (
    input !== undefined &&
    (input.rows !== rows || input.width !== steps * columns)
  ) {
    throw new RangeError(
      `Cannot write the input image: expected ${rows}×${
        steps * columns
      } pixels, found ${input.rows}×${input.width}`,
    );
  }
  await Deno.mkdir(dir, { recursive: true });
  const written: WrittenFiles = { steps: [] };
  const join = (name: string) => `${dir.replace(/\/+$/, "")}/${name}`;
  if (formats.includes("png")) {
    const maxAbs = sharedMaxAbs(relevance);
    const digits = String(steps - 1).length < 2 ? 2 : String(steps - 1).length;
    for (let t = 0; t < steps; t++) {
      const path = join(`step_${String(t).padStart(digits, "0")}.png`);
      const strip = relevance.subarray(
        t * rows * columns,
        (t + 1) * rows * columns,
      );
      await Deno.writeFile(
        path,
        renderHeatmap(strip, rows, columns, { scale, maxAbs }),
      );
      written.steps.push(path);
    }
    written.sequence = join("sequence.png");
    const whole = assembleSteps(relevance, steps, rows, columns);
    await Deno.writeFile(
      written.sequence,
      renderHeatmap(whole, rows, steps * columns, { scale, maxAbs }),
    );
    if (input !== undefined) {
      written.input = join("input.png");
      await Deno.writeFile(written.input, renderGrayscale(input, scale));
    }
  }
  if (formats.includes("json")) {
    written.json = join("explanation.json");
    await Deno.writeTextFile(
      written.json,
      JSON.stringify(explanationJson(explanation, options.request)) + "\n",
    );
  }
  return written;
}
