/**
 * `classify` and `explain`: one sequence, named by its index in the model's
 * own data (`--sample-index`) or read from a JSON file (`--input`).
 * `explain` streams the relevance, printing each timestep as it arrives,
 * and writes heatmap PNGs and/or JSON.
 *
 * @module
 */
import {
  ClassifyResponse,
  encodeTensor,
  GateGradient,
  type Input,
  InputDomain,
  Method,
  type PartialMessage,
  SplitPart,
  type Target,
  TargetKind,
} from "../mod.ts";
import type { FlagSpec } from "./args.ts";
import { UsageError } from "./args.ts";
import {
  type Command,
  type CommandContext,
  enumKeys,
  enumValue,
  EXIT,
  formatTable,
} from "./_context.ts";
import {
  ExplanationCollector,
  explanationJson,
  type InputImage,
  methodKey,
  type OutputFormat,
  writeExplanationFiles,
} from "./explanation_files.ts";
import { parseInputFile } from "./input_file.ts";

/** The method keys, for example `lrp_alpha_beta`. */
export const METHOD_KEYS: readonly string[] = enumKeys(Method, "METHOD_");

const INPUT_FLAGS: Record<string, FlagSpec> = {
  "sample-index": {
    type: "integer",
    min: 0,
    help: "index of a sample of the model's own data source",
  },
  split: {
    type: "string",
    choices: ["test", "train"],
    help: "part of the split --sample-index counts in",
    defaultText: "test",
  },
  input: {
    type: "string",
    metavar: "FILE",
    help:
      'JSON sequence: {"shape": [rows, width], "data": [...], "label": k}, pixels in [-1, 1]',
  },
};

/** An explainer parameter flag: its ExplainerParams field, and its enum for choices. */
type ParamFlag = FlagSpec & {
  field: string;
  values?: Record<string, string | number>;
  prefix?: string;
};

/** Explainer parameter flags, each mapped to its ExplainerParams field. */
export const PARAM_FLAGS: Record<string, ParamFlag> = {
  alpha: { type: "number", field: "alpha", help: "LRP-αβ α (α − β = 1)" },
  beta: { type: "number", field: "beta", help: "LRP-αβ β" },
  epsilon: { type: "number", field: "epsilon", help: "LRP-ε ε" },
  low: { type: "number", field: "low", help: "deep Taylor zᴮ lower bound" },
  high: { type: "number", field: "high", help: "deep Taylor zᴮ upper bound" },
  "ig-steps": {
    type: "integer",
    min: 1,
    field: "steps",
    help: "Integrated Gradients steps",
  },
  samples: {
    type: "integer",
    min: 1,
    field: "samples",
    help: "SmoothGrad samples",
  },
  "noise-stddev": {
    type: "number",
    field: "noiseStddev",
    help: "SmoothGrad noise standard deviation",
  },
  baseline: {
    type: "number",
    field: "baseline",
    help: "Integrated Gradients baseline pixel value",
  },
  "gate-gradient": {
    type: "string",
    choices: enumKeys(GateGradient, "GATE_GRADIENT_"),
    field: "gateGradient",
    values: GateGradient,
    prefix: "GATE_GRADIENT_",
    help: "guided backprop through LSTM gates",
  },
  "input-domain": {
    type: "string",
    choices: enumKeys(InputDomain, "INPUT_DOMAIN_"),
    field: "inputDomain",
    values: InputDomain,
    prefix: "INPUT_DOMAIN_",
    help: "deep Taylor: pixels bounded (zᴮ) or real (w²)",
  },
  stabilizer: {
    type: "number",
    field: "stabilizer",
    help: "LRP / deep Taylor denominator stabiliser",
  },
  "explainer-seed": {
    type: "integer",
    min: 0,
    field: "seed",
    help: "seed of SmoothGrad noise",
  },
};

const TARGET_FLAG: FlagSpec = {
  type: "string",
  metavar: "true|predicted|0-9",
  help: "class to explain",
  defaultText: "the true label when known, else the predicted class",
};

/** The flag part of a parameter flag. */
export function flagOf(param: ParamFlag): FlagSpec {
  const { field: _field, values: _values, prefix: _prefix, ...spec } = param;
  return spec;
}

