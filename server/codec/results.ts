/**
 * Compute results → wire responses: classifications and evaluation reports.
 *
 * @module
 */
import type { MethodName, Summary } from "../../models/mod.ts";
import type { ClassifyResult, ExplainerReport } from "../compute/mod.ts";
import { Classification } from "../../proto/gen/rnnexplain/v1/inference_service.ts";
import {
  ExplainerReport as WireReport,
  type MetricSummary,
} from "../../proto/gen/rnnexplain/v1/evaluation_service.ts";
import { encodeEnum, METHOD, NEGATIVE } from "./enums.ts";
import { encodeParams } from "./explainer.ts";
import { encodeTensor } from "./tensor.ts";

/** Number of real classes (logits); probabilities carry one more, the pseudo class. */
const CLASSES = 10;

/**
 * One row of a classify result for the wire.
 *
 * @param result the pool's classify result
 * @param n the row
 * @returns the wire classification
 */
export function encodeClassification(
  result: ClassifyResult,
  n: number,
): Classification {
  const logits = Array.from(
    result.logits.subarray(n * CLASSES, (n + 1) * CLASSES),
  );
  const p = result.probabilities.subarray(
    n * (CLASSES + 1),
    (n + 1) * (CLASSES + 1),
  );
  const label = result.labels[n];
  return Classification.fromPartial({
    logits,
    probabilities: Array.from(p.subarray(0, CLASSES)),
    pseudoClassProbability: p[CLASSES]!,
    predictedClass: result.predicted[n]!,
    ...(label === null || label === undefined ? {} : { trueLabel: label }),
  });
}

/**
 * Every row of a classify result for the wire, in input order.
 */
export function encodeClassifications(
  result: ClassifyResult,
): Classification[] {
  return result.labels.map((_, n) => encodeClassification(result, n));
}

function metric(s: Summary): MetricSummary {
  return { mean: s.mean, std: s.std, ci95Low: s.ciLow, ci95High: s.ciHigh };
}

/**
 * One explainer's evaluation report for the wire.
 *
 * @param report the pool's report
 * @returns the wire report
 */
export function encodeReport(report: ExplainerReport): WireReport {
  const s = report.perSample;
  return WireReport.fromPartial({
    explainer: {
      method: encodeEnum(METHOD, report.method as MethodName),
      params: encodeParams(report.params),
    },
    negativeRelevance: encodeEnum(NEGATIVE, report.negative),
    sampleCount: report.sampleCount,
    modelAccuracy: report.modelAccuracy,
    cosineSimilarity: metric(report.cosineSimilarity),
    correctBlockShare: metric(report.correctBlockShare),
    relevanceMassAccuracy: metric(report.relevanceMassAccuracy),
    relevanceRankAccuracy: metric(report.relevanceRankAccuracy),
    ...(s === undefined ? {} : {
      perSample: {
        indices: Array.from(s.indices),
        labels: Array.from(s.labels),
        predictedClasses: Array.from(s.predicted),
        blockRelevances: encodeTensor(s.blockRelevance, [
          s.indices.length,
          3,
        ]),
        cosineSimilarities: Array.from(s.cosineSimilarity),
        correctBlockShares: Array.from(s.correctBlockShare),
        relevanceMassAccuracies: Array.from(s.relevanceMassAccuracy),
        relevanceRankAccuracies: Array.from(s.relevanceRankAccuracy),
      },
    }),
  });
}
