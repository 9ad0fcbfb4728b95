/**
 * One unit over RPC: find the unit's model on the server (by display name),
 * else import it from another server that has it, else train it; then
 * Evaluate every explainer and turn the reports into a results line.
 *
 * @module
 */
import {
  Architecture,
  Dataset,
  type DataSource,
  DropoutMode,
  type EvaluateResponse,
  type ExplainerReport,
  JobState,
  Method,
  type MetricSummary,
  type ModelInfo,
  NegativeRelevance,
  type PartialMessage,
  PerturbationFill,
  Problem,
  type RnnExplainClient,
} from "../../client/mod.ts";
import {
  architectureLabel,
  type Campaign,
  modelName,
  type Unit,
} from "./campaign_spec.ts";
import type {
  ExplainerRecord,
  MetricSummaryRecord,
  UnitResult,
} from "./unit_result.ts";

/** A server the runner talks to. */
export interface CampaignServer {
  /** `host:port`. */
  address: string;
  /** The backend label given on the command line, or `unknown`. */
  backend: string;
  /** The client. */
  client: RnnExplainClient;
}

/** Thrown when a unit fails for a reason another server would not fix. */
export class UnitFailedError extends Error {
  /**
   * @param message what failed, std style
   * @param options the cause
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnitFailedError";
  }
}

/** Options of {@linkcode runUnit}. */
export interface RunUnitOptions {
  /** The other servers, searched for the unit's model before training. */
  peers?: readonly CampaignServer[];
  /** Stops the unit. */
  signal?: AbortSignal;
  /** Called with each event worth a log line. */
  onEvent?: (event: string) => void;
}

function enumOf<T extends Record<string, string | number>>(
  table: T,
  prefix: string,
  key: string,
): number {
  const value = table[`${prefix}${key.toUpperCase()}` as keyof T];
  if (typeof value !== "number") {
    throw new UnitFailedError(
      `Cannot run the unit: unknown ${prefix.toLowerCase()}value "${key}"`,
    );
  }
  return value;
}

/** The data source of a unit (its fold of the majority problem). */
export function unitDataSource(unit: Unit): PartialMessage<DataSource> {
  return {
    dataset: enumOf(Dataset, "DATASET_", unit.dataset) as Dataset,
    problem: Problem.PROBLEM_MAJORITY,
    split: {
      kind: {
        $case: "crossValidation" as const,
        crossValidation: { folds: unit.folds, fold: unit.fold },
      },
    },
    seed: unit.seed,
  };
}

/**
 * Finds a model by display name on a server.
 *
 * @param client the server's client
 * @param name the display name
 * @param signal cancels the listing
 * @returns the newest matching model, or undefined
 */
export async function findModel(
  client: RnnExplainClient,
  name: string,
  signal?: AbortSignal,
): Promise<ModelInfo | undefined> {
  let pageToken = "";
  let found: ModelInfo | undefined;
  do {
    const page = await client.listModels(
      { pageSize: 100, pageToken },
      signal ? { signal } : {},
    );
    for (const m of page.models) {
      if (m.displayName === name) found = m;
    }
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return found;
}

async function importFrom(
  peer: CampaignServer,
  target: RnnExplainClient,
  modelId: string,
  signal?: AbortSignal,
): Promise<ModelInfo> {
  const parts = peer.client.exportModel(
    { modelId },
    signal ? { signal } : {},
  );
  async function* requests() {
    for await (const message of parts) yield { part: message.part };
  }
  const { model } = await target.importModel(requests(), {
    timeoutMs: 120_000,
    ...(signal ? { signal } : {}),
  });
  return model!;
}

async function train(
  server: CampaignServer,
  unit: Unit,
  campaign: Campaign,
  signal?: AbortSignal,
): Promise<ModelInfo> {
  const { client } = server;
  const name = modelName(unit, campaign);
  const call = signal ? { signal } : {};
  // A job of this unit may still run on the server from an earlier runner.
  const { jobs } = await client.listTrainingJobs({ pageSize: 1000 }, call);
  let job = jobs.find((j) =>
    j.displayName === name &&
    [JobState.JOB_STATE_QUEUED, JobState.JOB_STATE_RUNNING].includes(j.state)
  );
  const interrupted = jobs.find((j) =>
    j.displayName === name && j.state === JobState.JOB_STATE_INTERRUPTED
  );
  if (job === undefined && interrupted !== undefined) {
    job = (await client.resumeTraining({ jobId: interrupted.id }, call)).job;
  }
  if (job === undefined) {
    const dropout = enumOf(DropoutMode, "DROPOUT_MODE_", unit.dropout);
    job = (await client.startTraining({
      displayName: name,
      spec: {
        architecture: enumOf(Architecture, "ARCHITECTURE_", unit.architecture),
        steps: campaign.steps,
        columns: 84 / campaign.steps,
        dropout,
      },
      config: {
        data: unitDataSource(unit),
        epochs: campaign.epochs,
        batchSize: campaign.batchSize,
        learningRate: campaign.learningRate,
        seed: unit.seed,
        ...(campaign.maxTrainSamples === undefined
          ? {}
          : { maxTrainSamples: campaign.maxTrainSamples }),
      },
    }, call)).job;
  }
  let last: { state: JobState; modelId: string; error: string } | undefined;
  for await (const update of client.watchTraining({ jobId: job!.id }, call)) {
    last = update;
  }
  if (last?.state !== JobState.JOB_STATE_SUCCEEDED) {
    const state = JobState[last?.state ?? JobState.JOB_STATE_UNSPECIFIED];
    const message =
      `Cannot train unit "${unit.key}": the job ended ${state}: ${last?.error}`;
    // INTERRUPTED means the server went away; anything else is the job's own failure.
    if (last?.state === JobState.JOB_STATE_FAILED) {
      throw new UnitFailedError(message);
    }
    throw new Error(message);
  }
  const { model } = await client.getModel({ modelId: last.modelId }, call);
  return model!;
}

async function obtainModel(
  server: CampaignServer,
  unit: Unit,
  campaign: Campaign,
  options: RunUnitOptions,
): Promise<{ model: ModelInfo; source: UnitResult["modelSource"] }> {
  const name = modelName(unit, campaign);
  const own = await findModel(server.client, name, options.signal);
  if (own !== undefined) return { model: own, source: "reused" };
  for (const peer of options.peers ?? []) {
    let theirs: ModelInfo | undefined;
    try {
      theirs = await findModel(peer.client, name, options.signal);
    } catch {
      continue; // A peer that is down has nothing to give.
    }
    if (theirs === undefined) continue;
    try {
      const model = await importFrom(peer, server.client, theirs.id);
      options.onEvent?.(`imported ${theirs.id} from ${peer.address}`);
      return { model, source: "imported" };
    } catch {
      // The peer failed mid-export: train instead.
    }
  }
  options.onEvent?.("training");
  return {
    model: await train(server, unit, campaign, options.signal),
    source: "trained",
  };
}

function summary(s: MetricSummary | undefined): MetricSummaryRecord {
  return {
    mean: s?.mean ?? NaN,
    std: s?.std ?? NaN,
    ci95Low: s?.ci95Low ?? NaN,
    ci95High: s?.ci95High ?? NaN,
  };
}

function explainerRecord(
  report: ExplainerReport,
  name: string,
): ExplainerRecord {
  const method = Method[report.explainer?.method ?? 0] ?? "";
  const p = report.regionPerturbation;
  return {
    name,
    method: method.replace(/^METHOD_/, "").toLowerCase(),
    params: { ...(report.explainer?.params ?? {}) },
    negativeRelevance: (NegativeRelevance[report.negativeRelevance] ?? "")
      .replace(/^NEGATIVE_RELEVANCE_/, "").toLowerCase(),
    sampleCount: report.sampleCount,
    cosineSimilarity: summary(report.cosineSimilarity),
    correctBlockShare: summary(report.correctBlockShare),
    relevanceMassAccuracy: summary(report.relevanceMassAccuracy),
    relevanceRankAccuracy: summary(report.relevanceRankAccuracy),
    ...(p === undefined ? {} : {
      perturbation: {
        aopc: summary(p.aopc),
        randomAopc: summary(p.randomAopc),
        curve: p.curve,
        randomCurve: p.randomCurve,
        sampleCount: p.sampleCount,
      },
    }),
  };
}

/**
 * Runs one unit on one server.
 *
 * @param server where it runs
 * @param unit the unit
 * @param campaign the campaign it belongs to
 * @param options peers, signal, event sink
 * @returns the results line (without `fingerprint` and `attempts`)
 * @throws {UnitFailedError} when the unit fails for a reason of its own
 * @throws {RpcError} when the server fails (the caller retries elsewhere)
 */
export async function runUnit(
  server: CampaignServer,
  unit: Unit,
  campaign: Campaign,
  options: RunUnitOptions = {},
): Promise<Omit<UnitResult, "fingerprint" | "attempts">> {
  const started = performance.now();
  const { model, source } = await obtainModel(server, unit, campaign, options);
  const modelDone = performance.now();
  options.onEvent?.(`evaluating ${model.id}`);
  const p = campaign.perturbation;
  const stream = server.client.evaluate({
    modelId: model.id,
    data: unitDataSource(unit),
    maxSamples: campaign.evalSamples,
    explainers: campaign.explainers.map((e) => ({
      method: enumOf(Method, "METHOD_", e.method) as Method,
      params: e.params ?? {},
    })),
    ...(p === undefined ? {} : {
      regionPerturbation: {
        steps: p.steps,
        patchSize: p.patchSize,
        fill: p.fill === "mean"
          ? PerturbationFill.PERTURBATION_FILL_MEAN
          : PerturbationFill.PERTURBATION_FILL_UNIFORM,
        seed: unit.seed,
        ...(p.maxSamples === undefined ? {} : { maxSamples: p.maxSamples }),
      },
    }),
  }, options.signal ? { signal: options.signal } : {});
  const explainers: ExplainerRecord[] = [];
  let evalAccuracy = NaN;
  for await (const message of stream as AsyncIterable<EvaluateResponse>) {
    if (message.event?.$case !== "report") continue;
    const report = message.event.report;
    const e = campaign.explainers[explainers.length]!;
    explainers.push(explainerRecord(report, e.name));
    evalAccuracy = report.modelAccuracy;
  }
  if (explainers.length !== campaign.explainers.length) {
    throw new Error(
      `Cannot evaluate unit "${unit.key}": the stream ended after ${explainers.length} of ${campaign.explainers.length} reports`,
    );
  }
  const end = performance.now();
  const m = model.metrics;
  return {
    key: unit.key,
    dataset: unit.dataset,
    architecture: unit.architecture,
    dropout: unit.dropout,
    label: architectureLabel(unit.architecture, unit.dropout),
    fold: unit.fold,
    folds: unit.folds,
    seed: unit.seed,
    server: server.address,
    backend: server.backend,
    modelId: model.id,
    modelSource: source,
    training: {
      trainSamples: m?.trainSamples ?? 0,
      trainAccuracy: m?.trainAccuracy ?? NaN,
      heldoutAccuracy: m?.heldoutAccuracy ?? NaN,
      heldoutSamples: m?.heldoutSamples ?? 0,
      epochs: m?.epochsCompleted ?? 0,
    },
    evalAccuracy,
    explainers,
    timing: {
      modelMs: modelDone - started,
      evaluateMs: end - modelDone,
      totalMs: end - started,
    },
    finishedAt: new Date().toISOString(),
  };
}
