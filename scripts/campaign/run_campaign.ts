/**
 * The campaign work queue: units not yet in the results file are spread
 * over the servers, `perServer` in flight on each; a unit whose server fails
 * (UNAVAILABLE, lost connection, deadline, interrupted job) goes back to the
 * queue for another server, and the failing server rests until it answers a
 * health check again. Each finished unit is appended to the results file
 * (fsync) before the next one starts on that slot.
 *
 * @module
 */
import { RpcError, Status } from "../../client/mod.ts";
import {
  type Campaign,
  campaignUnits,
  resultsFingerprint,
  type Unit,
} from "./campaign_spec.ts";
import { openResultsLog } from "./results_log.ts";
import { type CampaignServer, runUnit, UnitFailedError } from "./run_unit.ts";
import type { UnitResult } from "./unit_result.ts";

/** Options of {@linkcode runCampaign}. */
export interface RunCampaignOptions {
  /**
   * Units in flight per server.
   * @default 1
   */
  perServer?: number;
  /**
   * Attempts per unit before the campaign gives it up.
   * @default 3 × the number of servers
   */
  maxAttempts?: number;
  /**
   * Pause before a failed server is tried again, ms.
   * @default 2000
   */
  retryDelayMs?: number;
  /**
   * Give up (the remaining units count as failed) once every server has been
   * down for this long with nothing in flight, ms.
   * @default 300000
   */
  giveUpAfterMs?: number;
  /** Stops the campaign; units in flight are lost (not recorded). */
  signal?: AbortSignal;
  /** Receives one line per event. */
  log?: (line: string) => void;
}

/** What {@linkcode runCampaign} returns. */
export interface CampaignOutcome {
  /** Units finished by this run. */
  finished: UnitResult[];
  /** Units that were already in the results file. */
  skipped: string[];
  /** Units given up, with the last error. */
  failed: { key: string; error: string }[];
}

/** Whether an error means "this server failed", so another may succeed. */
export function isServerFailure(err: unknown): boolean {
  if (err instanceof UnitFailedError) return false;
  if (err instanceof RpcError) {
    return [
      Status.UNAVAILABLE,
      Status.DEADLINE_EXCEEDED,
      Status.CANCELLED,
      Status.UNKNOWN,
      Status.INTERNAL,
      Status.ABORTED,
      Status.RESOURCE_EXHAUSTED,
    ].includes(err.code);
  }
  return true; // Lost connections and interrupted jobs surface as plain errors.
}

/**
 * Runs a campaign over servers, resuming from the results file.
 *
 * @param campaign the campaign
 * @param servers where units run (at least one)
 * @param resultsPath the JSONL results file (created if missing)
 * @param options concurrency, retries, signal, log
 * @returns finished, skipped and failed units
 * @throws {RangeError} when no server is given
 */
export async function runCampaign(
  campaign: Campaign,
  servers: readonly CampaignServer[],
  resultsPath: string,
  options: RunCampaignOptions = {},
): Promise<CampaignOutcome> {
  if (servers.length === 0) {
    throw new RangeError("Cannot run the campaign: no server is given");
  }
  const log = options.log ?? (() => {});
  const maxAttempts = options.maxAttempts ?? 3 * servers.length;
  const retryDelayMs = options.retryDelayMs ?? 2000;
  using results = await openResultsLog(
    resultsPath,
    resultsFingerprint(campaign),
  );
  const outcome: CampaignOutcome = { finished: [], skipped: [], failed: [] };
  const queue: { unit: Unit; attempts: number; avoid?: string }[] = [];
  for (const unit of campaignUnits(campaign)) {
    if (results.done.has(unit.key)) outcome.skipped.push(unit.key);
    else queue.push({ unit, attempts: 0 });
  }
  log(
    `${queue.length} units to run, ${outcome.skipped.length} already done`,
  );
  let inFlight = 0;
  const down = new Set<string>();
  const idle = () => new Promise((r) => setTimeout(r, retryDelayMs));
  const giveUpAfterMs = options.giveUpAfterMs ?? 300_000;
  let allDownSince: number | undefined;
  const hopeless = () => {
    if (inFlight > 0 || servers.some((s) => !down.has(s.address))) {
      allDownSince = undefined;
      return false;
    }
    allDownSince ??= Date.now();
    return Date.now() - allDownSince >= giveUpAfterMs;
  };

  async function slot(server: CampaignServer): Promise<void> {
    while (!options.signal?.aborted) {
      if (down.has(server.address)) {
        try {
          await server.client.checkHealth("", { timeoutMs: 2000 });
          down.delete(server.address);
          log(`${server.address} is back`);
        } catch {
          if (queue.length === 0 && inFlight === 0) return;
          if (hopeless()) {
            log(
              `every server has been down for ${giveUpAfterMs} ms; giving up`,
            );
            return;
          }
          await idle();
          continue;
        }
      }
      // A unit that just failed here waits for another server, unless none is up.
      const othersUp = servers.some((s) =>
        s !== server && !down.has(s.address)
      );
      const index = queue.findIndex((q) =>
        q.avoid !== server.address || !othersUp
      );
      if (index < 0) {
        if (queue.length === 0 && inFlight === 0) return;
        await idle();
        continue;
      }
      const item = queue.splice(index, 1)[0]!;
      item.attempts++;
      inFlight++;
      const peers = servers.filter((s) => s !== server);
      log(
        `${item.unit.key}: start on ${server.address} (attempt ${item.attempts})`,
      );
      try {
        const r = await runUnit(server, item.unit, campaign, {
          peers,
          ...(options.signal ? { signal: options.signal } : {}),
          onEvent: (e) => log(`${item.unit.key}: ${e}`),
        });
        const line: UnitResult = {
          ...r,
          fingerprint: resultsFingerprint(campaign),
          attempts: item.attempts,
        };
        await results.append(line);
        outcome.finished.push(line);
        log(
          `${item.unit.key}: done on ${server.address} in ${
            (r.timing.totalMs / 1000).toFixed(1)
          } s (${r.modelSource})`,
        );
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (options.signal?.aborted) {
          log(`${item.unit.key}: stopped`);
        } else if (isServerFailure(err) && item.attempts < maxAttempts) {
          log(
            `${item.unit.key}: ${server.address} failed (${message}); requeued`,
          );
          down.add(server.address);
          queue.unshift({ ...item, avoid: server.address });
        } else {
          log(`${item.unit.key}: failed (${message})`);
          outcome.failed.push({ key: item.unit.key, error: message });
        }
      } finally {
        inFlight--;
      }
    }
  }

  const perServer = options.perServer ?? 1;
  await Promise.all(
    servers.flatMap((s) => Array.from({ length: perServer }, () => slot(s))),
  );
  for (const item of queue) {
    outcome.failed.push({ key: item.unit.key, error: "not run" });
  }
  return outcome;
}
