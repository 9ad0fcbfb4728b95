/**
 * Conversions between registry rows (SQLite values, JSON text columns) and
 * records. A row that cannot be parsed means the database file was damaged,
 * so it is reported as DATA_LOSS.
 *
 * @module
 */
import { DataLossError } from "../errors.ts";
import type { JobConfig, JobRecord, JobState, ModelRecord } from "./records.ts";

/** A row as node:sqlite returns it. */
export type Row = Record<string, unknown>;

/** SQLite parameter values. */
export type SqlValue = string | number | null;

function parseJson(row: Row, column: string): unknown {
  const text = row[column];
  try {
    if (typeof text !== "string") throw new TypeError("not text");
    return JSON.parse(text);
  } catch (err) {
    throw new DataLossError(
      `Cannot read registry row "${row.id}": column "${column}" is not JSON`,
      { cause: err },
    );
  }
}

function num(row: Row, column: string): number {
  const value = row[column];
  if (typeof value !== "number") {
    throw new DataLossError(
      `Cannot read registry row "${row.id}": column "${column}" is not a number`,
    );
  }
  return value;
}

function str(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== "string") {
    throw new DataLossError(
      `Cannot read registry row "${row.id}": column "${column}" is not text`,
    );
  }
  return value;
}

/** Columns of `models`, in the order of {@linkcode modelValues}. */
export const MODEL_COLUMNS: readonly string[] = [
  "id",
  "spec",
  "training",
  "dataset",
  "problem",
  "steps",
  "fold",
  "seed",
  "metrics",
  "parameter_count",
  "weights_sha256",
  "size_bytes",
  "format_version",
  "created",
  "state",
  "display_name",
  "training_job_id",
];

/** A model record as SQL values, in {@linkcode MODEL_COLUMNS} order. */
export function modelValues(m: ModelRecord): SqlValue[] {
  return [
    m.id,
    JSON.stringify(m.spec),
    JSON.stringify(m.training),
    m.dataset,
    m.problem,
    m.steps,
    m.fold === null ? null : JSON.stringify(m.fold),
    m.seed,
    JSON.stringify(m.metrics),
    m.parameterCount,
    m.weightsSha256,
    m.sizeBytes,
    m.formatVersion,
    m.created,
    m.state,
    m.displayName,
    m.trainingJobId,
  ];
}

/** Parses a `models` row. */
export function modelFromRow(row: Row): ModelRecord {
  return {
    id: str(row, "id"),
    spec: parseJson(row, "spec") as ModelRecord["spec"],
    training: parseJson(row, "training") as ModelRecord["training"],
    dataset: str(row, "dataset"),
    problem: str(row, "problem"),
    steps: num(row, "steps"),
    fold: row.fold === null
      ? null
      : parseJson(row, "fold") as ModelRecord["fold"],
    seed: num(row, "seed"),
    metrics: parseJson(row, "metrics") as Record<string, number>,
    parameterCount: num(row, "parameter_count"),
    weightsSha256: str(row, "weights_sha256"),
    sizeBytes: num(row, "size_bytes"),
    formatVersion: num(row, "format_version"),
    created: str(row, "created"),
    state: str(row, "state") as ModelRecord["state"],
    displayName: str(row, "display_name"),
    trainingJobId: str(row, "training_job_id"),
  };
}

/** Columns of `jobs`, in the order of {@linkcode jobValues}. */
export const JOB_COLUMNS: readonly string[] = [
  "id",
  "state",
  "config",
  "spec",
  "progress",
  "last_completed_epoch",
  "model_id",
  "error",
  "display_name",
  "created",
  "updated",
  "started",
  "ended",
];

/** A job record as SQL values, in {@linkcode JOB_COLUMNS} order. */
export function jobValues(j: JobRecord): SqlValue[] {
  return [
    j.id,
    j.state,
    JSON.stringify(j.config),
    JSON.stringify(j.spec),
    JSON.stringify(j.progress),
    j.lastCompletedEpoch,
    j.modelId,
    j.error,
    j.displayName,
    j.created,
    j.updated,
    j.started,
    j.ended,
  ];
}

/** Parses a `jobs` row. */
export function jobFromRow<C extends JobConfig>(row: Row): JobRecord<C> {
  return {
    id: str(row, "id"),
    state: str(row, "state") as JobState,
    config: parseJson(row, "config") as C,
    spec: parseJson(row, "spec") as JobRecord["spec"],
    progress: parseJson(row, "progress") as JobRecord["progress"],
    lastCompletedEpoch: num(row, "last_completed_epoch"),
    modelId: str(row, "model_id"),
    error: str(row, "error"),
    displayName: str(row, "display_name"),
    created: str(row, "created"),
    updated: str(row, "updated"),
    started: str(row, "started"),
    ended: str(row, "ended"),
  };
}
