import assert from "node:assert/strict";
import { initialProgress, type JobState } from "../storage/mod.ts";
import { type JobEvent, JobWatchers } from "./job_watchers.ts";

function event(state: JobState, step: number): JobEvent {
  return {
    jobId: "j",
    state,
    progress: { ...initialProgress(2), step },
    modelId: "",
    error: "",
  };
}

Deno.test("JobWatchers.watch() replays the latest event, coalesces what a slow watcher missed and ends after an ending state", async () => {
  const hub = new JobWatchers(event("QUEUED", 0));
  hub.publish(event("RUNNING", 1));
  const events = hub.watch();
  assert.deepEqual((await events.next()).value, event("RUNNING", 1));
  for (let step = 2; step <= 5; step++) hub.publish(event("RUNNING", step));
  assert.deepEqual((await events.next()).value, event("RUNNING", 5));
  const waiting = events.next();
  hub.publish(event("SUCCEEDED", 6));
  assert.deepEqual((await waiting).value, event("SUCCEEDED", 6));
  assert.equal(hub.size, 1);
  assert.deepEqual(await events.next(), { done: true, value: undefined });
  assert.equal(hub.size, 0);
});

Deno.test("JobWatchers.watch() detaches at once when the signal aborts, even while waiting", async () => {
  const hub = new JobWatchers(event("RUNNING", 0));
  const controller = new AbortController();
  const events = hub.watch(controller.signal);
  await events.next();
  const waiting = events.next();
  assert.equal(hub.size, 1);
  controller.abort();
  assert.equal(hub.size, 0);
  assert.deepEqual(await waiting, { done: true, value: undefined });
  hub.publish(event("RUNNING", 1)); // no one left to wake
  assert.equal(hub.latest.progress.step, 1);
});
