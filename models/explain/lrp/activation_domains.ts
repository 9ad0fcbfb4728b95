/**
 * The value domain of every activation of a graph: what the LRP and deep
 * Taylor rules need to know about a layer's input (thesis Table 2.1).
 *
 * @module
 */
import type { ArchitectureGraph, Layer } from "../../arch/graph.ts";
import { layerOutputs } from "../../arch/graph.ts";

/**
 * `pixels`: the step's input (`x`, `x_image`), bounded by the data;
 * `nonnegative`: ReLU outputs and what pooling, reshaping and the R-LSTM
 * cell make of them; `real`: anything else (a linear layer's output, or a
 * pooled pixel map).
 */
export type ActivationDomain = "pixels" | "nonnegative" | "real";

function outputDomain(
  layer: Layer,
  domains: ReadonlyMap<string, ActivationDomain>,
): ActivationDomain {
  switch (layer.kind) {
    case "dense":
    case "conv":
      return layer.activation === "relu" ? "nonnegative" : "real";
    case "reshape":
      return domains.get(layer.input) ?? "real";
    case "pool": {
      // The ×2 pooling of pixels leaves their bounds: only ReLU maps keep a domain.
      const d = domains.get(layer.input);
      return d === "nonnegative" ? d : "real";
    }
    case "lstm": {
      // g = ReLU(·) ≥ 0 and gates σ(·) > 0, so c = i⊙g + f⊙c_prev and
      // h = o⊙c stay ≥ 0 while c_prev does.
      const c = domains.get(layer.cellInput);
      return c === "nonnegative" ? c : "real";
    }
  }
}

/**
 * Derives every activation's domain from the graph: `x` holds pixels, ReLU
 * layers produce non-negative values, linear layers real ones, and a
 * recurrent state has its source's domain (zeros at t = 0 fit any domain).
 *
 * @param graph the architecture
 * @returns the domain of every activation name of the graph
 */
export function activationDomains(
  graph: ArchitectureGraph,
): Map<string, ActivationDomain> {
  const layers = [...graph.stepLayers, ...graph.headLayers];
  // States start optimistic and are lowered to their source's domain until
  // nothing changes (two rounds for every graph of the thesis).
  const states = new Map(
    graph.states.map((s) => [s.name, "nonnegative" as ActivationDomain]),
  );
  for (let round = 0; round <= graph.states.length + 1; round++) {
    const domains = new Map<string, ActivationDomain>([
      ["x", "pixels"],
      ...states,
    ]);
    for (const layer of layers) {
      const d = outputDomain(layer, domains);
      for (const name of layerOutputs(layer)) domains.set(name, d);
    }
    let changed = false;
    for (const s of graph.states) {
      const d = domains.get(s.source) ?? "real";
      if (states.get(s.name) !== d) {
        states.set(s.name, d);
        changed = true;
      }
    }
    if (!changed) return domains;
  }
  throw new Error(
    `Cannot derive activation domains of "${graph.spec.architecture}": the states do not settle`,
  );
}
