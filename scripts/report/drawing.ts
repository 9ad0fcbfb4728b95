/**
 * A tiny vector drawing (rectangles, lines, text) rendered two ways from the
 * same shapes: as SVG text, and as PNG through a small rasterizer with a
 * 5×7 bitmap font (lower case is drawn as upper case; Greek α/β as A/B).
 * No native code and no fonts to download: plots look the same everywhere.
 *
 * @module
 */
import { encodePng } from "../../client/mod.ts";

/** An RGB colour, 0–255 each. */
export type Rgb = readonly [number, number, number];

/** One shape. Coordinates are pixels, y down. */
export type Shape =
  | { kind: "rect"; x: number; y: number; w: number; h: number; fill: Rgb }
  | {
    kind: "line";
    x1: number;
    y1: number;
    x2: number;
    y2: number;
    stroke: Rgb;
    width?: number;
  }
  | {
    kind: "text";
    x: number;
    y: number;
    text: string;
    /** Pixel scale of the 5×7 font (SVG font size ≈ 9 × scale). */
    scale?: number;
    anchor?: "start" | "middle" | "end";
    fill?: Rgb;
  };

/** A drawing: a canvas size and shapes in paint order. */
export interface Drawing {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Shapes, painted in order. */
  shapes: Shape[];
}

// Column-major 5×7 glyphs (bit 0 = top row), the classic LCD font layout.
const GLYPHS: Record<string, number[]> = {
  " ": [0, 0, 0, 0, 0],
  "0": [0x3e, 0x51, 0x49, 0x45, 0x3e],
  "1": [0x00, 0x42, 0x7f, 0x40, 0x00],
  "2": [0x42, 0x61, 0x51, 0x49, 0x46],
  "3": [0x21, 0x41, 0x45, 0x4b, 0x31],
  "4": [0x18, 0x14, 0x12, 0x7f, 0x10],
  "5": [0x27, 0x45, 0x45, 0x45, 0x39],
  "6": [0x3c, 0x4a, 0x49, 0x49, 0x30],
  "7": [0x01, 0x71, 0x09, 0x05, 0x03],
  "8": [0x36, 0x49, 0x49, 0x49, 0x36],
  "9": [0x06, 0x49, 0x49, 0x29, 0x1e],
  "A": [0x7e, 0x11, 0x11, 0x11, 0x7e],
  "B": [0x7f, 0x49, 0x49, 0x49, 0x36],
  "C": [0x3e, 0x41, 0x41, 0x41, 0x22],
  "D": [0x7f, 0x41, 0x41, 0x22, 0x1c],
  "E": [0x7f, 0x49, 0x49, 0x49, 0x41],
  "F": [0x7f, 0x09, 0x09, 0x09, 0x01],
  "G": [0x3e, 0x41, 0x49, 0x49, 0x7a],
  "H": [0x7f, 0x08, 0x08, 0x08, 0x7f],
  "I": [0x00, 0x41, 0x7f, 0x41, 0x00],
  "J": [0x20, 0x40, 0x41, 0x3f, 0x01],
  "K": [0x7f, 0x08, 0x14, 0x22, 0x41],
  "L": [0x7f, 0x40, 0x40, 0x40, 0x40],
  "M": [0x7f, 0x02, 0x0c, 0x02, 0x7f],
  "N": [0x7f, 0x04, 0x08, 0x10, 0x7f],
  "O": [0x3e, 0x41, 0x41, 0x41, 0x3e],
  "P": [0x7f, 0x09, 0x09, 0x09, 0x06],
  "Q": [0x3e, 0x41, 0x51, 0x21, 0x5e],
  "R": [0x7f, 0x09, 0x19, 0x29, 0x46],
  "S": [0x46, 0x49, 0x49, 0x49, 0x31],
  "T": [0x01, 0x01, 0x7f, 0x01, 0x01],
  "U": [0x3f, 0x40, 0x40, 0x40, 0x3f],
  "V": [0x1f, 0x20, 0x40, 0x20, 0x1f],
  "W": [0x3f, 0x40, 0x38, 0x40, 0x3f],
  "X": [0x63, 0x14, 0x08, 0x14, 0x63],
  "Y": [0x07, 0x08, 0x70, 0x08, 0x07],
  "Z": [0x61, 0x51, 0x49, 0x45, 0x43],
  "-": [0x08, 0x08, 0x08, 0x08, 0x08],
  ".": [0x00, 0x60, 0x60, 0x00, 0x00],
  ",": [0x00, 0x50, 0x30, 0x00, 0x00],
  ":": [0x00, 0x36, 0x36, 0x00, 0x00],
  "(": [0x00, 0x1c, 0x22, 0x41, 0x00],
  ")": [0x00, 0x41, 0x22, 0x1c, 0x00],
  "+": [0x08, 0x08, 0x3e, 0x08, 0x08],
  "/": [0x20, 0x10, 0x08, 0x04, 0x02],
  "%": [0x23, 0x13, 0x08, 0x64, 0x62],
  "=": [0x14, 0x14, 0x14, 0x14, 0x14],
  "_": [0x40, 0x40, 0x40, 0x40, 0x40],
  "|": [0x00, 0x00, 0x7f, 0x00, 0x00],
  "×": [0x22, 0x14, 0x08, 0x14, 0x22],
  "?": [0x02, 0x01, 0x51, 0x09, 0x06],
};

