/**
 * `deno task campaign:report <results.jsonl> [--out DIR] [--server host:port …]
 * [--heatmap-samples N] [--distribution-samples N] [--steps T] [--run-info FILE]
 * [--no-explain]`: the campaign report from one results file. Writes
 * `report.md` (accuracy tables in the style of thesis Tables 3.4–3.6 /
 * Appendix 1, cosine similarity and the other metrics per architecture ×
 * method × dataset with 95% CIs over folds, AOPC, and findings (a)–(c)),
 * grouped bar charts with error bars (SVG and PNG, Figures 3.12/3.18/3.21),
 * and, over RPC on the trained models (ExplainBatch), heatmap grids (PNG,
 * Figures 3.4/3.11/3.17/3.19) and relevance-over-time-steps beside the pixel
 * distribution (SVG and PNG, Figure 3.7).
 *
 * Models are looked up on `--server` addresses (default: the server each
 * unit ran on), fold 0 of each architecture (or its first fold).
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  createRnnExplainClient,
  type RnnExplainClient,
} from "../../client/mod.ts";
import { readResults } from "../campaign/results_log.ts";
import type { UnitResult } from "../campaign/unit_result.ts";
import { axesOf, type MetricKey, unitValue } from "./aggregate.ts";
import { groupedBarChart } from "./bar_chart.ts";
import { type Drawing, toPng, toSvg } from "./drawing.ts";
import { explainUnit, stepDistributions } from "./explanations.ts";
import { heatmapGrid } from "./heatmap_grid.ts";
import { metricChart, reportMarkdown } from "./report_markdown.ts";

// deno-lint-ignore no-console
const say = console.log;

async function writeFigure(dir: string, name: string, d: Drawing) {
  await Deno.writeTextFile(`${dir}/${name}.svg`, toSvg(d));
  await Deno.writeFile(`${dir}/${name}.png`, toPng(d));
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "_");

async function findClient(
  unit: UnitResult,
  servers: string[],
  clients: Map<string, RnnExplainClient>,
): Promise<RnnExplainClient | undefined> {
  for (const address of servers.length > 0 ? servers : [unit.server]) {
    let client = clients.get(address);
    if (client === undefined) {
      client = createRnnExplainClient(address, { defaultTimeoutMs: 20_000 });
      clients.set(address, client);
    }
    try {
      await client.getModel({ modelId: unit.modelId });
      return client;
    } catch {
      // Not on this server (or the server is down): try the next.
    }
  }
  return undefined;
}

async function explainFigures(
  results: UnitResult[],
  options: {
    out: string;
    servers: string[];
    heatmapSamples: number;
    distributionSamples: number;
    steps: number;
  },
): Promise<string[]> {
  const axes = axesOf(results);
  const clients = new Map<string, RnnExplainClient>();
  const lines: string[] = [];
  try {
    for (const dataset of axes.datasets) {
      for (const label of axes.labels) {
        const units = results.filter((r) =>
          r.dataset === dataset && r.label === label
        ).sort((a, b) => a.fold - b.fold);
        const unit = units[0];
        if (unit === undefined) continue;
        const client = await findClient(unit, options.servers, clients);
        if (client === undefined) {
          lines.push(
            `- ${dataset} ${label}: model ${unit.modelId} not reachable; heatmaps skipped`,
          );
          continue;
        }
        const explainers = unit.explainers.map((e) => ({
          name: e.name,
          method: e.method,
          params: Object.fromEntries(
            Object.entries(e.params).filter(([, v]) => typeof v === "number"),
          ) as Record<string, number>,
        }));
        const n = Math.max(options.heatmapSamples, options.distributionSamples);
        say(`explaining ${n} samples of ${unit.key}`);
        const e = await explainUnit(client, unit, {
          steps: options.steps,
          explainers,
        }, n);
        const base = `${slug(dataset)}_${slug(label)}`;
        const few = {
          ...e,
          count: Math.min(options.heatmapSamples, e.count),
        };
        await Deno.writeFile(
          `${options.out}/heatmaps_${base}.png`,
          heatmapGrid(few, {
            title: `${label} on ${dataset}-MAJ (fold ${unit.fold})`,
          }),
        );
        const dist = stepDistributions(e);
        const series = ["pixels", ...dist.methods.keys()];
        await writeFigure(
          options.out,
          `steps_${base}`,
          groupedBarChart({
            title: `${label} on ${dataset}: share per time step (n=${e.count})`,
            groups: dist.pixels.map((_, t) => `${t + 1}`),
            series,
            values: dist.pixels.map((p, t) => [
              { value: p },
              ...[...dist.methods.values()].map((m) => ({ value: m[t]! })),
            ]),
            yLabel: "mean share of relevance / of ink",
          }),
        );
        lines.push(
          `- ${dataset} ${label} (fold ${unit.fold}, model \`${unit.modelId}\`): ` +
            `[heatmaps](heatmaps_${base}.png), [relevance per time step](steps_${base}.svg) ([PNG](steps_${base}.png))`,
        );
      }
    }
  } finally {
    for (const c of clients.values()) c.close();
  }
  return lines;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      server: { type: "string", multiple: true },
      "heatmap-samples": { type: "string", default: "4" },
      "distribution-samples": { type: "string", default: "50" },
      steps: { type: "string", default: "12" },
      "run-info": { type: "string" },
      "no-explain": { type: "boolean", default: false },
    },
  });
  const path = positionals[0];
  if (path === undefined) {
    say(
      "Usage: deno task campaign:report <results.jsonl> [--out DIR] [--server host:port …] [--no-explain]",
    );
    return 2;
  }
  const results = await readResults(path);
  if (results.length === 0) {
    say(`Cannot report: no finished units in "${path}"`);
    return 1;
  }
  const out = values.out ?? path.replace(/\/[^/]*$/, "") ?? ".";
  await Deno.mkdir(out, { recursive: true });
  const axes = axesOf(results);
  const figures: string[] = [];
  const metrics: [MetricKey, string][] = [
    ["cosineSimilarity", "average cosine similarity"],
    ["aopc", "AOPC (true-class logit)"],
  ];
  for (const dataset of axes.datasets) {
    for (const [metric, title] of metrics) {
      if (
        !results.some((r) =>
          r.explainers.some((e) => unitValue(r, e.name, metric) !== undefined)
        )
      ) continue;
      const name = `${metric === "aopc" ? "aopc" : "cosine"}_${slug(dataset)}`;
      await writeFigure(
        out,
        name,
        metricChart(results, dataset, metric, title),
      );
      figures.push(
        `- ${title}, ${dataset}: [SVG](${name}.svg), [PNG](${name}.png)`,
      );
    }
  }
  const explained = values["no-explain"] ? [] : await explainFigures(results, {
    out,
    servers: values.server ?? [],
    heatmapSamples: Number(values["heatmap-samples"]),
    distributionSamples: Number(values["distribution-samples"]),
    steps: Number(values.steps),
  });
  const runInfo = values["run-info"] === undefined
    ? undefined
    : await Deno.readTextFile(values["run-info"]);
  await Deno.writeTextFile(
    `${out}/report.md`,
    reportMarkdown(results, {
      source: path,
      figures,
      explained,
      ...(runInfo === undefined ? {} : { runInfo }),
    }),
  );
  say(`wrote ${out}/report.md`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
