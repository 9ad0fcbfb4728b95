import assert from "node:assert/strict";
import { createSpec } from "../../models/mod.ts";
import { decodeExplainer } from "../codec/mod.ts";
import { PreconditionError } from "../errors.ts";
import { checkValidity } from "./explain_service.ts";
import {
  ExplainerConfig,
  InputDomain,
  Method,
} from "../../proto/gen/rnnexplain/v1/explainer.ts";

Deno.test("checkValidity() answers per spec and parameters, also when asked again", () => {
  const spec = createSpec({ architecture: "r_lstm", steps: 4, columns: 7 });
  const shallow = createSpec({ architecture: "shallow", steps: 4, columns: 7 });
  const real = decodeExplainer(
    ExplainerConfig.fromPartial({
      method: Method.METHOD_DEEP_TAYLOR,
      params: { inputDomain: InputDomain.INPUT_DOMAIN_REAL },
    }),
    "explainer",
  );
  const lrp = decodeExplainer(
    ExplainerConfig.fromPartial({ method: Method.METHOD_LRP_EPSILON }),
    "explainer",
  );
  for (let i = 0; i < 3; i++) {
    checkValidity(lrp, spec, "explainer.method");
    checkValidity(lrp, shallow, "explainer.method");
    checkValidity(real, spec, "explainer.method");
    assert.throws(
      () => checkValidity(real, shallow, "explainer.method"),
      (err) => err instanceof PreconditionError,
    );
  }
});
