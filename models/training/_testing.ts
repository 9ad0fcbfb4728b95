/**
 * Test helpers of `training/`: seeded synthetic data a model can learn.
 *
 * @module
 */
import type { ModelSpec } from "../arch/spec.ts";
import { Random } from "../data/mod.ts";
import type { TrainingData } from "./training_data.ts";

/**
 * `count` sequences whose class c lights every pixel with index ≡ c (mod 10)
 * (0.8 against −0.5, plus uniform noise of width `noise`), labels cycling
 * through 0–9.
 */
export function syntheticData(
  count: number,
  spec: ModelSpec,
  seed = 1,
  noise = 0.6,
): TrainingData {
  const perSample = spec.steps * spec.rows * spec.columns;
  const random = new Random(seed);
  const next = () => random.next();
  const x = new Float32Array(count * perSample);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const label = (n * 7 + 3) % 10;
    labels[n] = label;
    for (let j = 0; j < perSample; j++) {
      x[n * perSample + j] = (j % 10 === label ? 0.8 : -0.5) +
        noise * (next() - 0.5);
    }
  }
  return { x, labels, count };
}
