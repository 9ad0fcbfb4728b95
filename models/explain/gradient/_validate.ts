/**
 * Checks shared by the gradient methods, run before any tensor exists.
 *
 * @module
 */
import type { MethodName, MethodParams } from "../explanation.ts";

/** Largest `steps` / `samples` accepted: bounds the work of one request. */
export const MAX_POINTS = 1024;

export { checkExplainInput as checkInput } from "../check_input.ts";

/**
 * Returns an integer parameter, or its default when unset.
 *
 * @throws {RangeError} if the value is not an integer in [min, max]
 */
export function integerParam(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot explain with ${name} = ${value}: ${name} must be an integer in [${min}, ${max}]`,
    );
  }
  return value;
}

/**
 * Returns a finite number parameter (≥ `min` when given), or its default.
 *
 * @throws {RangeError} if the value is not finite or below `min`
 */
export function numberParam(
  name: string,
  value: number | undefined,
  fallback: number,
  min = -Infinity,
): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(
      `Cannot explain with ${name} = ${value}: ${name} must be a finite number${
        min === -Infinity ? "" : ` ≥ ${min}`
      }`,
    );
  }
  return value;
}

/**
 * Refuses parameters the method does not use, so that a typo in a
 * configuration does not pass silently (the API's contract).
 *
 * @throws {RangeError} naming the first unused parameter that is set
 */
export function checkUnusedParams(
  method: MethodName,
  params: MethodParams | undefined,
  used: readonly (keyof MethodParams)[],
): void {
  if (params === undefined) return;
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && !used.includes(key as keyof MethodParams)) {
      throw new RangeError(
        `Cannot explain with "${key}": method "${method}" does not use it${
          used.length === 0 ? "" : ` (it takes ${used.join(", ")})`
        }`,
      );
    }
  }
}
