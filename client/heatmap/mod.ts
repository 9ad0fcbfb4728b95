/**
 * Heatmap images for relevance maps: the thesis colour map and a PNG encoder.
 *
 * @module
 */
export * from "./heatmap.ts";
export * from "./png.ts";
