import assert from "node:assert/strict";
import { Code, OutOfRangeError, RpcError } from "../errors.ts";
import {
  GateGradient,
  InputDomain,
  Method,
  TargetKind,
} from "../../proto/gen/rnnexplain/v1/explainer.ts";
import {
  decodeExplainer,
  decodeParams,
  decodeTarget,
  encodeParams,
} from "./explainer.ts";

function invalid(field: string) {
  return (err: unknown) => {
    assert.ok(err instanceof RpcError, String(err));
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.equal(err.field, field);
    return true;
  };
}

Deno.test("decodeParams() and encodeParams() map every wire field to MethodParams and back", () => {
  const wire = {
    alpha: 1.5,
    beta: 0.5,
    epsilon: 0.1,
    low: -1,
    high: 1,
    steps: 32,
    samples: 8,
    noiseStddev: 0.2,
    baseline: -1,
    gateGradient: GateGradient.GATE_GRADIENT_KEEP,
    stabilizer: 1e-9,
    seed: 5,
    inputDomain: InputDomain.INPUT_DOMAIN_REAL,
  };
  const domain = decodeParams(wire, "p");
  assert.equal(domain.noise, 0.2);
  assert.equal(domain.gateGradient, "keep");
  assert.equal(domain.inputDomain, "real");
  assert.deepEqual(encodeParams(domain), wire);
  assert.throws(
    () => decodeParams({ gateGradient: 9 as GateGradient }, "p"),
    invalid("p.gate_gradient"),
  );
});

Deno.test("decodeExplainer() fills defaults and refuses bad methods and parameters with INVALID_ARGUMENT", () => {
  const ab = decodeExplainer({
    method: Method.METHOD_LRP_ALPHA_BETA,
    params: { alpha: 2 },
  }, "explainer");
  assert.equal(ab.method, "lrp_alpha_beta");
  assert.deepEqual(ab.params, { alpha: 2 });
  assert.equal(ab.resolved.beta, 1);
  assert.throws(
    () =>
      decodeExplainer({
        method: Method.METHOD_LRP_ALPHA_BETA,
        params: { alpha: 2, beta: 0.5 },
      }, "explainer"),
    invalid("explainer.params"),
  );
  assert.throws(
    () =>
      decodeExplainer({
        method: Method.METHOD_SMOOTHGRAD,
        params: { alpha: 2 },
      }, "explainer"),
    (err: unknown) =>
      err instanceof RpcError && /does not use "alpha"/.test(err.message),
  );
  assert.throws(
    () =>
      decodeExplainer({
        method: Method.METHOD_SENSITIVITY,
        params: { noiseStddev: 1 },
      }, "explainer"),
    (err: unknown) =>
      err instanceof RpcError && /"noise_stddev"/.test(err.message),
    "the message names the wire field",
  );
  assert.throws(
    () => decodeExplainer({ method: 0, params: undefined }, "explainer"),
    invalid("explainer.method"),
  );
  assert.throws(() => decodeExplainer(undefined, "e"), invalid("e"));
});

Deno.test("decodeTarget() requires a kind, takes a class index only for CLASS, and refuses classes past 9 as OUT_OF_RANGE", () => {
  assert.equal(decodeTarget(undefined, "t"), undefined);
  assert.deepEqual(
    decodeTarget({ kind: TargetKind.TARGET_KIND_PREDICTED }, "t"),
    { kind: "predicted" },
  );
  assert.deepEqual(
    decodeTarget({ kind: TargetKind.TARGET_KIND_CLASS, classIndex: 0 }, "t"),
    { kind: "class", index: 0 },
  );
  assert.throws(
    () => decodeTarget({ kind: TargetKind.TARGET_KIND_UNSPECIFIED }, "t"),
    invalid("t.kind"),
  );
  assert.throws(
    () => decodeTarget({ kind: TargetKind.TARGET_KIND_CLASS }, "t"),
    invalid("t.class_index"),
  );
  assert.throws(
    () =>
      decodeTarget({
        kind: TargetKind.TARGET_KIND_TRUE_LABEL,
        classIndex: 1,
      }, "t"),
    invalid("t.class_index"),
  );
  assert.throws(
    () =>
      decodeTarget({ kind: TargetKind.TARGET_KIND_CLASS, classIndex: 10 }, "t"),
    (err: unknown) => err instanceof OutOfRangeError,
  );
});
