/**
 * Campaign files: datasets × architectures × dropout modes × explainers ×
 * folds × seeds, validated once, and the units (dataset, architecture,
 * dropout, fold, seed) they expand to.
 *
 * @module
 */

/** One explainer of a campaign, as the campaign file names it. */
export interface CampaignExplainer {
  /** The label in reports, for example `"LRP-αβ"`. */
  name: string;
  /** The method's registry key, for example `"lrp_alpha_beta"`. */
  method: string;
  /** ExplainerParams fields (camelCase), for example `{ alpha: 1.5 }`. */
  params?: Record<string, number>;
}

/** Region-perturbation (AOPC) options of a campaign. */
export interface CampaignPerturbation {
  /** Perturbation steps L (patches removed, most relevant first). */
  steps: number;
  /** Side of a square patch in pixels. */
  patchSize: number;
  /** `"uniform"` noise (Samek et al. 2017) or the per-pixel `"mean"`. */
  fill: "uniform" | "mean";
  /** At most this many samples are perturbed (the first of the evaluated ones). */
  maxSamples?: number;
}

/** A validated campaign. */
export interface Campaign {
  /** A short name for reports. */
  name: string;
  /** `"mnist"` and/or `"fashion_mnist"`, majority-sample problems. */
  datasets: string[];
  /**
   * Architecture keys (`"shallow"`, `"r_lstm"`…), each optionally with a
   * dropout after `@` (`"r_lstm@stationary"`), which overrides `dropouts`.
   */
  architectures: string[];
  /** Dropout modes crossed with architectures that do not name one. */
  dropouts: string[];
  /** The explainers evaluated on every unit. */
  explainers: CampaignExplainer[];
  /** k of k-fold cross-validation. */
  folds: number;
  /** The folds run (a subset of 0…k−1). */
  foldIndices: number[];
  /** Data and initialisation seeds; each is its own unit. */
  seeds: number[];
  /** Training epochs. */
  epochs: number;
  /** Training samples per fold (the first of the fold's train part). */
  maxTrainSamples?: number;
  /** Adam learning rate. */
  learningRate: number;
  /** Mini-batch size. */
  batchSize: number;
  /** Sequence length T. */
  steps: number;
  /** Samples evaluated per unit (the first of the fold's test part). */
  evalSamples: number;
  /** Region perturbation, when wanted. */
  perturbation?: CampaignPerturbation;
}

/** One unit of work: a model trained (or reused) and evaluated. */
export interface Unit {
  /** Stable identity within a campaign, for example `mnist|deep|naive|fold 0/7|seed 1`. */
  key: string;
  /** The dataset key. */
  dataset: string;
  /** The architecture key. */
  architecture: string;
  /** The dropout mode key. */
  dropout: string;
  /** The fold evaluated (its test part) and trained on (its train part). */
  fold: number;
  /** k. */
  folds: number;
  /** The seed of data construction and initialisation. */
  seed: number;
}

/** Thrown for a campaign file that is malformed. */
export class CampaignError extends Error {
  /**
   * @param message what is wrong, std style
   */
  constructor(message: string) {
    super(message);
    this.name = "CampaignError";
  }
}

const DATASETS = ["mnist", "fashion_mnist"];
const DROPOUTS = ["none", "naive", "stationary"];

function field(record: Record<string, unknown>, key: string): unknown {
  return record[key];
}

function int(value: unknown, name: string, min: number, fallback?: number) {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new CampaignError(
      `Cannot read the campaign: "${name}" must be an integer ≥ ${min}: got ${
        JSON.stringify(value)
      }`,
    );
  }
  return value;
}

function strings(value: unknown, name: string, allowed?: string[]): string[] {
  if (
    !Array.isArray(value) || value.length === 0 ||
    value.some((v) => typeof v !== "string")
  ) {
    throw new CampaignError(
      `Cannot read the campaign: "${name}" must be a non-empty list of strings: got ${
        JSON.stringify(value)
      }`,
    );
  }
  for (const v of value as string[]) {
    const bare = name === "architectures" ? v.split("@")[1] : v;
    if (
      allowed !== undefined && bare !== undefined && !allowed.includes(bare)
    ) {
      throw new CampaignError(
        `Cannot read the campaign: "${name}" has an unknown value "${v}": expected one of ${
          allowed.join(", ")
        }`,
      );
    }
  }
  return value as string[];
}

function explainers(value: unknown): CampaignExplainer[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new CampaignError(
      'Cannot read the campaign: "explainers" must be a non-empty list',
    );
  }
  return value.map((e, i) => {
    const r = (e ?? {}) as Record<string, unknown>;
    if (typeof r.method !== "string" || r.method === "") {
      throw new CampaignError(
        `Cannot read the campaign: "explainers[${i}].method" must be a method key: got ${
          JSON.stringify(r.method)
        }`,
      );
    }
    const params = (r.params ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(params)) {
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new CampaignError(
          `Cannot read the campaign: "explainers[${i}].params.${k}" must be a number: got ${
            JSON.stringify(v)
          }`,
        );
      }
    }
    return {
      name: typeof r.name === "string" ? r.name : r.method,
      method: r.method,
      params: params as Record<string, number>,
    };
  });
}

