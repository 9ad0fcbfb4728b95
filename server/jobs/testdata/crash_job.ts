/**
 * Test fixture of `training_jobs_restart_test.ts`, run as a subprocess:
 * opens the store in `Deno.args[0]`, starts a 3-epoch job whose runner
 * completes epoch 1 and then hangs, prints `EPOCH1 <jobId>` once epoch 1 is
 * recorded, and waits to be killed.
 *
 * @module
 */
import { openModelStore } from "../../storage/mod.ts";
import { TEST_SPEC } from "../../storage/test_checkpoint.ts";
import { createJobManager } from "../training_jobs.ts";
import { createFakeRunner } from "../_testing.ts";

const dir = Deno.args[0];
if (dir === undefined) throw new TypeError("usage: crash_job.ts <store dir>");
const store = await openModelStore({ dir });
const jobs = createJobManager({
  store,
  runTraining: createFakeRunner({ hangAfterEpoch: 1 }).run,
  // Write step progress every time, so the kill lands between writes too.
  progressIntervalMs: 0,
});
const job = jobs.start({ epochs: 3 }, TEST_SPEC);
for await (const event of jobs.watch(job.id)) {
  if (event.progress.completedEpochs >= 1) break;
}
await Deno.stdout.write(new TextEncoder().encode(`EPOCH1 ${job.id}\n`));
// Keep the process alive until the test kills it.
setInterval(() => {}, 60_000);
