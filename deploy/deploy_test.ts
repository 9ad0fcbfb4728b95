/**
 * Checks of the deployment files, without Docker or kubectl: every
 * Kubernetes manifest parses and is wired to the others (selectors, claim,
 * secret, ports, probes, headless Service), every server variable it sets
 * is one the server reads, and the Dockerfile runs exactly `deno task start`
 * with what that task's flags need.
 */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { CONFIG_ENV_VARS } from "../server/config.ts";

const ROOT = new URL("../", import.meta.url);
const K8S = new URL("deploy/k8s/", ROOT);

// deno-lint-ignore no-explicit-any
type Doc = any;

async function manifests(): Promise<Doc[]> {
  const docs: Doc[] = [];
  for await (const entry of Deno.readDir(K8S)) {
    if (!entry.name.endsWith(".yaml") || entry.name === "kustomization.yaml") {
      continue;
    }
    const text = await Deno.readTextFile(new URL(entry.name, K8S));
    for (const doc of parseAllDocuments(text)) {
      assert.deepEqual(doc.errors, [], `${entry.name}: ${doc.errors}`);
      const value = doc.toJS();
      assert.equal(typeof value?.apiVersion, "string", entry.name);
      assert.equal(typeof value?.kind, "string", entry.name);
      assert.equal(typeof value?.metadata?.name, "string", entry.name);
      docs.push(value);
    }
  }
  return docs;
}

function find(docs: Doc[], kind: string, name?: string): Doc {
  const found = docs.filter((d) =>
    d.kind === kind && (name === undefined || d.metadata.name === name)
  );
  assert.equal(found.length, 1, `one ${kind} ${name ?? ""}`);
  return found[0];
}

Deno.test("deploy/k8s manifests parse and the kustomization lists every one of them", async () => {
  const docs = await manifests();
  assert.ok(docs.length >= 5);
  const kustomization = parseAllDocuments(
    await Deno.readTextFile(new URL("kustomization.yaml", K8S)),
  )[0]!.toJS();
  const files: string[] = [];
  for await (const e of Deno.readDir(K8S)) {
    if (e.name.endsWith(".yaml") && e.name !== "kustomization.yaml") {
      files.push(e.name);
    }
  }
  assert.deepEqual([...kustomization.resources].sort(), files.sort());
});

Deno.test("the replicas share the RWX checkpoint claim, read the secret, and are probed over gRPC health", async () => {
  const docs = await manifests();
  const set = find(docs, "StatefulSet");
  assert.ok(set.spec.replicas >= 2);
  const pod = set.spec.template;
  assert.deepEqual(set.spec.selector.matchLabels, pod.metadata.labels);
  assert.equal(pod.metadata.annotations["prometheus.io/scrape"], "true");
  assert.equal(pod.metadata.annotations["prometheus.io/port"], "9464");
  const [container] = pod.spec.containers;
  const ports = Object.fromEntries(
    container.ports.map((p: Doc) => [p.name, p.containerPort]),
  );
  assert.deepEqual(ports, { grpc: 50051, metrics: 9464, probes: 8081 });
  const env = Object.fromEntries(
    container.env.map((e: Doc) => [e.name, e.value]),
  );
  for (const name of Object.keys(env)) {
    if (name.startsWith("RNN_EXPLAIN_")) {
      assert.ok(CONFIG_ENV_VARS.includes(name), `${name} is not read`);
    }
  }
  assert.equal(env.RNN_EXPLAIN_PORT, String(ports.grpc));
  assert.equal(env.RNN_EXPLAIN_METRICS_PORT, String(ports.metrics));
  // Kubelet's grpc probes speak neither TLS nor tokens: the plaintext
  // health-only port.
  assert.equal(env.RNN_EXPLAIN_HEALTH_PORT, String(ports.probes));
  for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
    assert.equal(container[probe].grpc.port, ports.probes, probe);
  }
  assert.ok(container.resources.requests.cpu);
  assert.ok(container.resources.requests.memory);

  const mounts = Object.fromEntries(
    container.volumeMounts.map((m: Doc) => [m.name, m]),
  );
  const volumes = Object.fromEntries(
    pod.spec.volumes.map((v: Doc) => [v.name, v]),
  );
  // The store: the default checkpoint folder, one subfolder per pod.
  assert.equal(mounts.checkpoints.mountPath, "/app/data/checkpoints");
  assert.equal(mounts.checkpoints.subPathExpr, "$(POD_NAME)");
  assert.ok(container.env.some((e: Doc) => e.name === "POD_NAME"));
  const claim = find(docs, "PersistentVolumeClaim");
  assert.equal(
    volumes.checkpoints.persistentVolumeClaim.claimName,
    claim.metadata.name,
  );
  assert.deepEqual(claim.spec.accessModes, ["ReadWriteMany"]);
  // Secrets inside /app, which `deno task start` may read.
  const secret = find(docs, "Secret");
  assert.equal(volumes.secrets.secret.secretName, secret.metadata.name);
  assert.ok(mounts.secrets.mountPath.startsWith("/app/"));
  for (
    const name of [
      "RNN_EXPLAIN_AUTH_TOKEN_FILE",
      "RNN_EXPLAIN_TLS_CERT",
      "RNN_EXPLAIN_TLS_KEY",
    ]
  ) {
    assert.ok(env[name].startsWith(`${mounts.secrets.mountPath}/`), name);
  }
});

Deno.test("the Services select the pods, and the headless one gives each replica an address", async () => {
  const docs = await manifests();
  const set = find(docs, "StatefulSet");
  const labels = set.spec.template.metadata.labels;
  const balanced = find(docs, "Service", "rnn-explain");
  const headless = find(docs, "Service", set.spec.serviceName);
  for (const service of [balanced, headless]) {
    for (const [k, v] of Object.entries(service.spec.selector)) {
      assert.equal(labels[k], v);
    }
  }
  assert.equal(headless.spec.clusterIP, "None");
  assert.notEqual(balanced.spec.clusterIP, "None");
  assert.ok(headless.spec.ports.some((p: Doc) => p.targetPort === "grpc"));
});

Deno.test("the Dockerfile runs exactly `deno task start` with what its flags need", async () => {
  const dockerfile = await Deno.readTextFile(new URL("Dockerfile", ROOT));
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  );
  const start: string = config.tasks.start;
  assert.match(dockerfile, /^CMD \["task", "start"\]$/m);
  assert.match(dockerfile, /^USER deno$/m);
  assert.doesNotMatch(dockerfile, /(^|\s)-A(\s|$)|--allow-all/);
  assert.match(dockerfile, /^EXPOSE 50051 9464 8081$/m);
  // The entry point's folders are in the image.
  const entry = start.split(" ").at(-1)!;
  for (const dir of ["proto/", "models/", dirnameOf(entry)]) {
    assert.match(dockerfile, new RegExp(`^COPY .* ${dir} ${dir}$`, "m"), dir);
  }
  if (start.includes("--allow-ffi")) {
    assert.match(dockerfile, /libopenblas0/, "the blas backend's library");
  }
});

function dirnameOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/") + 1);
}
