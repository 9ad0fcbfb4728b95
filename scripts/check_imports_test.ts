import assert from "node:assert/strict";
import { checkImports, importsOf } from "./check_imports.ts";

const IMPORT_MAP = {
  "@tensorflow/tfjs": "npm:@tensorflow/tfjs@4.22.0",
  "@grpc/grpc-js": "npm:@grpc/grpc-js@1.14.7",
  "pino": "npm:pino@10.4.0",
};

function check(files: Record<string, string>) {
  return checkImports(new Map(Object.entries(files)), IMPORT_MAP).map((v) =>
    `${v.file} -> ${v.specifier}`
  );
}

Deno.test("importsOf() finds static, type-only, re-export, side-effect and dynamic imports", () => {
  const source = `
import assert from "node:assert/strict";
import type { A } from './a.ts';
import {
  b,
  type C,
} from "../b.ts";
export * from "./c.ts";
export { d } from "./d.ts";
import "./side_effect.ts";
const e = await import("./e.ts");
const f = import(name); // not a literal: not checked
`;
  assert.deepEqual(importsOf(source).sort(), [
    "../b.ts",
    "./a.ts",
    "./c.ts",
    "./d.ts",
    "./e.ts",
    "./side_effect.ts",
    "node:assert/strict",
  ]);
});

Deno.test("importsOf() ignores comments, strings, template literals and regular expressions", () => {
  const source = `
/**
 * @example
 * \`\`\`ts
 * import { x } from "./in_jsdoc.ts";
 * \`\`\`
 */
// import { y } from "./in_line_comment.ts";
const message = \`import "\${name}" from "./in_template.ts"\`;
const pattern = /import\\s*["']([^"']+)["']/g;
const ratio = a / b; import { z } from "./real.ts"; // c / d
const data = { "a.ts": 'import "./in_string.ts";', b: "export * from './x.ts'" };
`;
  assert.deepEqual(importsOf(source), ["./real.ts"]);
});

Deno.test("checkImports() accepts the boundaries of STYLE.md §3.2", () => {
  assert.deepEqual(
    check({
      "models/mod.ts": 'export * from "./arch/mod.ts";',
      "models/arch/mod.ts": 'import * as tf from "@tensorflow/tfjs";',
      "models/arch/_random.ts": "export const r = 1;",
      "models/arch/cell.ts": 'import { r } from "./_random.ts";',
      "models/arch/cell_test.ts": 'import assert from "node:assert/strict";',
      "models/training/fit_test.ts": 'import { r } from "../arch/_random.ts";',
      "proto/gen/a/v1/x.ts":
        'import { Client } from "@grpc/grpc-js"; import "./y.ts";',
      "proto/gen/a/v1/y.ts": "export {};",
      "server/main.ts":
        'import { initBackend } from "../models/mod.ts"; import "./services/s.ts"; import pino from "pino"; import "node:path";',
      "server/services/s.ts":
        'import "../../proto/gen/a/v1/x.ts"; import "@grpc/grpc-js";',
      "server/jobs/jobs.ts": 'import "../../models/mod.ts";',
      "client/mod.ts":
        'import "../proto/gen/a/v1/x.ts"; import "@grpc/grpc-js";',
      "scripts/bench.ts":
        'import "../models/mod.ts"; import "../client/mod.ts"; import "../server/datasets/mod.ts";',
      "test/_helpers.ts":
        'import "../server/main.ts"; import "../client/mod.ts";',
      "test/integration/x_test.ts":
        'import "../_helpers.ts"; import "../../proto/gen/a/v1/x.ts"; import "../../models/arch/mod.ts";',
    }),
    [],
  );
});

Deno.test("checkImports() reports each boundary violation", async (t) => {
  const cases: [Record<string, string>, string][] = [
    [
      { "models/a.ts": 'import "../server/main.ts";', "server/main.ts": "" },
      "models/a.ts -> ../server/main.ts",
    ],
    [{ "models/a.ts": 'import pino from "pino";' }, "models/a.ts -> pino"],
    [
      { "models/a.ts": 'import { readFile } from "node:fs";' },
      "models/a.ts -> node:fs",
    ],
    [{
      "models/b/x.ts": 'import "../a/_private.ts";',
      "models/a/_private.ts": "",
    }, "models/b/x.ts -> ../a/_private.ts"],
    [{
      "server/jobs/j.ts": 'import "../../models/arch/cell.ts";',
      "models/arch/cell.ts": "",
    }, "server/jobs/j.ts -> ../../models/arch/cell.ts"],
    [
      { "server/jobs/j.ts": 'import "@grpc/grpc-js";' },
      "server/jobs/j.ts -> @grpc/grpc-js",
    ],
    [{
      "server/jobs/j.ts": 'import "../../proto/gen/a/v1/x.ts";',
      "proto/gen/a/v1/x.ts": "",
    }, "server/jobs/j.ts -> ../../proto/gen/a/v1/x.ts"],
    [
      { "server/main.ts": 'import * as tf from "@tensorflow/tfjs";' },
      "server/main.ts -> @tensorflow/tfjs",
    ],
    [
      { "server/main.ts": 'import "../client/mod.ts";', "client/mod.ts": "" },
      "server/main.ts -> ../client/mod.ts",
    ],
    [
      { "client/mod.ts": 'import "../server/main.ts";', "server/main.ts": "" },
      "client/mod.ts -> ../server/main.ts",
    ],
    [
      { "client/mod.ts": 'import "../models/mod.ts";', "models/mod.ts": "" },
      "client/mod.ts -> ../models/mod.ts",
    ],
    [{
      "scripts/s.ts": 'import "../server/storage/files.ts";',
      "server/storage/files.ts": "",
    }, "scripts/s.ts -> ../server/storage/files.ts"],
    [{
      "scripts/s.ts": 'import "../proto/gen/a/v1/x.ts";',
      "proto/gen/a/v1/x.ts": "",
    }, "scripts/s.ts -> ../proto/gen/a/v1/x.ts"],
    [{
      "test/t_test.ts": 'import "../server/errors.ts";',
      "server/errors.ts": "",
    }, "test/t_test.ts -> ../server/errors.ts"],
    [{
      "test/t_test.ts": 'import "../models/arch/cell.ts";',
      "models/arch/cell.ts": "",
    }, "test/t_test.ts -> ../models/arch/cell.ts"],
    [
      { "server/main.ts": 'import x from "npm:left-pad@1.3.0";' },
      "server/main.ts -> npm:left-pad@1.3.0",
    ],
    [
      { "server/main.ts": 'import x from "left-pad";' },
      "server/main.ts -> left-pad",
    ],
    [
      { "proto/gen/a/v1/x.ts": 'import pino from "pino";' },
      "proto/gen/a/v1/x.ts -> pino",
    ],
  ];
  for (const [files, expected] of cases) {
    await t.step(expected, () => {
      assert.deepEqual(check(files), [expected]);
    });
  }
});

Deno.test("checkImports() reports an import cycle once", () => {
  const violations = checkImports(
    new Map([
      ["server/a.ts", 'import "./b.ts";'],
      ["server/b.ts", 'import "./c.ts";'],
      ["server/c.ts", 'import "./a.ts";'],
    ]),
    IMPORT_MAP,
  );
  assert.equal(violations.length, 1);
  assert.equal(
    violations[0]!.reason,
    "import cycle: server/a.ts → server/b.ts → server/c.ts → server/a.ts",
  );
});