/** The ExplainerParams fields set by the given flags. */
export function explainerParams(
  ctx: Pick<CommandContext, "number" | "string">,
): Record<string, number> {
  const params: Record<string, number> = {};
  for (const [flag, spec] of Object.entries(PARAM_FLAGS)) {
    if (spec.values !== undefined && spec.prefix !== undefined) {
      const v = ctx.string(flag);
      if (v !== undefined) {
        params[spec.field] = enumValue(spec.values, v, spec.prefix);
      }
    } else {
      const v = ctx.number(flag);
      if (v !== undefined) params[spec.field] = v;
    }
  }
  return params;
}

/**
 * Parses `--target`.
 *
 * @returns the target, or undefined for the server's default
 * @throws {UsageError} for anything but true, predicted or a class 0–9
 */
export function parseTarget(text: string | undefined): Target | undefined {
  if (text === undefined) return undefined;
  if (text === "true") return { kind: TargetKind.TARGET_KIND_TRUE_LABEL };
  if (text === "predicted") return { kind: TargetKind.TARGET_KIND_PREDICTED };
  if (/^\d$/.test(text)) {
    return { kind: TargetKind.TARGET_KIND_CLASS, classIndex: Number(text) };
  }
  throw new UsageError(
    `Cannot parse "--target": expected true, predicted or a class 0-9, found "${text}"`,
  );
}

/** The input named by the flags, and its pixels when a file gave them. */
export async function resolveInput(
  ctx: CommandContext,
  modelId: string,
): Promise<{ input: PartialMessage<Input>; image?: InputImage }> {
  const file = ctx.string("input");
  const index = ctx.number("sample-index");
  if ((file === undefined) === (index === undefined)) {
    throw new UsageError(
      "Cannot choose the input: give exactly one of --sample-index and --input",
    );
  }
  if (file !== undefined) {
    if (ctx.has("split")) {
      throw new UsageError("Cannot use --split with --input");
    }
    const sequence = parseInputFile(await Deno.readTextFile(file), file);
    const { data, shape } = sequence;
    const image: InputImage | undefined = shape.length === 2
      ? { data, rows: shape[0]!, width: shape[1]! }
      : undefined;
    return {
      input: {
        source: { $case: "tensor", tensor: encodeTensor(data, shape) },
        ...(sequence.label === undefined ? {} : { label: sequence.label }),
      },
      ...(image ? { image } : {}),
    };
  }
  const { model } = await ctx.client.getModel({ modelId }, ctx.call());
  const source = model?.training?.data;
  if (source === undefined) {
    throw new UsageError(
      `Cannot use --sample-index with model "${modelId}": it records no data source (use --input)`,
    );
  }
  return {
    input: {
      source: {
        $case: "sample",
        sample: {
          source,
          part: ctx.string("split", "test") === "train"
            ? SplitPart.SPLIT_PART_TRAIN
            : SplitPart.SPLIT_PART_TEST,
          index,
        },
      },
    },
  };
}

const classify: Command = {
  spec: {
    words: ["classify"],
    summary: "Classify one sequence",
    positionals: [{ name: "model", help: "the model's id" }],
    flags: { ...INPUT_FLAGS },
  },
  async run(ctx) {
    const modelId = ctx.positionals[0]!;
    const { input } = await resolveInput(ctx, modelId);
    const response = await ctx.client.classify(
      { modelId, inputs: [input] },
      ctx.call(),
    );
    if (ctx.json) {
      ctx.printJson(ClassifyResponse.toJSON(response));
      return EXIT.ok;
    }
    const c = response.classifications[0];
    if (c === undefined) throw new Error("Classify returned no result");
    ctx.print(
      `predicted class ${c.predictedClass}${
        c.trueLabel === undefined ? "" : ` (true label ${c.trueLabel})`
      }`,
    );
    const rows = c.probabilities.map((p, k) => [
      String(k),
      c.logits[k]!.toFixed(4),
      `${(p * 100).toFixed(2)}%`,
    ]);
    rows.push([
      "pseudo",
      "0.0000",
      `${(c.pseudoClassProbability * 100).toFixed(2)}%`,
    ]);
    for (const line of formatTable(["CLASS", "LOGIT", "P"], rows)) {
      ctx.print(line);
    }
    return EXIT.ok;
  },
};

