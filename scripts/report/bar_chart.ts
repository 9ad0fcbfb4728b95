/**
 * Grouped bar charts with error bars (the style of thesis Figures 3.12, 3.18
 * and 3.21), as a {@linkcode Drawing} for SVG and PNG.
 *
 * @module
 */
import { type Drawing, type Rgb, type Shape, textWidth } from "./drawing.ts";

/** One bar: a value and an optional interval. */
export interface Bar {
  /** The bar's height. */
  value: number;
  /** Lower end of the error bar. */
  low?: number;
  /** Upper end of the error bar. */
  high?: number;
}

/** Options of {@linkcode groupedBarChart}. */
export interface BarChartOptions {
  /** Title above the plot. */
  title: string;
  /** Group labels along the x axis. */
  groups: string[];
  /** Series (one bar per group each), shown in the legend. */
  series: string[];
  /** `values[g][s]`; `undefined` leaves a gap. */
  values: (Bar | undefined)[][];
  /** Y axis label. */
  yLabel: string;
  /** Y range; by default [min(0, lowest), highest] with a margin. */
  yRange?: [number, number];
}

/** A colour-blind-safe palette (Okabe–Ito). */
export const PALETTE: readonly Rgb[] = [
  [0, 114, 178],
  [230, 159, 0],
  [0, 158, 115],
  [204, 121, 167],
  [86, 180, 233],
  [213, 94, 0],
  [240, 228, 66],
  [0, 0, 0],
];

function niceStep(span: number): number {
  const raw = span / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/**
 * Lays out a grouped bar chart.
 *
 * @param o groups, series, values, labels
 * @returns the drawing
 */
export function groupedBarChart(o: BarChartOptions): Drawing {
  const shapes: Shape[] = [];
  const ends = o.values.flat().flatMap((b) =>
    b === undefined ? [] : [b.value, b.low ?? b.value, b.high ?? b.value]
  ).filter(Number.isFinite);
  let [lo, hi] = o.yRange ??
    [Math.min(0, ...ends), Math.max(...ends, 0) * 1.08 || 1];
  if (hi <= lo) hi = lo + 1;
  const step = niceStep(hi - lo);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const barW = 14;
  const groupW = o.series.length * barW + 24;
  const left = 70;
  const top = 52;
  const plotH = 260;
  const legendW = Math.max(...o.series.map((s) => textWidth(s))) + 40;
  const width = left + o.groups.length * groupW + 20 + legendW;
  const height = top + plotH + 60;
  const y = (v: number) => top + plotH - ((v - lo) / (hi - lo)) * plotH;
  shapes.push({
    kind: "text",
    x: width / 2,
    y: 6,
    text: o.title,
    scale: 2,
    anchor: "middle",
  });
  for (let v = lo; v <= hi + step / 2; v += step) {
    const yy = Math.round(y(v));
    shapes.push({
      kind: "line",
      x1: left,
      y1: yy,
      x2: left + o.groups.length * groupW,
      y2: yy,
      stroke: [225, 225, 225],
    });
    shapes.push({
      kind: "text",
      x: left - 6,
      y: yy - 3,
      text: Number(v.toFixed(3)).toString(),
      anchor: "end",
    });
  }
  shapes.push({
    kind: "text",
    x: 4,
    y: top - 18,
    text: o.yLabel,
  });
  o.groups.forEach((g, gi) => {
    const gx = left + gi * groupW + 12;
    o.series.forEach((_, si) => {
      const b = o.values[gi]?.[si];
      if (b === undefined || !Number.isFinite(b.value)) return;
      const x = gx + si * barW;
      const y0 = y(Math.max(lo, Math.min(0, hi)));
      const y1 = y(b.value);
      shapes.push({
        kind: "rect",
        x,
        y: Math.min(y0, y1),
        w: barW - 2,
        h: Math.max(1, Math.abs(y1 - y0)),
        fill: PALETTE[si % PALETTE.length]!,
      });
      if (b.low !== undefined && b.high !== undefined) {
        const cx = Math.round(x + (barW - 2) / 2);
        const ya = Math.round(y(Math.max(lo, b.low)));
        const yb = Math.round(y(Math.min(hi, b.high)));
        shapes.push(
          { kind: "line", x1: cx, y1: ya, x2: cx, y2: yb, stroke: [0, 0, 0] },
          {
            kind: "line",
            x1: cx - 3,
            y1: ya,
            x2: cx + 3,
            y2: ya,
            stroke: [0, 0, 0],
          },
          {
            kind: "line",
            x1: cx - 3,
            y1: yb,
            x2: cx + 3,
            y2: yb,
            stroke: [0, 0, 0],
          },
        );
      }
    });
    shapes.push({
      kind: "text",
      x: gx + (o.series.length * barW) / 2,
      y: top + plotH + 10,
      text: g,
      anchor: "middle",
    });
  });
  shapes.push(
    {
      kind: "line",
      x1: left,
      y1: top,
      x2: left,
      y2: top + plotH,
      stroke: [0, 0, 0],
    },
    {
      kind: "line",
      x1: left,
      y1: Math.round(y(Math.max(lo, Math.min(0, hi)))),
      x2: left + o.groups.length * groupW,
      y2: Math.round(y(Math.max(lo, Math.min(0, hi)))),
      stroke: [0, 0, 0],
    },
  );
  const lx = left + o.groups.length * groupW + 20;
  o.series.forEach((s, si) => {
    shapes.push(
      {
        kind: "rect",
        x: lx,
        y: top + si * 16,
        w: 10,
        h: 10,
        fill: PALETTE[si % PALETTE.length]!,
      },
      { kind: "text", x: lx + 16, y: top + si * 16 + 2, text: s },
    );
  });
  return { width, height, shapes };
}