const FOLD: Record<string, string> = { "α": "A", "β": "B", "⁺": "+" };

function glyph(ch: string): number[] {
  const c = FOLD[ch] ?? ch.toUpperCase();
  return GLYPHS[c] ?? GLYPHS["?"]!;
}

/** Width in pixels of `text` drawn at `scale`. */
export function textWidth(text: string, scale = 1): number {
  return [...text].length * 6 * scale;
}

function escape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const hex = (c: Rgb) => `rgb(${c[0]},${c[1]},${c[2]})`;

/**
 * Renders a drawing as an SVG document.
 *
 * @param d the drawing
 * @returns SVG text
 */
export function toSvg(d: Drawing): string {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${d.width}" height="${d.height}" viewBox="0 0 ${d.width} ${d.height}">`,
    `<rect width="${d.width}" height="${d.height}" fill="white"/>`,
  ];
  for (const s of d.shapes) {
    if (s.kind === "rect") {
      out.push(
        `<rect x="${s.x}" y="${s.y}" width="${s.w}" height="${s.h}" fill="${
          hex(s.fill)
        }"/>`,
      );
    } else if (s.kind === "line") {
      out.push(
        `<line x1="${s.x1}" y1="${s.y1}" x2="${s.x2}" y2="${s.y2}" stroke="${
          hex(s.stroke)
        }" stroke-width="${s.width ?? 1}"/>`,
      );
    } else {
      const scale = s.scale ?? 1;
      const anchor = { start: "start", middle: "middle", end: "end" }[
        s.anchor ?? "start"
      ];
      out.push(
        `<text x="${s.x}" y="${
          s.y + 7 * scale
        }" font-family="monospace" font-size="${
          9 * scale
        }" text-anchor="${anchor}" fill="${hex(s.fill ?? [0, 0, 0])}">${
          escape(s.text)
        }</text>`,
      );
    }
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** An RGB pixel buffer with the drawing primitives. */
export class Raster {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** Row-major RGB bytes. */
  readonly rgb: Uint8Array;

  /**
   * @param width pixels
   * @param height pixels
   */
  constructor(width: number, height: number) {
    this.width = Math.ceil(width);
    this.height = Math.ceil(height);
    this.rgb = new Uint8Array(this.width * this.height * 3).fill(255);
  }

  /** Sets one pixel (clipped). */
  set(x: number, y: number, c: Rgb): void {
    x = Math.floor(x);
    y = Math.floor(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.rgb.set(c, (y * this.width + x) * 3);
  }

  /** Fills a rectangle. */
  fillRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    const x0 = Math.round(x);
    const y0 = Math.round(y);
    const x1 = Math.round(x + w);
    const y1 = Math.round(y + h);
    for (let yy = y0; yy < y1; yy++) {
      for (let xx = x0; xx < x1; xx++) this.set(xx, yy, c);
    }
  }

  /** Draws a line (Bresenham, thickened by `width`). */
  line(
    x1: number,
    y1: number,
    x2: number,
    y2: number,
    c: Rgb,
    width = 1,
  ): void {
    const steps = Math.max(Math.abs(x2 - x1), Math.abs(y2 - y1), 1);
    const half = Math.floor((width - 1) / 2);
    for (let i = 0; i <= steps; i++) {
      const x = Math.round(x1 + ((x2 - x1) * i) / steps);
      const y = Math.round(y1 + ((y2 - y1) * i) / steps);
      this.fillRect(x - half, y - half, width, width, c);
    }
  }

  /** Draws text with the 5×7 font; `y` is the top of the glyphs. */
  text(
    x: number,
    y: number,
    text: string,
    options: { scale?: number; anchor?: string; fill?: Rgb } = {},
  ): void {
    const scale = options.scale ?? 1;
    const w = textWidth(text, scale);
    let cx = options.anchor === "middle"
      ? x - w / 2
      : options.anchor === "end"
      ? x - w
      : x;
    for (const ch of text) {
      const cols = glyph(ch);
      for (let col = 0; col < 5; col++) {
        for (let row = 0; row < 7; row++) {
          if ((cols[col]! >> row) & 1) {
            this.fillRect(
              cx + col * scale,
              y + row * scale,
              scale,
              scale,
              options.fill ?? [0, 0, 0],
            );
          }
        }
      }
      cx += 6 * scale;
    }
  }

  /** Encodes the buffer as PNG. */
  toPng(): Uint8Array {
    return encodePng(this.rgb, this.width, this.height);
  }
}

/**
 * Renders a drawing as PNG bytes.
 *
 * @param d the drawing
 * @returns PNG file bytes
 */
export function toPng(d: Drawing): Uint8Array {
  const r = new Raster(d.width, d.height);
  for (const s of d.shapes) {
    if (s.kind === "rect") r.fillRect(s.x, s.y, s.w, s.h, s.fill);
    else if (s.kind === "line") {
      r.line(s.x1, s.y1, s.x2, s.y2, s.stroke, s.width ?? 1);
    } else {
      r.text(s.x, s.y, s.text, {
        scale: s.scale ?? 1,
        anchor: s.anchor ?? "start",
        fill: s.fill ?? [0, 0, 0],
      });
    }
  }
  return r.toPng();
}
