/**
 * The SQLite registry of models and training jobs (`node:sqlite`, WAL mode,
 * schema versioned by `PRAGMA user_version`, see `_schema.ts`). All SQL of
 * the project lives in this file and `_schema.ts`; every multi-step write
 * runs in one `BEGIN IMMEDIATE` transaction.
 *
 * The registry knows rows only; checkpoint files are `model_store.ts`'s.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { AlreadyExistsError, ConflictError } from "../errors.ts";
import { migrate } from "./_schema.ts";
import {
  JOB_COLUMNS,
  jobFromRow,
  jobValues,
  MODEL_COLUMNS,
  modelFromRow,
  modelValues,
  type Row,
  type SqlValue,
} from "./_rows.ts";
import {
  JOB_STATES,
  type JobRecord,
  type JobState,
  type ListOptions,
  type ModelRecord,
  type ModelState,
  type Page,
  type TrainingProgress,
} from "./records.ts";
import {
  decodePageToken,
  encodePageToken,
  resolvePageSize,
} from "./page_token.ts";

/** Options of {@linkcode Registry.listJobs}. */
export interface ListJobsOptions extends ListOptions {
  /**
   * Only jobs in one of these states; empty means all.
   * @default []
   */
  states?: readonly JobState[];
}

/** A state change of a job; `updated` is always set to now. */
export interface JobChange {
  /** The new state. */
  state: JobState;
  /** @default unchanged */
  progress?: TrainingProgress;
  /** @default unchanged */
  lastCompletedEpoch?: number;
  /** @default unchanged */
  modelId?: string;
  /** @default unchanged */
  error?: string;
  /** @default unchanged */
  started?: string;
  /** @default unchanged */
  ended?: string;
}

/** Options of {@linkcode Registry.insertModel}. */
export interface InsertModelOptions {
  /**
   * A RUNNING job that produced the model: in the same transaction it
   * becomes SUCCEEDED with this model id and progress, its last completed
   * epoch set to `progress.completedEpochs`.
   * @default undefined
   */
  completeJob?: { id: string; progress: TrainingProgress };
}

const JOB_CHANGE_COLUMNS = {
  progress: "progress",
  lastCompletedEpoch: "last_completed_epoch",
  modelId: "model_id",
  error: "error",
  started: "started",
  ended: "ended",
} as const;

/** The registry database. Open it with {@linkcode openRegistry}. */
export class Registry implements Disposable {
  /** The database file. */
  readonly path: string;
  #db: DatabaseSync;
  #statements = new Map<string, StatementSync>();

  /**
   * Wraps an open, migrated database; use {@linkcode openRegistry}.
   *
   * @param db the database
   * @param path its file, for messages
   */
  constructor(db: DatabaseSync, path: string) {
    this.#db = db;
    this.path = path;
  }

