/**
 * Explanation-quality metrics and summary statistics (pure array code).
 *
 * @module
 */
export * from "./statistics.ts";
export * from "./block_relevance.ts";
export * from "./block_metrics.ts";
export * from "./region_perturbation.ts";
