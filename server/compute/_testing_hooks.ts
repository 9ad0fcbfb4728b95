/**
 * Test-only hooks of the compute worker, installed by `_testing_worker.ts`
 * before `worker.ts` runs:
 *
 * - a `classify` task for model id `CRASH_MODEL_ID` (`_testing.ts`) crashes the
 *   worker (an uncaught error); this listener runs first and hides the
 *   message from the real one;
 * - every event the worker posts carries `postedAt`, the wall-clock time in
 *   milliseconds it was posted, and `taskReceivedAt`, when the worker read
 *   the task's `run` message, so tests can tell from the workers' own
 *   clocks whether two tasks were in the workers at the same time (the
 *   order in which the main thread reads two workers' messages does not).
 *
 * Import it only in a worker: it patches the global `postMessage`.
 *
 * @module
 */

import { CRASH_MODEL_ID } from "./_testing.ts";

interface RunMessage {
  type?: string;
  taskId?: number;
  task?: { kind?: string; model?: { id?: string } };
  event?: Record<string, unknown>;
}

/** When each task's `run` message was read, by task id. */
const received = new Map<number, number>();

function now(): number {
  return performance.timeOrigin + performance.now();
}

addEventListener("message", (event) => {
  const message = (event as MessageEvent<RunMessage>).data;
  if (message.type === "run") received.set(message.taskId!, now());
  if (
    message.type === "run" && message.task?.kind === "classify" &&
    message.task.model?.id === CRASH_MODEL_ID
  ) {
    event.stopImmediatePropagation();
    setTimeout(() => {
      throw new Error("Worker crashed on purpose");
    }, 0);
  }
});

type Post = (message: RunMessage, transfer?: Transferable[]) => void;
const scope = globalThis as unknown as { postMessage: Post };
const post: Post = scope.postMessage.bind(globalThis);
scope.postMessage = (message, transfer) => {
  if (message?.type === "event" && message.event !== undefined) {
    message.event.postedAt = now();
    message.event.taskReceivedAt = received.get(message.taskId!);
  }
  post(message, transfer);
};