  /** Closes the database; idempotent. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
    this.#statements.clear();
  }

  /** Same as {@linkcode Registry.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #stmt(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #transaction<T>(fn: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.#db.exec("COMMIT");
      return result;
    } catch (err) {
      this.#db.exec("ROLLBACK");
      throw err;
    }
  }

  /**
   * Inserts a model row.
   *
   * @param model the record
   * @param options a job to mark SUCCEEDED in the same transaction
   * @throws {AlreadyExistsError} if a model with this id exists
   * @throws {ConflictError} if `completeJob` is not RUNNING (nothing is written)
   */
  insertModel(model: ModelRecord, options: InsertModelOptions = {}): void {
    this.#transaction(() => {
      if (this.#stmt("SELECT 1 FROM models WHERE id = ?").get(model.id)) {
        throw new AlreadyExistsError(
          `Cannot register model "${model.id}": it already exists`,
        );
      }
      this.#stmt(
        `INSERT INTO models (${MODEL_COLUMNS.join(", ")}) VALUES (${
          MODEL_COLUMNS.map(() => "?").join(", ")
        })`,
      ).run(...modelValues(model));
      const job = options.completeJob;
      if (job === undefined) return;
      const now = new Date().toISOString();
      const { changes } = this.#stmt(
        `UPDATE jobs SET state = 'SUCCEEDED', model_id = ?, progress = ?,
           last_completed_epoch = ?, error = '', ended = ?, updated = ?
         WHERE id = ? AND state = 'RUNNING'`,
      ).run(
        model.id,
        JSON.stringify(job.progress),
        job.progress.completedEpochs,
        now,
        now,
        job.id,
      );
      if (changes === 0) {
        throw new ConflictError(
          `Cannot complete job "${job.id}": it is no longer running`,
        );
      }
    });
  }

  /** Returns a model, or `undefined` for an unknown id. */
  getModel(id: string): ModelRecord | undefined {
    const row = this.#stmt("SELECT * FROM models WHERE id = ?").get(id);
    return row === undefined ? undefined : modelFromRow(row as Row);
  }

  /**
   * Lists models, newest first.
   *
   * @throws {RangeError} for a malformed page token or size
   */
  listModels(options: ListOptions = {}): Page<ModelRecord> {
    return this.#page("models", options, "", [], modelFromRow);
  }

  /** Returns every model id. */
  modelIds(): string[] {
    return this.#stmt("SELECT id FROM models").all().map((r) =>
      String((r as Row).id)
    );
  }

  /** Sets a model's state; returns whether the model exists. */
  setModelState(id: string, state: ModelState): boolean {
    return this.#stmt("UPDATE models SET state = ? WHERE id = ?")
      .run(state, id).changes > 0;
  }

  /** Deletes a model row; returns whether it existed. */
  deleteModel(id: string): boolean {
    return this.#stmt("DELETE FROM models WHERE id = ?").run(id).changes > 0;
  }

  /**
   * Inserts a job row.
   *
   * @throws {AlreadyExistsError} if a job with this id exists
   */
  insertJob(job: JobRecord): void {
    this.#transaction(() => {
      if (this.#stmt("SELECT 1 FROM jobs WHERE id = ?").get(job.id)) {
        throw new AlreadyExistsError(
          `Cannot register job "${job.id}": it already exists`,
        );
      }
      this.#stmt(
        `INSERT INTO jobs (${JOB_COLUMNS.join(", ")}) VALUES (${
          JOB_COLUMNS.map(() => "?").join(", ")
        })`,
      ).run(...jobValues(job));
    });
  }

  /** Returns a job, or `undefined` for an unknown id. */
  getJob(id: string): JobRecord | undefined {
    const row = this.#stmt("SELECT * FROM jobs WHERE id = ?").get(id);
    return row === undefined ? undefined : jobFromRow(row as Row);
  }

  /**
   * Lists jobs, newest first.
   *
   * @throws {RangeError} for a malformed page token, size or state
   */
  listJobs(options: ListJobsOptions = {}): Page<JobRecord> {
    const states = options.states ?? [];
    for (const state of states) {
      if (!JOB_STATES.includes(state)) {
        throw new RangeError(
          `Cannot list jobs: unknown state ${JSON.stringify(state)}`,
        );
      }
    }
    const where = states.length === 0
      ? ""
      : `AND state IN (${states.map(() => "?").join(", ")})`;
    return this.#page("jobs", options, where, [...states], jobFromRow);
  }

  #page<T>(
    table: "models" | "jobs",
    options: ListOptions,
    where: string,
    params: SqlValue[],
    parse: (row: Row) => T,
  ): Page<T> {
    const size = resolvePageSize(table, options.pageSize);
    const after = decodePageToken(table, options.pageToken ?? "") ??
      Number.MAX_SAFE_INTEGER;
    const rows = this.#stmt(
      `SELECT * FROM ${table} WHERE seq < ? ${where} ORDER BY seq DESC LIMIT ?`,
    ).all(after, ...params, size + 1) as Row[];
    const items = rows.slice(0, size);
    const last = items.at(-1);
    return {
      items: items.map(parse),
      nextPageToken: rows.length > size && last !== undefined
        ? encodePageToken(table, Number(last.seq))
        : "",
    };
  }

  /**
   * Changes a job's state if it is in one of `from` (compare-and-set).
   *
   * @param id the job
   * @param from the states the change is allowed from
   * @param change the new state and fields
   * @returns the updated job, or `undefined` if it does not exist or was in another state
   */
  transitionJob(
    id: string,
    from: readonly JobState[],
    change: JobChange,
  ): JobRecord | undefined {
    const sets = ["state = ?", "updated = ?"];
    const values: SqlValue[] = [change.state, new Date().toISOString()];
    for (const [key, column] of Object.entries(JOB_CHANGE_COLUMNS)) {
      const value = change[key as keyof typeof JOB_CHANGE_COLUMNS];
      if (value === undefined) continue;
      sets.push(`${column} = ?`);
      values.push(typeof value === "object" ? JSON.stringify(value) : value);
    }
    return this.#transaction(() => {
      const { changes } = this.#stmt(
        `UPDATE jobs SET ${sets.join(", ")} WHERE id = ? AND state IN (${
          from.map(() => "?").join(", ")
        })`,
      ).run(...values, id, ...from);
      return changes === 0 ? undefined : this.getJob(id);
    });
  }

  /** Stores a RUNNING job's progress; returns whether it was RUNNING. */
  saveJobProgress(id: string, progress: TrainingProgress): boolean {
    return this.#stmt(
      "UPDATE jobs SET progress = ?, updated = ? WHERE id = ? AND state = 'RUNNING'",
    ).run(JSON.stringify(progress), new Date().toISOString(), id).changes > 0;
  }

  /**
   * Records that a RUNNING job completed (and checkpointed) `epoch`, with
   * its progress, in one statement.
   *
   * @returns whether the job was RUNNING with fewer completed epochs
   */
  recordJobEpoch(
    id: string,
    epoch: number,
    progress: TrainingProgress,
  ): boolean {
    return this.#stmt(
      `UPDATE jobs SET last_completed_epoch = ?, progress = ?, updated = ?
         WHERE id = ? AND state = 'RUNNING' AND last_completed_epoch < ?`,
    ).run(epoch, JSON.stringify(progress), new Date().toISOString(), id, epoch)
      .changes > 0;
  }

  /**
   * Marks every QUEUED or RUNNING job INTERRUPTED, in one transaction: what
   * a restart does for the jobs of a process that died.
   *
   * @param reason stored as the jobs' error
   * @returns the ids of the interrupted jobs
   */
  interruptUnfinishedJobs(reason: string): string[] {
    return this.#transaction(() => {
      const ids = this.#stmt(
        "SELECT id FROM jobs WHERE state IN ('QUEUED', 'RUNNING')",
      ).all().map((r) => String((r as Row).id));
      const now = new Date().toISOString();
      this.#stmt(
        `UPDATE jobs SET state = 'INTERRUPTED', error = ?, ended = ?, updated = ?
           WHERE state IN ('QUEUED', 'RUNNING')`,
      ).run(reason, now, now);
      return ids;
    });
  }

  /** Returns the jobs that may still resume and the epoch each would resume from. */
  resumableJobs(): { id: string; lastCompletedEpoch: number }[] {
    return this.#stmt(
      `SELECT id, last_completed_epoch FROM jobs
         WHERE state IN ('QUEUED', 'RUNNING', 'INTERRUPTED')`,
    ).all().map((r) => ({
      id: String((r as Row).id),
      lastCompletedEpoch: Number((r as Row).last_completed_epoch),
    }));
  }
}

/**
 * Opens (creating if needed) the registry database and migrates it.
 *
 * @param path the SQLite file, or `":memory:"`
 * @returns the registry; close it (or `using` it) when done
 * @throws {PreconditionError} if the schema is newer than this build's
 *
 * @example
 * ```ts
 * using registry = openRegistry("/tmp/registry.sqlite");
 * registry.listModels({ pageSize: 10 });
 * ```
 */
export function openRegistry(path: string): Registry {
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA journal_mode = WAL");
    // FULL: a committed epoch record survives power loss, not only a kill.
    db.exec("PRAGMA synchronous = FULL");
    db.exec("PRAGMA busy_timeout = 5000");
    migrate(db, path);
  } catch (err) {
    db.close();
    throw err;
  }
  return new Registry(db, path);
}
