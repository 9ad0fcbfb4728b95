/**
 * The record of one finished unit, as a line of the results file.
 *
 * @module
 */

/** Mean, standard deviation and 95% CI of a per-sample metric. */
export interface MetricSummaryRecord {
  /** Mean. */
  mean: number;
  /** Sample standard deviation. */
  std: number;
  /** Lower end of the 95% CI (Student's t). */
  ci95Low: number;
  /** Upper end of the 95% CI (Student's t). */
  ci95High: number;
}

/** Region-perturbation results of one explainer on one unit. */
export interface PerturbationRecord {
  /** AOPC of the explainer's order (true-class logit). */
  aopc: MetricSummaryRecord;
  /** AOPC of a random patch order, the baseline. */
  randomAopc: MetricSummaryRecord;
  /** Mean true-class logit after 0…L perturbation steps, explainer order. */
  curve: number[];
  /** The same for the random order. */
  randomCurve: number[];
  /** Samples perturbed. */
  sampleCount: number;
}

/** One explainer's scores on one unit. */
export interface ExplainerRecord {
  /** The campaign's label. */
  name: string;
  /** The registry key. */
  method: string;
  /** The parameters the server used (defaults filled in). */
  params: Record<string, unknown>;
  /** `"clip"` or `"keep"`. */
  negativeRelevance: string;
  /** Samples scored. */
  sampleCount: number;
  /** Cosine similarity with the block mark (thesis §3.3.2). */
  cosineSimilarity: MetricSummaryRecord;
  /** Share of relevance in the two true-class blocks. */
  correctBlockShare: MetricSummaryRecord;
  /** RelevanceMassAccuracy. */
  relevanceMassAccuracy: MetricSummaryRecord;
  /** RelevanceRankAccuracy. */
  relevanceRankAccuracy: MetricSummaryRecord;
  /** Region perturbation, when the campaign asked for it. */
  perturbation?: PerturbationRecord;
}

/** One line of the results file. */
export interface UnitResult {
  /** The unit key. */
  key: string;
  /** The results fingerprint of the campaign that produced it. */
  fingerprint: string;
  /** Dataset key. */
  dataset: string;
  /** Architecture key. */
  architecture: string;
  /** Dropout mode key. */
  dropout: string;
  /** Thesis label, for example `R-LSTM-SD`. */
  label: string;
  /** Fold. */
  fold: number;
  /** k. */
  folds: number;
  /** Seed. */
  seed: number;
  /** The server address that evaluated it. */
  server: string;
  /** The server's backend as given on the command line (`unknown` when not). */
  backend: string;
  /** The model's id on that server. */
  modelId: string;
  /** How the model was obtained. */
  modelSource: "trained" | "reused" | "imported";
  /** Training samples, held-out accuracy etc. from the model's metrics. */
  training: {
    trainSamples: number;
    trainAccuracy: number;
    heldoutAccuracy: number;
    heldoutSamples: number;
    epochs: number;
  };
  /** Accuracy on the evaluated samples. */
  evalAccuracy: number;
  /** Every explainer's scores, in campaign order. */
  explainers: ExplainerRecord[];
  /** Wall times in ms. */
  timing: { modelMs: number; evaluateMs: number; totalMs: number };
  /** Attempts it took (1 when the first server finished it). */
  attempts: number;
  /** ISO time of completion. */
  finishedAt: string;
}
