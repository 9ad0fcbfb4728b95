/**
 * Heatmap grids in the style of thesis Figures 3.4, 3.11, 3.17 and 3.19:
 * rows are samples, the first column the input, then one column per
 * explainer, each heatmap in the thesis's bwr colour map normalised by its
 * own max |R| (thesis-code §3.6).
 *
 * @module
 */
import { assembleSteps, bwr } from "../../client/mod.ts";
import { Raster } from "./drawing.ts";
import type { UnitExplanations } from "./explanations.ts";

/** Options of {@linkcode heatmapGrid}. */
export interface HeatmapGridOptions {
  /** Title drawn above the grid. */
  title: string;
  /**
   * Pixel upscaling.
   * @default 2
   */
  scale?: number;
}

/**
 * Draws the grid.
 *
 * @param e the explanations of the samples
 * @param options title and scale
 * @returns PNG bytes
 */
export function heatmapGrid(
  e: UnitExplanations,
  options: HeatmapGridOptions,
): Uint8Array {
  const scale = options.scale ?? 2;
  const width = e.steps * e.columns;
  const cellW = width * scale;
  const cellH = e.rows * scale;
  const gap = 6;
  const left = 60;
  const top = 44;
  const methods = [...e.relevance.keys()];
  const r = new Raster(
    left + (methods.length + 1) * (cellW + gap),
    top + e.count * (cellH + gap),
  );
  r.text(4, 6, options.title, { scale: 2 });
  ["input", ...methods].forEach((name, c) =>
    r.text(left + c * (cellW + gap) + cellW / 2, top - 14, name, {
      anchor: "middle",
    })
  );
  const size = e.steps * e.rows * e.columns;
  const draw = (
    image: Float32Array,
    col: number,
    row: number,
    color: (v: number) => readonly [number, number, number],
  ) => {
    const x0 = left + col * (cellW + gap);
    const y0 = top + row * (cellH + gap);
    for (let y = 0; y < e.rows; y++) {
      for (let x = 0; x < width; x++) {
        r.fillRect(
          x0 + x * scale,
          y0 + y * scale,
          scale,
          scale,
          color(image[y * width + x]!),
        );
      }
    }
  };
  for (let n = 0; n < e.count; n++) {
    const y0 = top + n * (cellH + gap);
    r.text(4, y0 + cellH / 2 - 10, `Y=${e.labels[n]}`);
    r.text(4, y0 + cellH / 2 + 2, `P=${e.predicted[n] ?? "?"}`);
    const input = assembleSteps(
      e.x.subarray(n * size, (n + 1) * size),
      e.steps,
      e.rows,
      e.columns,
    );
    draw(input, 0, n, (v) => {
      const g = Math.round(255 * (1 - (v + 1) / 2));
      return [g, g, g];
    });
    methods.forEach((m, c) => {
      const map = assembleSteps(
        e.relevance.get(m)!.subarray(n * size, (n + 1) * size),
        e.steps,
        e.rows,
        e.columns,
      );
      let maxAbs = 0;
      for (const v of map) maxAbs = Math.max(maxAbs, Math.abs(v));
      maxAbs += 1e-10;
      draw(map, c + 1, n, (v) => bwr(v / maxAbs));
    });
  }
  return r.toPng();
}
