/**
 * Explanations of a unit's held-out samples over RPC (ExplainBatch with
 * sample references), with the same samples' pixels rebuilt locally from the
 * dataset (server/datasets door + models' buildProblem, the construction the
 * server runs), for heatmap grids (Figures 3.4, 3.11, 3.17, 3.19) and the
 * distribution of relevance over time steps (Figure 3.7).
 *
 * @module
 */
import {
  decodeTensor,
  Method,
  Problem,
  type RnnExplainClient,
  SplitPart,
} from "../../client/mod.ts";
import { buildProblem } from "../../models/mod.ts";
import { type DatasetName, loadDataset } from "../../server/datasets/mod.ts";
import { unitDataSource } from "../campaign/run_unit.ts";
import type { Campaign, CampaignExplainer } from "../campaign/campaign_spec.ts";
import type { UnitResult } from "../campaign/unit_result.ts";

/** The first samples of a unit's test part: pixels, labels, explanations. */
export interface UnitExplanations {
  /** Samples. */
  count: number;
  /** Steps T, rows, columns per step. */
  steps: number;
  /** Image rows. */
  rows: number;
  /** Columns per step. */
  columns: number;
  /** Pixels [count, T, rows, columns] in [−1, 1]. */
  x: Float32Array;
  /** True classes. */
  labels: Uint8Array;
  /** Relevance per explainer name, [count, T, rows, columns]. */
  relevance: Map<string, Float32Array>;
  /** Predicted classes per explainer name (same for all). */
  predicted: number[];
}

/**
 * Explains the first `count` test samples of a unit with every explainer.
 *
 * @param client a client of the server holding the unit's model
 * @param unit the unit's results line
 * @param campaign the campaign (explainers, steps)
 * @param count samples
 * @returns pixels, labels and relevance
 */
export async function explainUnit(
  client: RnnExplainClient,
  unit: UnitResult,
  campaign: Pick<Campaign, "steps"> & { explainers: CampaignExplainer[] },
  count: number,
): Promise<UnitExplanations> {
  const source = unitDataSource(unit);
  const steps = campaign.steps;
  const { train, test } = await loadDataset(unit.dataset as DatasetName);
  const problem = buildProblem({ train, test }, {
    problem: "majority",
    steps,
    split: { kind: "fold", folds: unit.folds, fold: unit.fold },
    seed: unit.seed,
  });
  const n = Math.min(count, problem.test.count);
  const rows = problem.height;
  const columns = problem.columns;
  const size = steps * rows * columns;
  const relevance = new Map<string, Float32Array>();
  let predicted: number[] = [];
  for (const e of campaign.explainers) {
    const response = await client.explainBatch({
      modelId: unit.modelId,
      inputs: Array.from({ length: n }, (_, index) => ({
        source: {
          $case: "sample" as const,
          sample: {
            source: { ...source, problem: Problem.PROBLEM_MAJORITY },
            part: SplitPart.SPLIT_PART_TEST,
            index,
          },
        },
      })),
      explainer: {
        method: Method[
          `METHOD_${e.method.toUpperCase()}` as keyof typeof Method
        ] as Method,
        params: e.params ?? {},
      },
    }, { timeoutMs: 300_000 });
    relevance.set(e.name, decodeTensor(response.relevance!).data);
    predicted = response.summaries.map((s) => s.predictedClass);
  }
  return {
    count: n,
    steps,
    rows,
    columns,
    x: problem.test.x.slice(0, n * size),
    labels: problem.test.labels.slice(0, n),
    relevance,
    predicted,
  };
}

/**
 * Mean share of relevance per time step (relevance summed per step over the
 * total, as thesis-code §5.1, no clipping), and the same for ink
 * ((x + 1) / 2, background 0): Figure 3.7's two distributions.
 *
 * @param e the explanations
 * @returns `pixels` and one array per explainer, each of length T
 */
export function stepDistributions(
  e: UnitExplanations,
): { pixels: number[]; methods: Map<string, number[]> } {
  const stepSize = e.rows * e.columns;
  const size = e.steps * stepSize;
  const share = (values: ArrayLike<number>, map: (v: number) => number) => {
    const mean = new Array(e.steps).fill(0);
    for (let n = 0; n < e.count; n++) {
      const sums = new Array(e.steps).fill(0);
      let total = 0;
      for (let t = 0; t < e.steps; t++) {
        for (let i = 0; i < stepSize; i++) {
          sums[t] += map(values[n * size + t * stepSize + i]!);
        }
        total += sums[t];
      }
      for (let t = 0; t < e.steps; t++) {
        mean[t] += sums[t] / (total + 1e-20) / e.count;
      }
    }
    return mean;
  };
  const methods = new Map<string, number[]>();
  for (const [name, r] of e.relevance) methods.set(name, share(r, (v) => v));
  return { pixels: share(e.x, (v) => (v + 1) / 2), methods };
}
