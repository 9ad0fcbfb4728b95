/**
 * Entry point of the command line (`deno task cli …`). The first Ctrl-C
 * aborts the interrupt signal (`train` cancels its job and waits for it to
 * stop); a second one exits at once with 130.
 *
 * @module
 */
import { EXIT, runCli } from "./run_cli.ts";

if (import.meta.main) {
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) Deno.exit(EXIT.interrupted);
    interrupt.abort(new Error("Interrupted by SIGINT"));
  };
  Deno.addSignalListener("SIGINT", onSigint);
  let code: number;
  try {
    code = await runCli(Deno.args, { interrupt: interrupt.signal });
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }
  Deno.exit(code);
}
