import assert from "node:assert/strict";
import { addJobMetrics, type JobSnapshot } from "./job_metrics.ts";
import { MetricsRegistry } from "./metrics_registry.ts";

function job(id: string, state: string, step = 0): JobSnapshot {
  return {
    id,
    state,
    progress: {
      epoch: 3,
      epochs: 4,
      step,
      stepsPerEpoch: 10,
      completedEpochs: 2,
    },
  };
}

Deno.test("addJobMetrics() counts jobs by state over every page and reports running jobs' progress", () => {
  const all = [
    job("j1", "RUNNING", 5),
    job("j2", "SUCCEEDED"),
    job("j3", "SUCCEEDED"),
    job("j4", "QUEUED"),
  ];
  const registry = new MetricsRegistry();
  addJobMetrics(registry, {
    list({ states, pageToken }) {
      // One job per page, to exercise the paging.
      const matching = all.filter((j) =>
        (states as readonly string[]).includes(j.state)
      );
      const at = pageToken === "" ? 0 : Number(pageToken);
      return {
        items: matching.slice(at, at + 1),
        nextPageToken: at + 1 < matching.length ? String(at + 1) : "",
      };
    },
  });
  let text = registry.render();
  assert.match(text, /^rnn_explain_training_jobs\{state="SUCCEEDED"\} 2$/m);
  assert.match(text, /^rnn_explain_training_jobs\{state="RUNNING"\} 1$/m);
  assert.match(text, /^rnn_explain_training_jobs\{state="FAILED"\} 0$/m);
  assert.match(text, /^rnn_explain_training_job_epoch\{job_id="j1"\} 3$/m);
  assert.match(
    text,
    /^rnn_explain_training_job_epoch_progress_ratio\{job_id="j1"\} 0.5$/m,
  );
  assert.match(
    text,
    /^rnn_explain_training_job_progress_ratio\{job_id="j1"\} 0.625$/m,
  );
  // A finished job's progress series disappear.
  all[0]!.state = "SUCCEEDED";
  text = registry.render();
  assert.match(text, /^rnn_explain_training_jobs\{state="SUCCEEDED"\} 3$/m);
  assert.doesNotMatch(text, /job_id="j1"/);
});
