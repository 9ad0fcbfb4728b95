/**
 * Fault injection for crash tests, off unless a test arms it. A fault point
 * is a named place inside a write where a crash leaves the disk in an
 * in-between state; the fault tests stop the server there and SIGKILL it,
 * so that "killed during a checkpoint write" happens deterministically.
 *
 * Armed by the environment variable {@linkcode FAULT_POINT_ENV}, read once
 * when a store opens (`openModelStore`):
 *
 * ```
 * RNN_EXPLAIN_TEST_FAULT_POINT=<point>[@<text in the checkpoint id>]
 * ```
 *
 * e.g. `checkpoint-temporaries-written@.epoch-2`. When the write of a
 * matching checkpoint reaches the point, the process writes one line
 * `rnn-explain fault point "<point>" reached: "<id>"` to stderr and that
 * write never continues (the rest of the server keeps running until it is
 * killed). Unset (production), every point is one comparison and nothing
 * else; a variable the process may not read counts as unset.
 *
 * @module
 */

/** The environment variable that arms a fault point. */
export const FAULT_POINT_ENV = "RNN_EXPLAIN_TEST_FAULT_POINT";

/** Places inside a write where a fault can be injected. */
export const FAULT_POINTS = [
  /** Both temporary files are written and fsynced, nothing is renamed yet. */
  "checkpoint-temporaries-written",
  /** The weights are in place, the manifest is not published yet. */
  "checkpoint-weights-renamed",
  /** A model's files are complete, its registry row is not inserted yet. */
  "model-files-written",
] as const;

/** One of {@linkcode FAULT_POINTS}. */
export type FaultPointName = typeof FAULT_POINTS[number];

/** An armed fault point. */
export interface FaultPointSpec {
  /** Where to stop. */
  point: FaultPointName;
  /**
   * Only writes whose checkpoint id contains this text stop.
   * @default "" (every write reaching the point)
   */
  idContains?: string;
  /**
   * `pause` never continues the write (for kill tests); `throw` fails it
   * with a {@linkcode FaultInjectedError} (for unit tests in one process).
   * @default "pause"
   */
  action?: "pause" | "throw";
}

/** Thrown at an armed point whose action is `throw`. */
export class FaultInjectedError extends Error {
  /**
   * @param point the point reached
   * @param id the checkpoint being written
   */
  constructor(point: FaultPointName, id: string) {
    super(`Cannot continue writing "${id}": fault point "${point}" reached`);
    this.name = "FaultInjectedError";
  }
}

let armed: FaultPointSpec | undefined;

/**
 * Parses a {@linkcode FAULT_POINT_ENV} value.
 *
 * @param value `<point>[@<text in the checkpoint id>]`
 * @returns the armed point (action `pause`)
 * @throws {RangeError} for an unknown point
 */
export function parseFaultPoint(value: string): FaultPointSpec {
  const at = value.indexOf("@");
  const point = at < 0 ? value : value.slice(0, at);
  if (!(FAULT_POINTS as readonly string[]).includes(point)) {
    throw new RangeError(
      `Cannot arm fault point: ${FAULT_POINT_ENV} names an unknown point: got "${point}", expected one of ${
        FAULT_POINTS.join(", ")
      }`,
    );
  }
  return {
    point: point as FaultPointName,
    idContains: at < 0 ? "" : value.slice(at + 1),
    action: "pause",
  };
}

/**
 * Arms (or with `undefined` disarms) a fault point for this process.
 *
 * @param spec the point, or `undefined`
 */
export function armFaultPoint(spec: FaultPointSpec | undefined): void {
  armed = spec;
}

/**
 * Arms the point named by {@linkcode FAULT_POINT_ENV}, if the variable is
 * set and readable; leaves the current state alone otherwise.
 *
 * @throws {RangeError} if the variable names an unknown point
 */
export function armFaultPointFromEnv(): void {
  const { state } = Deno.permissions.querySync({
    name: "env",
    variable: FAULT_POINT_ENV,
  });
  if (state !== "granted") return;
  const value = Deno.env.get(FAULT_POINT_ENV);
  if (value !== undefined && value !== "") {
    armFaultPoint(parseFaultPoint(value));
  }
}

/**
 * Marks a point inside a write: returns at once unless this point is armed
 * for this id.
 *
 * @param point the place reached
 * @param id the checkpoint being written
 * @throws {FaultInjectedError} when armed with action `throw`
 */
export async function faultPoint(
  point: FaultPointName,
  id: string,
): Promise<void> {
  if (armed === undefined || armed.point !== point) return;
  if (!id.includes(armed.idContains ?? "")) return;
  if (armed.action === "throw") throw new FaultInjectedError(point, id);
  await Deno.stderr.write(
    new TextEncoder().encode(
      `rnn-explain fault point "${point}" reached: "${id}"\n`,
    ),
  );
  // Never settles: the write stays stopped here until the process is killed.
  await new Promise<never>(() => {});
}
