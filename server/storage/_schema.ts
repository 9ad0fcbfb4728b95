/**
 * The registry's SQL schema as numbered migrations. `PRAGMA user_version`
 * records how many have run; each runs in its own transaction together with
 * the version bump, so a crash mid-migration leaves the previous version.
 * Append new migrations; never edit a released one.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { PreconditionError } from "../errors.ts";

/** Migration `i` brings the schema from version `i` to `i + 1`. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE models (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    spec TEXT NOT NULL,
    training TEXT NOT NULL,
    dataset TEXT NOT NULL,
    problem TEXT NOT NULL,
    steps INTEGER NOT NULL,
    fold TEXT,
    seed INTEGER NOT NULL,
    metrics TEXT NOT NULL,
    parameter_count INTEGER NOT NULL,
    weights_sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    format_version INTEGER NOT NULL,
    created TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('READY', 'DATA_LOSS')),
    display_name TEXT NOT NULL DEFAULT '',
    training_job_id TEXT NOT NULL DEFAULT ''
  ) STRICT;
  CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN
      ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED')),
    config TEXT NOT NULL,
    spec TEXT NOT NULL,
    progress TEXT NOT NULL,
    last_completed_epoch INTEGER NOT NULL DEFAULT 0,
    model_id TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    display_name TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    started TEXT NOT NULL DEFAULT '',
    ended TEXT NOT NULL DEFAULT ''
  ) STRICT;
  CREATE INDEX jobs_state ON jobs (state);
  `,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

/**
 * Brings a database to {@linkcode SCHEMA_VERSION}.
 *
 * @param db the open database
 * @param path the file, for messages
 * @throws {PreconditionError} if the database was written by a newer build
 */
export function migrate(db: DatabaseSync, path: string): void {
  const row = db.prepare("PRAGMA user_version").get() as
    | { user_version: number }
    | undefined;
  const version = row?.user_version ?? 0;
  if (version > SCHEMA_VERSION) {
    throw new PreconditionError(
      `Cannot open registry "${path}": schema version ${version} is newer than this build's ${SCHEMA_VERSION}`,
    );
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(MIGRATIONS[v]!);
      // PRAGMA takes no bound parameters; v is a trusted integer.
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec("COMMIT");
    } catch (err) {
      db.exec("ROLLBACK");
      throw err;
    }
  }
}
