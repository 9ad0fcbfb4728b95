import assert from "node:assert/strict";
import {
  type CommandSpec,
  GLOBAL_FLAGS,
  helpText,
  parseCommandLine,
  UsageError,
} from "./args.ts";
import { COMMANDS } from "./run_cli.ts";

const SPECS: CommandSpec[] = COMMANDS.map((c) => c.spec);

Deno.test("parseCommandLine() reads global flags before and after the command", () => {
  const parsed = parseCommandLine(
    [
      "--address",
      "10.0.0.1:1",
      "explain",
      "m1",
      "--alpha=1.5",
      "--beta",
      "0.5",
      "--json",
      "--format",
      "png, json",
    ],
    SPECS,
  );
  assert.deepEqual(parsed.command?.words, ["explain"]);
  assert.deepEqual(parsed.positionals, ["m1"]);
  assert.deepEqual(parsed.flags, {
    address: "10.0.0.1:1",
    alpha: 1.5,
    beta: 0.5,
    json: true,
    format: ["png", "json"],
  });
  assert.equal(parsed.help, false);
});

Deno.test("parseCommandLine() selects two-word commands and checks positionals", () => {
  const parsed = parseCommandLine(["models", "export", "m1", "a.rnnx"], SPECS);
  assert.deepEqual(parsed.command?.words, ["models", "export"]);
  assert.deepEqual(parsed.positionals, ["m1", "a.rnnx"]);
  assert.throws(
    () => parseCommandLine(["models", "show"], SPECS),
    new UsageError(
      'Cannot run "models show": expected <model>, found none',
    ),
  );
  assert.throws(
    () => parseCommandLine(["models", "list", "extra"], SPECS),
    new UsageError(
      'Cannot run "models list": expected no arguments, found "extra"',
    ),
  );
});

Deno.test("parseCommandLine() throws UsageError with a clear message for bad input", async (t) => {
  const cases: Array<[string[], string]> = [
    [
      ["frobnicate"],
      'Cannot run "frobnicate": unknown command, expected one of models, train, jobs, classify, explain, evaluate',
    ],
    [
      ["models", "rename", "x"],
      'Cannot run "models rename x": expected one of "models list", "models show", "models delete", "models export", "models import"',
    ],
    [
      ["train", "--stepz", "3"],
      'Cannot parse "--stepz": unknown flag of "train" (see --help)',
    ],
    [["train", "--steps"], 'Cannot parse "--steps": a value is missing'],
    [
      ["train", "--steps", "1.5"],
      'Cannot parse "--steps": expected an integer, found "1.5"',
    ],
    [
      ["train", "--steps", "x"],
      'Cannot parse "--steps": expected a number, found "x"',
    ],
    [
      ["train", "--steps", "0"],
      'Cannot parse "--steps": expected at least 1, found 0',
    ],
    [
      ["train", "--arch", "gru"],
      'Cannot parse "--arch": expected one of shallow, deep, deep_v2, conv_deep, conv_plus_deep, r_lstm, conv_r_lstm, conv_plus_r_lstm, found "gru"',
    ],
    [
      ["train", "--epochs", "1", "--epochs", "2"],
      'Cannot parse "--epochs": given more than once',
    ],
    [
      ["evaluate", "m", "--methods", "lrp,deep_taylor"],
      'Cannot parse "--methods": expected items from sensitivity, guided_backprop, gradient_x_input, lrp_alpha_beta, lrp_epsilon, deep_taylor, integrated_gradients, smoothgrad, found "lrp"',
    ],
    [
      ["evaluate", "m", "--methods", ","],
      'Cannot parse "--methods": the list is empty',
    ],
    [
      ["models", "list", "--json=maybe"],
      'Cannot parse "--json": expected true or false, found "maybe"',
    ],
    [
      ["models", "list", "-v"],
      'Cannot parse "-v": flags are written --name (see --help)',
    ],
    [
      ["models", "list", "--deadline", "0"],
      'Cannot parse "--deadline": expected at least 0.001, found 0',
    ],
  ];
  for (const [argv, message] of cases) {
    await t.step(argv.join(" "), () => {
      assert.throws(
        () => parseCommandLine(argv, SPECS),
        new UsageError(message),
      );
    });
  }
});

Deno.test("parseCommandLine() accepts negative numbers as values", () => {
  const parsed = parseCommandLine(
    ["explain", "m", "--method", "deep_taylor", "--low", "-1", "--high=1"],
    SPECS,
  );
  assert.equal(parsed.flags.low, -1);
  assert.equal(parsed.flags.high, 1);
});

Deno.test("parseCommandLine() reports help without requiring positionals", () => {
  for (
    const argv of [["explain", "--help"], ["help", "explain"], [
      "-h",
      "explain",
    ]]
  ) {
    const parsed = parseCommandLine(argv, SPECS);
    assert.equal(parsed.help, true);
    assert.deepEqual(parsed.command?.words, ["explain"]);
  }
  const none = parseCommandLine([], SPECS);
  assert.equal(none.help, true);
  assert.equal(none.command, undefined);
  const group = parseCommandLine(["jobs"], SPECS);
  assert.equal(group.help, true);
  assert.deepEqual(group.positionals, ["jobs"]);
});

Deno.test("helpText() lists a command's flags and the global flags", () => {
  const explain = SPECS.find((s) => s.words[0] === "explain")!;
  const text = helpText("deno task cli", SPECS, explain);
  assert.match(text, /^Usage: deno task cli explain <model> \[flags\]\n/);
  assert.match(
    text,
    /--method STRING +explanation method \(one of sensitivity,/,
  );
  assert.match(
    text,
    /--address HOST:PORT +server address \(default 127\.0\.0\.1:50051\)/,
  );
  const jobs = helpText("deno task cli", SPECS, undefined, "jobs");
  assert.match(jobs, /jobs watch <job>/);
  assert.doesNotMatch(jobs, /models list/);
});

Deno.test("COMMANDS gives every flag name one type across commands", () => {
  // The parser decides whether a flag takes a value before it knows the
  // command, so one name must mean one type everywhere.
  const types = new Map<string, string>();
  for (const spec of SPECS) {
    for (
      const [name, flag] of Object.entries({ ...GLOBAL_FLAGS, ...spec.flags })
    ) {
      const seen = types.get(name);
      if (seen !== undefined) {
        assert.equal(
          flag.type === "boolean",
          seen === "boolean",
          `--${name} of "${spec.words.join(" ")}"`,
        );
      }
      types.set(name, flag.type);
    }
  }
  assert.ok(types.size > 20);
});
