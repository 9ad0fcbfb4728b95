/**
 * Prefix models for ClassifyStream: the running prediction after step k of
 * a T-step model is the same network, with the same weights, run for k
 * steps and its head applied — that is, a model whose spec says T = k. The
 * recurrent architectures' parameters do not depend on T, so such a model
 * is the stored checkpoint with its manifest's `steps` changed: its weights
 * file is hard-linked (same bytes, same SHA-256), its manifest rewritten.
 * Workers then load and cache it like any stored model (the pool's
 * `classify` task), so no tensor work runs on the gRPC event loop.
 *
 * The files live in `<store>/prefix_models/`, named `<id>.<sha8>.t<k>`
 * (the weights' hash in the name, so a later model under the same id never
 * meets stale copies), and are removed with their model.
 *
 * @module
 */
import type { ModelRef } from "../compute/mod.ts";
import type { ServableModel, ServiceDeps } from "./_deps.ts";

/** Folder of the prefix models, inside the store's directory. */
export const PREFIX_DIR = "prefix_models";

function folder(deps: ServiceDeps): string {
  return `${deps.store.dir}/${PREFIX_DIR}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Writes a file atomically: a temporary file, then a rename. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeFile(temporary, bytes);
  await Deno.rename(temporary, path);
}

/**
 * Makes sure the k-step copies (k = 1 … T − 1) of a model exist and returns
 * their references, index k − 1; index T − 1 is the model itself.
 *
 * @param deps the store
 * @param model the stored model
 * @returns T references, one per prefix length
 * @throws {NotFoundError|DataLossError} when the stored checkpoint cannot be read
 */
export async function prefixModels(
  deps: ServiceDeps,
  model: ServableModel,
): Promise<ModelRef[]> {
  const { id, sha256 } = model.ref;
  const steps = model.record.spec.steps;
  const dir = folder(deps);
  const refs: ModelRef[] = [];
  let manifest: Record<string, unknown> | undefined;
  for (let k = 1; k < steps; k++) {
    const prefixId = `${id}.${sha256.slice(0, 8)}.t${k}`;
    refs.push({ id: prefixId, dir, sha256 });
    if (await exists(`${dir}/${prefixId}.json`)) continue;
    if (manifest === undefined) {
      await Deno.mkdir(dir, { recursive: true });
      // readFiles verifies the weights against the registry's hash first.
      const files = await deps.store.readFiles(id);
      manifest = files.manifest as unknown as Record<string, unknown>;
    }
    const weights = `${dir}/${prefixId}.safetensors`;
    if (!(await exists(weights))) {
      const temporary = `${weights}.${crypto.randomUUID()}.tmp`;
      await Deno.link(`${model.ref.dir}/${id}.safetensors`, temporary);
      await Deno.rename(temporary, weights);
    }
    const spec = manifest.spec as Record<string, unknown>;
    const text = JSON.stringify(
      { ...manifest, steps: k, spec: { ...spec, steps: k } },
      null,
      2,
    );
    await writeAtomically(
      `${dir}/${prefixId}.json`,
      new TextEncoder().encode(`${text}\n`),
    );
  }
  refs.push(model.ref);
  return refs;
}

/**
 * Removes a model's prefix copies (after the model was deleted).
 *
 * @param deps the store
 * @param id the model id
 */
export async function removePrefixModels(
  deps: ServiceDeps,
  id: string,
): Promise<void> {
  const dir = folder(deps);
  let names: string[];
  try {
    names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  const mine = new RegExp(
    `^${id.replace(/[.]/g, "\\.")}\\.[0-9a-f]{8}\\.t\\d+\\.(json|safetensors)$`,
  );
  for (const name of names.filter((n) => mine.test(n))) {
    await Deno.remove(`${dir}/${name}`).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
}
