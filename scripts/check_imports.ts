/**
 * Enforces the module boundaries of STYLE.md §3.2 (`deno task lint:imports`):
 * who may import what, `_private.ts` files staying private to their folder,
 * generated code staying at the edge, only `npm:` dependencies through the
 * import map, and no import cycles. Boundaries are checked by this script,
 * not by review (std's `lint:circular`).
 *
 * Usage: `deno run --allow-read scripts/check_imports.ts` (exit 1 on any
 * violation, each printed as `file: import "specifier": reason`).
 *
 * @module
 */
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

/** A folder with its own import rules. */
export type Zone = "models" | "gen" | "server" | "client" | "scripts" | "test";

/** One broken rule. */
export interface Violation {
  /** The importing file, relative to the repository root. */
  file: string;
  /** The import specifier as written. */
  specifier: string;
  /** Which rule it breaks. */
  reason: string;
}

/** Folders checked, most specific first. */
const ZONES: readonly [prefix: string, zone: Zone][] = [
  ["proto/gen/", "gen"],
  ["models/", "models"],
  ["server/", "server"],
  ["client/", "client"],
  ["scripts/", "scripts"],
  ["test/", "test"],
];

/** Files of `server/` that may touch grpc-js and generated types (STYLE.md §3.2, §3.10). */
const SERVER_GRPC_EDGE = [
  "server/services/",
  "server/codec.ts",
  "server/codec/",
  "server/interceptors.ts",
  "server/reflection.ts",
  "server/main.ts",
];

/** npm packages that speak gRPC or carry generated types. */
const GRPC_PACKAGES = /^(@grpc\/|grpc-health-check$|@bufbuild\/protobuf)/;

/** Which zone a repository path belongs to, if any. */
export function zoneOf(path: string): Zone | undefined {
  return ZONES.find(([prefix]) => path.startsWith(prefix))?.[1];
}

function isTest(path: string): boolean {
  return /_test\.ts$/.test(path) || /(^|\/)_testing[^/]*\.ts$/.test(path);
}

/** `models/mod.ts`, `models/data/mod.ts`…: a folder's public door. */
function isDoor(path: string, zone: string): boolean {
  return path.startsWith(`${zone}/`) && path.endsWith("/mod.ts");
}

/**
 * May `from` (in zone `zone`) import the repository file `to`? Returns the
 * reason when not.
 */
function checkLocal(from: string, zone: Zone, to: string): string | undefined {
  const target = zoneOf(to);
  if (target === undefined) return `"${to}" is outside the checked folders`;
  const base = to.slice(to.lastIndexOf("/") + 1);
  // Private files stay in their folder; test code may reach the internals
  // of its own top-level folder (shared fixtures such as models/arch/_testing.ts).
  if (
    base.startsWith("_") && !from.startsWith(`${dirname(to)}/`) &&
    !(isTest(from) && target === zone)
  ) {
    return `"${to}" is private to ${dirname(to)}/`;
  }
  if (target === zone) return undefined;
  switch (zone) {
    case "models":
      return "models/ imports only its own files";
    case "gen":
      return "generated code imports only generated code";
    case "server":
      if (to === "models/mod.ts") return undefined;
      if (target === "models") {
        return "server/ imports models only through models/mod.ts";
      }
      if (target === "gen") {
        return isTest(from) || SERVER_GRPC_EDGE.some((p) => from.startsWith(p))
          ? undefined
          : `generated types stop at ${SERVER_GRPC_EDGE.join(", ")}`;
      }
      return `server/ may not import ${target}/`;
    case "client":
      if (target === "gen") return undefined;
      return `client/ may not import ${target}/`;
    case "scripts":
      if (to === "models/mod.ts" || to === "client/mod.ts") return undefined;
      if (to === "server/main.ts" || isDoor(to, "server")) return undefined;
      return `scripts/ import models/mod.ts, client/mod.ts, server/main.ts or a server/**/mod.ts door, not "${to}"`;
    case "test":
      if (target === "gen") return undefined;
      if (to === "client/mod.ts" || to === "server/main.ts") return undefined;
      if (isDoor(to, "models")) return undefined;
      return `test/ imports a models/**/mod.ts door, client/mod.ts or server/main.ts, not "${to}"`;
  }
}

/** May a file of `zone` import this npm package (an import-map key)? */
function checkPackage(
  from: string,
  zone: Zone,
  name: string,
): string | undefined {
  switch (zone) {
    case "models":
      return name.startsWith("@tensorflow/")
        ? undefined
        : "models/ imports only @tensorflow/* packages";
    case "gen":
      return GRPC_PACKAGES.test(name)
        ? undefined
        : "generated code imports only grpc-js and protobuf packages";
    case "server":
      if (name.startsWith("@tensorflow/")) {
        return "server/ reaches TensorFlow.js only through models/mod.ts";
      }
      if (
        GRPC_PACKAGES.test(name) && !isTest(from) &&
        !SERVER_GRPC_EDGE.some((p) => from.startsWith(p))
      ) {
        return `gRPC packages stop at ${SERVER_GRPC_EDGE.join(", ")}`;
      }
      return undefined;
    case "client":
      return GRPC_PACKAGES.test(name)
        ? undefined
        : "client/ imports only grpc-js and protobuf packages";
    case "scripts":
    case "test":
      return undefined;
  }
}

function checkBuiltin(
  from: string,
  zone: Zone,
  name: string,
): string | undefined {
  if (zone === "models" || zone === "gen") {
    const assertion = name === "node:assert" || name === "node:assert/strict";
    return assertion && isTest(from)
      ? undefined
      : `${
        zone === "models" ? "models/" : "generated code"
      } does no I/O: no ${name}`;
  }
  return undefined;
}

