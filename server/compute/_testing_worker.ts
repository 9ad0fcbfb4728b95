/**
 * Test-only compute worker: the real one plus the hooks of
 * `_testing_hooks.ts` (a way to crash it, time stamps on events). Module
 * order matters: the hooks install first.
 *
 * @module
 */
import "./_testing_hooks.ts";
import "./worker.ts";
