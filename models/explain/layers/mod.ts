/**
 * The linear maps that LRP rules act on: dense, conv2d (stride 1, `SAME`) and
 * the thesis's scaled 2×2 average pooling.
 *
 * @module
 */
export { DENSE } from "./dense.ts";
export { CONV2D } from "./conv2d.ts";
export { AVG_POOL, type AvgPoolOptions, createAvgPool } from "./avg_pool.ts";
