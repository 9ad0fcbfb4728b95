/**
 * Progress fan-out of one job to any number of watchers, in the manner of
 * grpc-health-check's watchers: a new watcher gets the latest event first;
 * a slow watcher gets only the latest event when it asks again (events
 * coalesce, so memory stays bounded); a watcher ends after an event with an
 * ending state; aborting its signal removes it at once.
 *
 * @module
 */
import type { JobState, TrainingProgress } from "../storage/mod.ts";

/** One update of a job, as WatchTraining streams it. */
export interface JobEvent {
  /** The job. */
  jobId: string;
  /** Its state at this update. */
  state: JobState;
  /** Its progress at this update. */
  progress: TrainingProgress;
  /** The trained model; set once SUCCEEDED, else `""`. */
  modelId: string;
  /** Why the job FAILED or was INTERRUPTED, else `""`. */
  error: string;
}

/** States after which a watch ends: the job stopped (perhaps for now). */
export const WATCH_END_STATES: ReadonlySet<JobState> = new Set([
  "SUCCEEDED",
  "FAILED",
  "CANCELLED",
  "INTERRUPTED",
]);

interface Watcher {
  pending: JobEvent | undefined;
  wake: (() => void) | undefined;
  closed: boolean;
}

/** The watchers of one job. */
export class JobWatchers {
  #latest: JobEvent;
  #watchers = new Set<Watcher>();

  /** @param initial the event a first watcher receives */
  constructor(initial: JobEvent) {
    this.#latest = initial;
  }

  /** Number of watchers still attached. */
  get size(): number {
    return this.#watchers.size;
  }

  /** The latest event. */
  get latest(): JobEvent {
    return this.#latest;
  }

  /** Sends an event to every watcher (replacing what they have not taken). */
  publish(event: JobEvent): void {
    this.#latest = event;
    for (const w of this.#watchers) {
      w.pending = event;
      w.wake?.();
    }
  }

  /**
   * Streams events, starting with the latest, until one has an ending state
   * or `signal` aborts (then the stream simply ends).
   *
   * @param signal ends the stream and detaches the watcher
   * @returns the events
   */
  watch(signal?: AbortSignal): AsyncIterableIterator<JobEvent> {
    const w: Watcher = {
      pending: this.#latest,
      wake: undefined,
      closed: false,
    };
    const detach = () => {
      w.closed = true;
      this.#watchers.delete(w);
      signal?.removeEventListener("abort", detach);
      w.wake?.();
    };
    if (signal?.aborted) {
      w.closed = true;
    } else {
      this.#watchers.add(w);
      signal?.addEventListener("abort", detach, { once: true });
    }
    return stream(w, detach);
  }
}

async function* stream(
  w: Watcher,
  detach: () => void,
): AsyncIterableIterator<JobEvent> {
  try {
    while (!w.closed) {
      if (w.pending === undefined) {
        await new Promise<void>((resolve) => (w.wake = resolve));
        w.wake = undefined;
        continue;
      }
      const event = w.pending;
      w.pending = undefined;
      yield event;
      if (WATCH_END_STATES.has(event.state)) return;
    }
  } finally {
    detach();
  }
}
