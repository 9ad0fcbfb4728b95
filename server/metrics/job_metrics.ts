/**
 * Training-job metrics, read from the job manager at every scrape: jobs by
 * state, and for each running job its epoch, its step fraction within the
 * epoch and its overall progress.
 *
 * @module
 */
import { JOB_STATES, type JobState } from "../storage/mod.ts";
import type { MetricsRegistry } from "./metrics_registry.ts";

/** The part of a job record the metrics read. */
export interface JobSnapshot {
  /** The job id. */
  id: string;
  /** Its state. */
  state: string;
  /** Its progress. */
  progress: {
    epoch: number;
    epochs: number;
    step: number;
    stepsPerEpoch: number;
    completedEpochs: number;
  };
}

/** What the metrics read from the job manager (`JobManager.list`). */
export interface JobSource {
  /** One page of jobs in the given states. */
  list(options: {
    states: readonly JobState[];
    pageSize: number;
    pageToken: string;
  }): { items: readonly JobSnapshot[]; nextPageToken: string };
}

const PAGE = 1000;

/**
 * Registers the training-job metrics.
 *
 * @param registry where they are rendered
 * @param jobs the job manager
 */
export function addJobMetrics(
  registry: MetricsRegistry,
  jobs: JobSource,
): void {
  const byState = registry.gauge(
    "rnn_explain_training_jobs",
    "Training jobs known to the server, by state",
    ["state"],
  );
  const epoch = registry.gauge(
    "rnn_explain_training_job_epoch",
    "Current epoch (1-based) of each running training job",
    ["job_id"],
  );
  const epochs = registry.gauge(
    "rnn_explain_training_job_epochs",
    "Total epochs of each running training job",
    ["job_id"],
  );
  const step = registry.gauge(
    "rnn_explain_training_job_epoch_progress_ratio",
    "Share of the current epoch's steps done, per running training job",
    ["job_id"],
  );
  const overall = registry.gauge(
    "rnn_explain_training_job_progress_ratio",
    "Share of all the job's steps done, per running training job",
    ["job_id"],
  );
  registry.addCollector(() => {
    for (const f of [epoch, epochs, step, overall]) f.reset();
    for (const state of JOB_STATES) {
      const found = listAll(jobs, state);
      byState.set({ state }, found.length);
      if (state !== "RUNNING") continue;
      for (const job of found) {
        const p = job.progress;
        const within = p.stepsPerEpoch > 0
          ? Math.min(1, p.step / p.stepsPerEpoch)
          : 0;
        const labels = { "job_id": job.id };
        epoch.set(labels, p.epoch);
        epochs.set(labels, p.epochs);
        step.set(labels, within);
        overall.set(
          labels,
          p.epochs > 0
            ? Math.min(1, (p.completedEpochs + within) / p.epochs)
            : 0,
        );
      }
    }
  });
}

function listAll(jobs: JobSource, state: JobState): JobSnapshot[] {
  const out: JobSnapshot[] = [];
  let pageToken = "";
  do {
    const page = jobs.list({ states: [state], pageSize: PAGE, pageToken });
    out.push(...page.items);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return out;
}
