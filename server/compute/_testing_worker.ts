/**
 * Test-only compute worker: the real one plus a way to crash it (see
 * `_testing_crash_hook.ts`). Module order matters: the hook listens first.
 *
 * @module
 */
import "./_testing_crash_hook.ts";
import "./worker.ts";
