import assert from "node:assert/strict";
import { yieldIfDue } from "./explanation.ts";

Deno.test("yieldIfDue() runs a due macrotask by default, then checks the signal", async () => {
  let timerRan = false;
  setTimeout(() => timerRan = true, 0);
  const since = performance.now() - 5;
  const at = await yieldIfDue(since, {}, 1);
  assert.ok(timerRan, "a timer queued before the yield ran during it");
  assert.ok(at > since);
  const controller = new AbortController();
  const reason = new Error("gone");
  controller.abort(reason);
  await assert.rejects(
    yieldIfDue(performance.now(), { signal: controller.signal }),
    (e) => e === reason,
  );
});

Deno.test("yieldIfDue() calls yieldToEventLoop only when due, and the abort it raises is seen at once", async () => {
  const controller = new AbortController();
  const reason = new Error("cancel flag set");
  let calls = 0;
  const options = {
    signal: controller.signal,
    yieldToEventLoop: () => {
      calls++;
      controller.abort(reason);
    },
  };
  const now = performance.now();
  assert.ok((await yieldIfDue(now, options, 1e6)) >= now);
  assert.equal(calls, 0, "not due: no yield");
  await assert.rejects(
    yieldIfDue(performance.now() - 5, options, 1),
    (e) => e === reason,
  );
  assert.equal(calls, 1);
});
