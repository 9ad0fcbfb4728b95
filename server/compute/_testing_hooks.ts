/**
 * Test-only: makes the compute worker crash (an uncaught error) when it is
 * asked to classify with model id {@linkcode CRASH_MODEL_ID}. Imported by
 * `_testing_worker.ts` before `worker.ts`, so that its listener runs first
 * and hides the message from the real one.
 *
 * @module
 */

/** The model id that crashes a test worker. */
export const CRASH_MODEL_ID = "crash-the-worker";

interface RunMessage {
  type?: string;
  task?: { kind?: string; model?: { id?: string } };
}

addEventListener("message", (event) => {
  const message = (event as MessageEvent<RunMessage>).data;
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
