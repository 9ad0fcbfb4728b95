/**
 * Summary statistics for evaluation reports: mean, sample standard deviation
 * and a two-sided 95% confidence interval for the mean from Student's t
 * distribution.
 *
 * @module
 */

/** Mean, spread and confidence interval of a sample. */
export interface Summary {
  /** Number of values. */
  n: number;
  /** Arithmetic mean (NaN when n = 0). */
  mean: number;
  /** Sample standard deviation with n − 1 in the denominator (0 when n < 2). */
  std: number;
  /** Lower end of the 95% confidence interval of the mean. */
  ciLow: number;
  /** Upper end of the 95% confidence interval of the mean. */
  ciHigh: number;
}

/** Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    throw new RangeError(
      `Cannot compute a normal quantile: p must lie in (0, 1), got ${p}`,
    );
  }
  const a = [
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.357751867269,
    -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406,
    161.5858368580409,
    -155.6989798598866,
    66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [
    0.007784695709041462,
    0.3224671290700398,
    2.445134137142996,
    3.754408661907416,
  ];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q +
      c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) *
    q /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Quantile of Student's t distribution with `df` degrees of freedom. Exact for
 * df = 1 and 2; a fourth-order Cornish–Fisher expansion above (relative error
 * below 1e-3 from df = 3 at p = 0.975).
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(df >= 1)) {
    throw new RangeError(
      `Cannot compute a t quantile: degrees of freedom must be at least 1, got ${df}`,
    );
  }
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  const z = normalQuantile(p);
  const z2 = z * z;
  const g1 = (z2 + 1) * z / 4;
  const g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
  const g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
  const g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z /
    92160;
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4;
}

/**
 * Summarises `values` with a t-based two-sided 95% confidence interval for the
 * mean; the interval collapses to the mean when fewer than two values exist.
 */
export function summarize(values: ArrayLike<number>): Summary {
  const n = values.length;
  if (n === 0) return { n, mean: NaN, std: 0, ciLow: NaN, ciHigh: NaN };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  if (n < 2) return { n, mean, std: 0, ciLow: mean, ciHigh: mean };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  const std = Math.sqrt(ss / (n - 1));
  const half = studentTQuantile(0.975, n - 1) * std / Math.sqrt(n);
  return { n, mean, std, ciLow: mean - half, ciHigh: mean + half };
}
