/**
 * Relevance heatmaps in the thesis's colour map: each map is divided by
 * (max |R| + 1e-10), then positive relevance runs from white to red and
 * negative relevance from white to blue (the heatmapping.org "bwr" map of
 * thesis-code §3.6).
 *
 * @module
 */
import { encodePng } from "./png.ts";

/** Options of {@linkcode renderHeatmap}. */
export interface HeatmapOptions {
  /** Nearest-neighbour upscaling factor per pixel. @default 8 */
  scale?: number;
  /** Show only positive relevance (negative values drawn white). @default false */
  positiveOnly?: boolean;
  /**
   * Normalisation constant; by default the map's own max |R| + 1e-10, so
   * several maps (e.g. per-step strips) can share the whole sequence's scale.
   */
  maxAbs?: number;
}

/** Maps a value in [−1, 1] to RGB: white at 0, red at +1, blue at −1. */
export function bwr(v: number): [number, number, number] {
  const x = Math.max(-1, Math.min(1, v));
  if (x >= 0) {
    const c = Math.round(255 * (1 - x));
    return [255, c, c];
  }
  const c = Math.round(255 * (1 + x));
  return [c, c, 255];
}

/**
 * Assembles per-step relevance [T, rows, columns] into one [rows, T · columns]
 * image, step t occupying columns [t·c, (t+1)·c) (thesis-code §1.1).
 */
export function assembleSteps(
  relevance: Float32Array,
  steps: number,
  rows: number,
  columns: number,
): Float32Array {
  if (relevance.length !== steps * rows * columns) {
    throw new RangeError(
      `Cannot assemble heatmap: expected ${
        steps * rows * columns
      } values, found ${relevance.length}`,
    );
  }
  const width = steps * columns;
  const out = new Float32Array(rows * width);
  for (let t = 0; t < steps; t++) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) {
        out[r * width + t * columns + c] =
          relevance[(t * rows + r) * columns + c];
      }
    }
  }
  return out;
}

/**
 * Renders a [height, width] relevance map as a PNG in the thesis colour map.
 *
 * @returns PNG file bytes
 */
export function renderHeatmap(
  relevance: Float32Array,
  height: number,
  width: number,
  options: HeatmapOptions = {},
): Uint8Array {
  const scale = options.scale ?? 8;
  if (!Number.isInteger(scale) || scale < 1) {
    throw new RangeError(
      `Cannot render heatmap: scale must be a positive integer, got ${scale}`,
    );
  }
  if (relevance.length !== height * width) {
    throw new RangeError(
      `Cannot render heatmap: expected ${
        height * width
      } values, found ${relevance.length}`,
    );
  }
  let maxAbs = options.maxAbs;
  if (maxAbs === undefined) {
    maxAbs = 0;
    for (const v of relevance) maxAbs = Math.max(maxAbs, Math.abs(v));
    maxAbs += 1e-10;
  }
  const w = width * scale;
  const h = height * scale;
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = relevance[Math.floor(y / scale) * width + Math.floor(x / scale)] /
        maxAbs;
      if (options.positiveOnly && v < 0) v = 0;
      rgb.set(bwr(v), (y * w + x) * 3);
    }
  }
  return encodePng(rgb, w, h);
}