/**
 * The import specifiers of a TypeScript source: static imports and
 * re-exports, side-effect imports, and dynamic imports of string literals.
 * Comments are skipped, so examples in JSDoc do not count.
 */
export function importsOf(source: string): string[] {
  const { code, strings } = tokenize(source);
  const specifiers: string[] = [];
  // Quoted strings are placeholders `"0"`, `"1"`… (their index), so that an
  // `import` inside a string (test data, messages) never matches.
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^;"]*?\bfrom\s*"(\d+)"/g,
    /\bimport\s*"(\d+)"/g,
    /\bimport\s*\(\s*"(\d+)"\s*[,)]/g,
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) {
      specifiers.push(strings[Number(match[1])]!);
    }
  }
  return specifiers;
}

/**
 * Replaces comments, regular expression literals and template literals with
 * spaces (no import specifier is a template), and each quoted string with
 * `"<index>"` into the returned list of their contents. A `/` starts a
 * regular expression where an operand is expected, the usual heuristic of
 * JavaScript tokenizers.
 */
function tokenize(source: string): { code: string; strings: string[] } {
  const strings: string[] = [];
  let out = "";
  let i = 0;
  const skipQuoted = (quote: string) => {
    for (i++; i < source.length && source[i] !== quote; i++) {
      if (source[i] === "\\") i++;
    }
    i++;
  };
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      i = end === -1 ? source.length : end + 2;
      out += " ";
    } else if (
      c === "/" && /(^|[(,=:[!&|?{};+\-*%<>~^]|\breturn)\s*$/.test(out)
    ) {
      let inClass = false;
      for (i++; i < source.length && (inClass || source[i] !== "/"); i++) {
        if (source[i] === "\\") i++;
        else if (source[i] === "[") inClass = true;
        else if (source[i] === "]") inClass = false;
      }
      i++;
      out += " ";
    } else if (c === "`") {
      skipQuoted(c);
      out += " ";
    } else if (c === '"' || c === "'") {
      const start = i;
      skipQuoted(c);
      out += `"${strings.length}"`;
      strings.push(source.slice(start + 1, i - 1));
    } else {
      out += c;
      i++;
    }
  }
  return { code: out, strings };
}

/**
 * Checks every file against the rules.
 *
 * @param files repository-relative path → source, for every checked file
 * @param importMap the `imports` of deno.json
 * @returns the violations, in file order; cycles are reported once each
 */
export function checkImports(
  files: ReadonlyMap<string, string>,
  importMap: Readonly<Record<string, string>>,
): Violation[] {
  const violations: Violation[] = [];
  const graph = new Map<string, string[]>();
  for (
    const [file, source] of [...files].sort(([a], [b]) => a.localeCompare(b))
  ) {
    const zone = zoneOf(file);
    if (zone === undefined) continue;
    const edges: string[] = [];
    for (const specifier of importsOf(source)) {
      const reason = checkSpecifier(file, zone, specifier, importMap, edges);
      if (reason !== undefined) violations.push({ file, specifier, reason });
    }
    graph.set(file, edges);
  }
  for (const cycle of findCycles(graph)) {
    violations.push({
      file: cycle[0]!,
      specifier: cycle[1]!,
      reason: `import cycle: ${cycle.join(" → ")}`,
    });
  }
  return violations;
}

function checkSpecifier(
  file: string,
  zone: Zone,
  specifier: string,
  importMap: Readonly<Record<string, string>>,
  edges: string[],
): string | undefined {
  if (specifier.startsWith("./") || specifier.startsWith("../")) {
    const to = normalize(join(dirname(file), specifier)).replaceAll("\\", "/");
    edges.push(to);
    return checkLocal(file, zone, to);
  }
  if (specifier.startsWith("node:")) return checkBuiltin(file, zone, specifier);
  if (/^(npm|jsr|https?|file):/.test(specifier)) {
    return "dependencies go through the import map of deno.json (npm: only)";
  }
  if (!(specifier in importMap)) {
    return "not in the import map of deno.json";
  }
  return checkPackage(file, zone, specifier);
}

/** Elementary cycles of the local import graph, each once, as paths that return to their start. */
function findCycles(graph: ReadonlyMap<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "active" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "active");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === "active") {
        cycles.push([...stack.slice(stack.indexOf(next)), next]);
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) {
    if (!state.has(node)) visit(node);
  }
  return cycles;
}

async function* sourceFiles(root: string, dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(join(root, dir))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* sourceFiles(root, path);
    else if (entry.isFile && /\.(ts|tsx|js|mjs)$/.test(entry.name)) yield path;
  }
}

async function main(): Promise<number> {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const files = new Map<string, string>();
  for (const [prefix] of ZONES) {
    const dir = prefix.slice(0, -1);
    try {
      for await (const path of sourceFiles(root, dir)) {
        files.set(path, await Deno.readTextFile(join(root, path)));
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  const violations = checkImports(files, config.imports ?? {});
  const encoder = new TextEncoder();
  for (const v of violations) {
    await Deno.stderr.write(
      encoder.encode(`${v.file}: import "${v.specifier}": ${v.reason}\n`),
    );
  }
  const summary = violations.length === 0
    ? `Import boundaries hold in ${files.size} files\n`
    : `${violations.length} import boundary violation(s) in ${files.size} files\n`;
  await Deno.stdout.write(encoder.encode(summary));
  return violations.length === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
