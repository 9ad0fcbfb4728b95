/**
 * Plain (tensor-free) weights: what checkpoints store and what crosses the
 * `models/` boundary.
 *
 * @module
 */
import type { ParameterInfo } from "./parameters.ts";

/** One parameter's values, row-major float32. */
export interface WeightTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Parameters by their stable names (see `parameters.ts`). */
export type WeightMap = Readonly<Record<string, WeightTensor>>;

/**
 * Lists every way `weights` differs from the expected parameters: missing or
 * unexpected names, wrong shapes, data of the wrong length, non-finite values.
 *
 * @param expected the parameters of the architecture
 * @param weights the candidate weights
 * @returns human-readable problems; empty when the weights fit
 */
export function weightProblems(
  expected: readonly ParameterInfo[],
  weights: WeightMap,
): string[] {
  const problems: string[] = [];
  const names = new Set(expected.map((p) => p.name));
  for (const name of Object.keys(weights)) {
    if (!names.has(name)) problems.push(`unexpected tensor "${name}"`);
  }
  for (const p of expected) {
    const w = weights[p.name];
    if (w === undefined) {
      problems.push(`missing tensor "${p.name}"`);
      continue;
    }
    const want = p.shape.join("×");
    const got = w.shape.join("×");
    if (want !== got) {
      problems.push(
        `tensor "${p.name}" has shape [${got}], expected [${want}]`,
      );
      continue;
    }
    const size = p.shape.reduce((a, d) => a * d, 1);
    if (!(w.data instanceof Float32Array) || w.data.length !== size) {
      problems.push(
        `tensor "${p.name}" has ${w.data?.length} values, expected ${size}`,
      );
      continue;
    }
    if (!w.data.every(Number.isFinite)) {
      problems.push(`tensor "${p.name}" holds non-finite values`);
    }
  }
  return problems;
}
