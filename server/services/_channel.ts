/**
 * A one-consumer async queue: a callback pushes (the compute pool's
 * `onEvent`), a handler's async generator pulls, so events are streamed as
 * soon as they arrive without buffering the whole result.
 *
 * @module
 */

/** A queue whose items are read with `for await`. */
export interface Channel<T> extends AsyncIterable<T> {
  /** Adds an item; ignored once closed. */
  push(item: T): void;
  /** Ends the iteration after the queued items; with an error, iteration throws it. */
  close(error?: unknown): void;
}

/**
 * Creates a {@linkcode Channel}.
 *
 * @returns the channel
 */
export function createChannel<T>(): Channel<T> {
  const items: T[] = [];
  let closed = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  return {
    push(item) {
      if (closed) return;
      items.push(item);
      notify();
    },
    close(error) {
      if (closed) return;
      closed = true;
      if (error !== undefined) failure = { error };
      notify();
    },
    async *[Symbol.asyncIterator]() {
      while (true) {
        if (items.length > 0) {
          yield items.shift()!;
          continue;
        }
        if (closed) {
          if (failure !== undefined) throw failure.error;
          return;
        }
        await new Promise<void>((resolve) => wake = resolve);
      }
    },
  };
}

/**
 * Runs `task` with an `onEvent` that feeds a channel, and yields the events
 * as they arrive, then returns the task's result. Leaving the loop early
 * (the call was cancelled, or a write failed) aborts the task.
 *
 * @param signal the call's signal
 * @param task starts the work with a combined signal and the event sink
 * @returns an async generator of events whose return value is the result
 */
export async function* streamTask<E, R>(
  signal: AbortSignal,
  task: (signal: AbortSignal, onEvent: (event: E) => void) => Promise<R>,
): AsyncGenerator<E, R> {
  const local = new AbortController();
  const channel = createChannel<E>();
  const running = task(
    AbortSignal.any([signal, local.signal]),
    (event) => channel.push(event),
  );
  running.then(() => channel.close(), (err) => channel.close(err));
  try {
    yield* channel;
    return await running;
  } finally {
    local.abort(new DOMException("Stream closed", "AbortError"));
    // The task settles with the abort; nobody waits for it any more.
    running.catch(() => {});
  }
}