function perturbation(value: unknown): CampaignPerturbation | undefined {
  if (value === undefined) return undefined;
  const r = value as Record<string, unknown>;
  const fill = r.fill ?? "uniform";
  if (fill !== "uniform" && fill !== "mean") {
    throw new CampaignError(
      `Cannot read the campaign: "perturbation.fill" must be "uniform" or "mean": got ${
        JSON.stringify(fill)
      }`,
    );
  }
  return {
    steps: int(r.steps, "perturbation.steps", 1, 20),
    patchSize: int(r.patchSize, "perturbation.patchSize", 1, 4),
    fill,
    ...(r.maxSamples === undefined
      ? {}
      : { maxSamples: int(r.maxSamples, "perturbation.maxSamples", 1) }),
  };
}

/**
 * Validates a parsed campaign file and fills in defaults.
 *
 * @param json the parsed JSON
 * @returns the campaign
 * @throws {CampaignError} for a missing or malformed field
 */
export function parseCampaign(json: unknown): Campaign {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new CampaignError("Cannot read the campaign: expected a JSON object");
  }
  const r = json as Record<string, unknown>;
  const folds = int(field(r, "folds"), "folds", 2, 7);
  const foldIndices = r.foldIndices === undefined
    ? Array.from({ length: folds }, (_, i) => i)
    : (r.foldIndices as unknown[]).map((f) => int(f, "foldIndices[]", 0));
  for (const f of foldIndices) {
    if (f >= folds) {
      throw new CampaignError(
        `Cannot read the campaign: fold ${f} is past the last fold: expected below ${folds}`,
      );
    }
  }
  const seeds = r.seeds === undefined
    ? [1]
    : (r.seeds as unknown[]).map((s) => int(s, "seeds[]", 0));
  const learningRate = r.learningRate ?? 0.0002;
  if (typeof learningRate !== "number" || !(learningRate > 0)) {
    throw new CampaignError(
      `Cannot read the campaign: "learningRate" must be a positive number: got ${
        JSON.stringify(learningRate)
      }`,
    );
  }
  const maxTrain = r.maxTrainSamples;
  const p = perturbation(r.perturbation);
  return {
    name: typeof r.name === "string" ? r.name : "campaign",
    datasets: strings(r.datasets, "datasets", DATASETS),
    architectures: strings(r.architectures, "architectures", DROPOUTS),
    dropouts: r.dropouts === undefined
      ? ["naive"]
      : strings(r.dropouts, "dropouts", DROPOUTS),
    explainers: explainers(r.explainers),
    folds,
    foldIndices,
    seeds,
    epochs: int(r.epochs, "epochs", 1),
    ...(maxTrain === undefined
      ? {}
      : { maxTrainSamples: int(maxTrain, "maxTrainSamples", 1) }),
    learningRate,
    batchSize: int(r.batchSize, "batchSize", 1, 50),
    steps: int(r.steps, "steps", 3, 12),
    evalSamples: int(r.evalSamples, "evalSamples", 1),
    ...(p === undefined ? {} : { perturbation: p }),
  };
}

/**
 * Expands a campaign into its units, in a stable order (dataset, then
 * architecture, then dropout, then fold, then seed).
 *
 * @param campaign the campaign
 * @returns the units
 */
export function campaignUnits(campaign: Campaign): Unit[] {
  const units: Unit[] = [];
  for (const dataset of campaign.datasets) {
    for (const entry of campaign.architectures) {
      const [architecture, fixed] = entry.split("@") as [string, string?];
      for (const dropout of fixed === undefined ? campaign.dropouts : [fixed]) {
        for (const fold of campaign.foldIndices) {
          for (const seed of campaign.seeds) {
            units.push({
              key:
                `${dataset}|${architecture}|${dropout}|fold ${fold}/${campaign.folds}|seed ${seed}`,
              dataset,
              architecture,
              dropout,
              fold,
              folds: campaign.folds,
              seed,
            });
          }
        }
      }
    }
  }
  return units;
}

/**
 * The fingerprint of everything that decides a unit's model: two units with
 * the same key and training fingerprint may share one stored model.
 *
 * @param campaign the campaign
 * @returns a short string
 */
export function trainingFingerprint(campaign: Campaign): string {
  return `e${campaign.epochs} n${
    campaign.maxTrainSamples ?? "all"
  } lr${campaign.learningRate} b${campaign.batchSize} T${campaign.steps}`;
}

/**
 * The fingerprint of everything that decides a unit's results: a results
 * line counts as done only when it carries this fingerprint.
 *
 * @param campaign the campaign
 * @returns a JSON string
 */
export function resultsFingerprint(campaign: Campaign): string {
  return JSON.stringify({
    training: trainingFingerprint(campaign),
    explainers: campaign.explainers,
    evalSamples: campaign.evalSamples,
    perturbation: campaign.perturbation ?? null,
  });
}

/**
 * The display name of a unit's model on a server, by which a later run (or
 * another runner) finds and reuses it.
 *
 * @param unit the unit
 * @param campaign the campaign
 * @returns the display name
 */
export function modelName(unit: Unit, campaign: Campaign): string {
  return `campaign ${unit.key} | ${trainingFingerprint(campaign)}`;
}

/** Thesis labels of the architectures (with -SD for stationary dropout). */
export function architectureLabel(
  architecture: string,
  dropout: string,
): string {
  const base: Record<string, string> = {
    shallow: "Shallow",
    deep: "Deep",
    "deep_v2": "DeepV2",
    "conv_deep": "ConvDeep",
    "conv_plus_deep": "Conv⁺Deep",
    "r_lstm": "R-LSTM",
    "conv_r_lstm": "ConvR-LSTM",
    "conv_plus_r_lstm": "Conv⁺R-LSTM",
  };
  const name = base[architecture] ?? architecture;
  return dropout === "stationary"
    ? `${name}-SD`
    : dropout === "none"
    ? `${name} (no dropout)`
    : name;
}