const explain: Command = {
  spec: {
    words: ["explain"],
    summary:
      "Explain one sequence, printing each timestep as it arrives; writes heatmap PNGs and JSON",
    positionals: [{ name: "model", help: "the model's id" }],
    flags: {
      method: {
        type: "string",
        choices: METHOD_KEYS,
        help: "explanation method",
        defaultText: "lrp_alpha_beta",
      },
      ...Object.fromEntries(
        Object.entries(PARAM_FLAGS).map(([name, param]) => [
          name,
          flagOf(param),
        ]),
      ),
      target: TARGET_FLAG,
      ...INPUT_FLAGS,
      out: {
        type: "string",
        metavar: "DIR",
        help: "folder for the files",
        defaultText: "out/explain",
      },
      format: {
        type: "list",
        choices: ["png", "json"],
        help: "files to write (comma-separated)",
        defaultText: "png,json",
      },
      scale: {
        type: "integer",
        min: 1,
        max: 64,
        help: "PNG pixels per relevance value",
        defaultText: "8",
      },
    },
    notes: [
      "Files: step_00.png … one per timestep strip and sequence.png, all with",
      "one normalisation (max |R| over the sequence; red positive, blue",
      "negative), input.png (grayscale) when --input gives a whole image, and",
      "explanation.json (relevance [T, rows, columns], step sums, summary).",
    ],
  },
  async run(ctx) {
    const modelId = ctx.positionals[0]!;
    // Flags first, so that a bad one fails before any call.
    const method = enumValue(
      Method,
      ctx.string("method", "lrp_alpha_beta"),
      "METHOD_",
    );
    const target = parseTarget(ctx.string("target"));
    const params = explainerParams(ctx);
    const { input, image } = await resolveInput(ctx, modelId);
    const out = ctx.string("out", "out/explain");
    const formats = ctx.list("format", ["png", "json"]) as OutputFormat[];
    const collector = new ExplanationCollector();
    const started = performance.now();
    const elapsed = () => ((performance.now() - started) / 1000).toFixed(2);
    for await (
      const message of ctx.client.explain(
        {
          modelId,
          input,
          explainer: { method, params },
          ...(target ? { target } : {}),
        },
        ctx.call(ctx.interrupt),
      )
    ) {
      const event = message.event;
      if (event?.$case === "step") {
        const values = collector.addStep(event.step);
        let maxAbs = 0;
        for (const v of values) maxAbs = Math.max(maxAbs, Math.abs(v));
        const line = `step ${String(event.step.timestep).padStart(2)}: sum ${
          signed(event.step.relevanceSum)
        }  max |R| ${maxAbs.toExponential(2)}  (+${elapsed()} s)`;
        if (ctx.json) ctx.note(line);
        else ctx.print(line);
      } else if (event?.$case === "summary") {
        collector.setSummary(event.summary);
      }
    }
    const explanation = collector.finish();
    const files = await writeExplanationFiles(out, explanation, {
      formats,
      scale: ctx.number("scale", 8),
      ...(image ? { input: image } : {}),
      request: {
        modelId,
        ...(ctx.has("sample-index")
          ? {
            sampleIndex: ctx.number("sample-index"),
            split: ctx.string("split", "test"),
          }
          : { input: ctx.string("input") }),
      },
    });
    const s = explanation.summary;
    if (ctx.json) {
      const doc = explanationJson(explanation);
      ctx.printJson({
        method: doc.method,
        params: doc.params,
        summary: doc.summary,
        stepSums: doc.stepSums,
        files,
      });
      return EXIT.ok;
    }
    ctx.print(
      `${
        methodKey(s.method)
      }: target class ${s.targetClass}, predicted ${s.predictedClass}${
        s.trueLabel === undefined ? "" : `, true label ${s.trueLabel}`
      }; logit ${s.targetLogit.toFixed(4)}`,
    );
    ctx.print(
      `relevance: start ${signed(s.startRelevance)}, input ${
        signed(s.inputRelevance)
      }, absorbed ${signed(s.absorbedRelevance)}, initial state ${
        signed(s.initialStateRelevance)
      }, residual ${signed(s.conservationResidual)}${
        s.conservative ? "" : " (not conservative)"
      }`,
    );
    ctx.print(`total ${elapsed()} s`);
    const paths = [
      ...(files.sequence ? [files.sequence] : []),
      ...(files.input ? [files.input] : []),
      ...(files.json ? [files.json] : []),
    ];
    ctx.print(
      `wrote ${files.steps.length} step PNGs and ${paths.join(", ")}`,
    );
    return EXIT.ok;
  },
};

function signed(v: number): string {
  return `${v >= 0 ? "+" : ""}${v.toFixed(4)}`;
}

/** The `classify` and `explain` commands. */
export const EXPLAIN_COMMANDS: readonly Command[] = [classify, explain];
