/**
 * `evaluate`: scores explainers on a majority-sample split (thesis §3.3.2)
 * and prints a table of cosine similarity, correct-block share,
 * RelevanceMassAccuracy and RelevanceRankAccuracy (mean ± 95% CI).
 *
 * @module
 */
import {
  type EvaluateRequest,
  type ExplainerReport,
  ExplainerReport as ExplainerReportCodec,
  Method,
  type MetricSummary,
  NegativeRelevance,
  type PartialMessage,
  SplitPart,
} from "../mod.ts";
import { UsageError } from "./args.ts";
import {
  type Command,
  type CommandContext,
  enumKey,
  enumKeys,
  enumValue,
  EXIT,
  formatTable,
} from "./_context.ts";
import {
  explainerParams,
  flagOf,
  METHOD_KEYS,
  PARAM_FLAGS,
  parseTarget,
} from "./explain_commands.ts";
import { methodKey } from "./explanation_files.ts";

/** The methods evaluated when `--methods` is not given (the thesis's four). */
export const DEFAULT_METHODS = [
  "sensitivity",
  "guided_backprop",
  "deep_taylor",
  "lrp_alpha_beta",
] as const;

/** Parameters that belong to one method, so that each gets only its own. */
const METHOD_PARAMS: Record<string, readonly string[]> = {
  "lrp_alpha_beta": ["alpha", "beta", "stabilizer"],
  "lrp_epsilon": ["epsilon", "stabilizer"],
  "deep_taylor": ["low", "high", "stabilizer", "inputDomain"],
  "integrated_gradients": ["steps", "baseline"],
  smoothgrad: ["samples", "noiseStddev", "seed"],
  "guided_backprop": ["gateGradient"],
};

/** `0.912 ± 0.010` (mean ± half the 95% interval). */
export function formatMetric(m: MetricSummary | undefined, digits = 3): string {
  if (m === undefined) return "-";
  const half = (m.ci95High - m.ci95Low) / 2;
  return `${m.mean.toFixed(digits)} ± ${
    Number.isFinite(half) ? half.toFixed(digits) : "?"
  }`;
}

/** The table `evaluate` prints: one row per explainer. */
export function reportTable(reports: readonly ExplainerReport[]): string[] {
  const rows = reports.map((r) => {
    const method = r.explainer ? methodKey(r.explainer.method) : "?";
    const p = r.explainer?.params;
    const label = method === "lrp_alpha_beta" && p?.alpha !== undefined
      ? `${method} (α${p.alpha} β${p.beta ?? 0})`
      : method;
    return [
      label,
      formatMetric(r.cosineSimilarity),
      formatMetric(r.correctBlockShare),
      formatMetric(r.relevanceMassAccuracy),
      formatMetric(r.relevanceRankAccuracy),
      enumKey(NegativeRelevance, r.negativeRelevance, "NEGATIVE_RELEVANCE_"),
      String(r.sampleCount),
      `${(r.modelAccuracy * 100).toFixed(1)}%`,
    ];
  });
  return formatTable(
    [
      "METHOD",
      "COSINE SIM",
      "CORRECT-BLOCK SHARE",
      "MASS ACC",
      "RANK ACC",
      "NEGATIVE",
      "N",
      "MODEL ACC",
    ],
    rows,
  );
}

