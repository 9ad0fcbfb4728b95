/**
 * `deno task campaign <campaign.json> --server host:port[=backend] ...
 * --results <file.jsonl> [--per-server N]`: runs an evaluation campaign over
 * RPC on one or more servers, resuming from the results file, then writes
 * the Markdown summary beside it (`<results>.md`); `deno task
 * campaign:report` makes the full report.
 *
 * Exit codes: 0 when every unit is done, 1 when some failed, 2 for usage.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createRnnExplainClient } from "../../client/mod.ts";
import { CampaignError, parseCampaign } from "./campaign_spec.ts";
import { runCampaign } from "./run_campaign.ts";
import { readResults } from "./results_log.ts";
import { reportMarkdown } from "../report/report_markdown.ts";
import type { CampaignServer } from "./run_unit.ts";

// deno-lint-ignore no-console
const say = console.log;
// deno-lint-ignore no-console
const complain = console.error;

const USAGE =
  "Usage: deno task campaign <campaign.json> --server host:port[=backend] [--server …] --results <file.jsonl> [--per-server N]";

/**
 * Parses `--server host:port[=backend]`.
 *
 * @param spec the flag's value
 * @returns the address and backend label
 */
export function parseServer(
  spec: string,
): { address: string; backend: string } {
  const [address, backend] = spec.split("=") as [string, string?];
  if (!/^[^:\s]+:\d+$/.test(address)) {
    throw new CampaignError(
      `Cannot use --server "${spec}": expected host:port[=backend]`,
    );
  }
  return { address, backend: backend ?? "unknown" };
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      server: { type: "string", multiple: true },
      results: { type: "string" },
      "per-server": { type: "string" },
    },
  });
  const file = positionals[0];
  if (file === undefined || !values.results || !values.server?.length) {
    complain(USAGE);
    return 2;
  }
  let campaign;
  let servers: CampaignServer[];
  try {
    campaign = parseCampaign(JSON.parse(await Deno.readTextFile(file)));
    servers = values.server.map((s) => {
      const { address, backend } = parseServer(s);
      return {
        address,
        backend,
        client: createRnnExplainClient(address, { defaultTimeoutMs: 60_000 }),
      };
    });
  } catch (err) {
    complain(err instanceof Error ? err.message : err);
    return 2;
  }
  const controller = new AbortController();
  const stop = () => controller.abort(new Error("Interrupted"));
  Deno.addSignalListener("SIGINT", stop);
  const started = performance.now();
  try {
    const outcome = await runCampaign(campaign, servers, values.results, {
      perServer: Number(values["per-server"] ?? 1),
      signal: controller.signal,
      log: (line) => say(`${new Date().toISOString()} ${line}`),
    });
    say(
      `${outcome.finished.length} finished, ${outcome.skipped.length} skipped, ${outcome.failed.length} failed in ${
        ((performance.now() - started) / 60_000).toFixed(1)
      } min`,
    );
    for (const f of outcome.failed) say(`failed: ${f.key}: ${f.error}`);
    const all = await readResults(values.results);
    if (all.length > 0) {
      // The tables and findings without figures; campaign:report adds them.
      await Deno.writeTextFile(
        `${values.results}.md`,
        reportMarkdown(all, {
          source: values.results,
          command: "deno task campaign",
          figures: [],
          explained: [],
        }),
      );
      say(`wrote ${values.results}.md`);
    }
    return outcome.failed.length === 0 ? 0 : 1;
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    for (const s of servers) s.client.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
