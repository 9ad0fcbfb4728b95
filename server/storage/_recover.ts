/**
 * What opening a store does after an unclean stop, so that the registry and
 * the checkpoint folders agree again. The registry row is the commit point
 * of a model: files are written before the row is inserted and removed after
 * it is deleted. Hence:
 *
 * 1. Jobs left QUEUED or RUNNING by the previous process become INTERRUPTED
 *    (they keep their last completed epoch and its weights, so they can be
 *    resumed). This assumes one process per store directory.
 * 2. Temporary files of interrupted writes are deleted.
 * 3. Model files without a row (a crash inside `save` or `delete`) are not
 *    served; they are moved to `orphans/<time>/` rather than deleted, so that
 *    a lost or replaced registry file can never wipe the checkpoints.
 * 4. A READY row whose files are missing or have the wrong size becomes
 *    DATA_LOSS (listed, not served; `delete` removes it). A DATA_LOSS row whose
 *    files are back and verify becomes READY again. Full hashes of READY rows
 *    are checked on every read, not here, so opening stays fast.
 * 5. Epoch checkpoints that no resumable job refers to are deleted.
 *
 * @module
 */
import { DataLossError, NotFoundError, PreconditionError } from "../errors.ts";
import {
  readCheckpoint,
  removeCheckpoint,
  scanCheckpoints,
  statCheckpoint,
} from "./checkpoint_files.ts";
import { parseEpochCheckpointId } from "./epoch_checkpoints.ts";
import type { Registry } from "./registry.ts";
import { verifyCheckpoint } from "./_verify.ts";

/** What recovery changed; empty lists after a clean stop. */
export interface RecoveryReport {
  /** Jobs marked INTERRUPTED. */
  interruptedJobs: string[];
  /** Model ids whose files were moved to `orphansDir`. */
  orphanedModels: string[];
  /** Where orphans went, or `""` when there were none. */
  orphansDir: string;
  /** Models marked DATA_LOSS. */
  damagedModels: string[];
  /** DATA_LOSS models whose files verify again, marked READY. */
  restoredModels: string[];
  /** Epoch checkpoints deleted. */
  removedEpochCheckpoints: string[];
  /** Temporary files deleted. */
  removedTemporaries: number;
}

/** The folders of a store. */
export interface StoreDirs {
  /** Model checkpoints. */
  models: string;
  /** Epoch checkpoints of training jobs. */
  epochs: string;
  /** Where orphaned model files are moved. */
  orphans: string;
}

/** The message stored on jobs interrupted by a restart. */
export const INTERRUPTED_BY_RESTART =
  "Interrupted: the server stopped while the job was queued or running";

async function removeTemporaries(
  dir: string,
  names: string[],
): Promise<number> {
  for (const name of names) {
    await Deno.remove(`${dir}/${name}`).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
  return names.length;
}

async function quarantine(
  dirs: StoreDirs,
  ids: string[],
  report: RecoveryReport,
): Promise<void> {
  if (ids.length === 0) return;
  const dir = dirs.models;
  const stamp = new Date().toISOString().replaceAll(":", "-");
  const target = `${dirs.orphans}/${stamp}`;
  await Deno.mkdir(target, { recursive: true });
  for (const id of ids) {
    for (const ext of [".json", ".safetensors"]) {
      await Deno.rename(`${dir}/${id}${ext}`, `${target}/${id}${ext}`).catch(
        (err) => {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        },
      );
    }
  }
  report.orphanedModels.push(...ids);
  report.orphansDir = await Deno.realPath(target);
}

async function filesVerify(
  dir: string,
  id: string,
  sha256: string,
): Promise<boolean> {
  try {
    const manifest = await verifyCheckpoint(
      await readCheckpoint(dir, id),
      `verify model "${id}"`,
    );
    return manifest.weights.sha256 === sha256;
  } catch (err) {
    if (
      err instanceof DataLossError || err instanceof PreconditionError ||
      err instanceof NotFoundError
    ) return false;
    throw err;
  }
}

async function recoverModels(
  registry: Registry,
  dirs: StoreDirs,
  report: RecoveryReport,
): Promise<void> {
  const dir = dirs.models;
  const scan = await scanCheckpoints(dir);
  report.removedTemporaries += await removeTemporaries(dir, scan.temporaries);
  const rows = new Set(registry.modelIds());
  await quarantine(dirs, [...scan.ids].filter((id) => !rows.has(id)), report);
  for (const id of rows) {
    const model = registry.getModel(id)!;
    if (model.state === "READY") {
      const sizes = await statCheckpoint(dir, id);
      const total = (sizes.manifest ?? NaN) + (sizes.weights ?? NaN);
      if (total !== model.sizeBytes) {
        registry.setModelState(id, "DATA_LOSS");
        report.damagedModels.push(id);
      }
    } else if (await filesVerify(dir, id, model.weightsSha256)) {
      registry.setModelState(id, "READY");
      report.restoredModels.push(id);
    }
  }
}

async function recoverEpochs(
  registry: Registry,
  dir: string,
  report: RecoveryReport,
): Promise<void> {
  const scan = await scanCheckpoints(dir);
  report.removedTemporaries += await removeTemporaries(dir, scan.temporaries);
  const current = new Map(
    registry.resumableJobs().map((j) => [j.id, j.lastCompletedEpoch]),
  );
  for (const id of scan.ids) {
    const parsed = parseEpochCheckpointId(id);
    if (parsed === undefined) continue;
    if (current.get(parsed.jobId) === parsed.epoch) continue;
    await removeCheckpoint(dir, id);
    report.removedEpochCheckpoints.push(id);
  }
}

/**
 * Brings a store back to a consistent state (see the module docs).
 *
 * @param registry the store's registry
 * @param dirs the store's folders
 * @returns what was changed
 */
export async function recoverStore(
  registry: Registry,
  dirs: StoreDirs,
): Promise<RecoveryReport> {
  const report: RecoveryReport = {
    interruptedJobs: registry.interruptUnfinishedJobs(INTERRUPTED_BY_RESTART),
    orphanedModels: [],
    orphansDir: "",
    damagedModels: [],
    restoredModels: [],
    removedEpochCheckpoints: [],
    removedTemporaries: 0,
  };
  await recoverModels(registry, dirs, report);
  await recoverEpochs(registry, dirs.epochs, report);
  return report;
}