/** Builds the Evaluate request from the flags. */
export async function evaluateRequest(
  ctx: CommandContext,
  modelId: string,
): Promise<PartialMessage<EvaluateRequest>> {
  const params = explainerParams(ctx);
  const methods = ctx.list("methods", [...DEFAULT_METHODS]);
  const explainers = methods.map((key) => {
    const own = METHOD_PARAMS[key] ?? [];
    return {
      method: enumValue(Method, key, "METHOD_"),
      params: Object.fromEntries(
        Object.entries(params).filter(([field]) => own.includes(field)),
      ),
    };
  });
  const request: PartialMessage<EvaluateRequest> = {
    modelId,
    explainers,
    part: ctx.string("split", "test") === "train"
      ? SplitPart.SPLIT_PART_TRAIN
      : SplitPart.SPLIT_PART_TEST,
    includePerSample: ctx.boolean("per-sample"),
  };
  const maxSamples = ctx.number("max-samples");
  if (maxSamples !== undefined) request.maxSamples = maxSamples;
  const negative = ctx.string("negative");
  if (negative !== undefined) {
    request.negativeRelevance = enumValue(
      NegativeRelevance,
      negative,
      "NEGATIVE_RELEVANCE_",
    );
  }
  const target = parseTarget(ctx.string("target"));
  if (target) request.target = target;
  const fold = ctx.number("fold");
  const folds = ctx.number("folds");
  if (folds !== undefined && fold === undefined) {
    throw new UsageError("Cannot use --folds: --fold is missing");
  }
  if (fold !== undefined) {
    const { model } = await ctx.client.getModel({ modelId }, ctx.call());
    const source = model?.training?.data;
    if (source === undefined) {
      throw new UsageError(
        `Cannot use --fold with model "${modelId}": it records no data source`,
      );
    }
    request.data = {
      ...source,
      split: {
        kind: {
          $case: "crossValidation",
          crossValidation: { fold, ...(folds ? { folds } : {}) },
        },
      },
    };
  }
  return request;
}

const evaluate: Command = {
  spec: {
    words: ["evaluate"],
    summary:
      "Score explainers on a majority-sample split against the ground-truth blocks",
    positionals: [{ name: "model", help: "the model's id (28×84 input)" }],
    flags: {
      methods: {
        type: "list",
        choices: METHOD_KEYS,
        help: "explainers (comma-separated)",
        defaultText: DEFAULT_METHODS.join(","),
      },
      ...Object.fromEntries(
        Object.entries(PARAM_FLAGS).map(([name, param]) => [
          name,
          flagOf(param),
        ]),
      ),
      "max-samples": {
        type: "integer",
        min: 1,
        help: "evaluate the first N samples of the part",
        defaultText: "all",
      },
      split: {
        type: "string",
        choices: ["test", "train"],
        help: "part of the split",
        defaultText: "test",
      },
      fold: {
        type: "integer",
        min: 0,
        help: "evaluate cross-validation fold k of the model's data source",
      },
      folds: {
        type: "integer",
        min: 2,
        help: "number of cross-validation folds",
        defaultText: "7",
      },
      negative: {
        type: "string",
        choices: enumKeys(NegativeRelevance, "NEGATIVE_RELEVANCE_"),
        help: "negative relevance handling",
        defaultText: "clip for lrp_alpha_beta, keep otherwise (thesis)",
      },
      target: {
        type: "string",
        metavar: "true|predicted|0-9",
        help: "class explained",
        defaultText: "true",
      },
      "per-sample": {
        type: "boolean",
        help: "include every sample's values (with --json)",
      },
    },
    notes: [
      "Parameter flags apply to the methods that take them, for example",
      "--alpha 1.5 --beta 0.5 to lrp_alpha_beta only.",
    ],
  },
  async run(ctx) {
    const modelId = ctx.positionals[0]!;
    const request = await evaluateRequest(ctx, modelId);
    const reports: ExplainerReport[] = [];
    let lastNote = 0;
    const started = performance.now();
    for await (
      const message of ctx.client.evaluate(request, ctx.call(ctx.interrupt))
    ) {
      const event = message.event;
      if (event?.$case === "progress") {
        const now = performance.now();
        const { samplesDone, samplesTotal } = event.progress;
        if (now - lastNote >= 2000 || samplesDone === samplesTotal) {
          lastNote = now;
          const rate = samplesDone / Math.max(1e-3, (now - started) / 1000);
          ctx.note(
            `evaluating: ${samplesDone}/${samplesTotal} explanations (${
              rate.toFixed(1)
            }/s)`,
          );
        }
      } else if (event?.$case === "report") {
        reports.push(event.report);
      }
    }
    if (ctx.json) {
      ctx.printJson({
        reports: reports.map((r) => ExplainerReportCodec.toJSON(r)),
      });
      return EXIT.ok;
    }
    for (const line of reportTable(reports)) ctx.print(line);
    return EXIT.ok;
  },
};

/** The `evaluate` command. */
export const EVALUATE_COMMANDS: readonly Command[] = [evaluate];
