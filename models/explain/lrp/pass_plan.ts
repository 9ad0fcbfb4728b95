/**
 * A relevance pass as data: every layer of a graph with the rule its
 * composite assigns and how its concatenated input splits. Built before any
 * tensor exists, so a method that has no rule for some layer fails first
 * (iNNvestigate's precondition checks).
 *
 * @module
 */
import {
  type ArchitectureGraph,
  type ConvLayer,
  type DenseLayer,
  type Layer,
  layerOutputs,
  type LstmLayer,
  type PoolLayer,
  type ReshapeLayer,
  staticActivations,
} from "../../arch/graph.ts";
import type { Composite, LayerSlot, SlotInput } from "../composites.ts";
import type { LinearLayer, LstmCellOptions, Rule } from "../rules/mod.ts";
import { createFastAvgPool } from "./_linear_maps.ts";
import {
  type ActivationDomain,
  activationDomains,
} from "./activation_domains.ts";

/** One input of a concatenation: its activation name and its share of the concatenated axis. */
export interface InputPart {
  readonly from: string;
  /** Features (dense, flattened) or channels (conv). */
  readonly size: number;
}

/** A dense layer and its rule. */
export interface DenseOp {
  readonly kind: "dense";
  readonly layer: DenseLayer;
  readonly rule: Rule;
  readonly inputs: readonly InputPart[];
}

/** A convolution and its rule. */
export interface ConvOp {
  readonly kind: "conv";
  readonly layer: ConvLayer;
  readonly rule: Rule;
  readonly inputs: readonly InputPart[];
}

/** A pooling layer and its rule. */
export interface PoolOp {
  readonly kind: "pool";
  readonly layer: PoolLayer;
  readonly rule: Rule;
  /** The pooling as a linear map (the layer's scale). */
  readonly map: LinearLayer;
}

/** A reshape: relevance is reshaped back to the input's shape. */
export interface ReshapeOp {
  readonly kind: "reshape";
  readonly layer: ReshapeLayer;
  /** Per-sample shape of the input. */
  readonly inputShape: readonly number[];
}

/**
 * An R-LSTM cell: the cell split, then the candidate's rule over its
 * concatenated input (gates get nothing).
 */
export interface LstmOp {
  readonly kind: "lstm";
  readonly layer: LstmLayer;
  /** The rule of the candidate g = ReLU(K_g·[inputs…]). */
  readonly candidate: Rule;
  readonly inputs: readonly InputPart[];
  readonly cell: Readonly<LstmCellOptions>;
}

/** One layer of a pass. */
export type LayerOp = DenseOp | ConvOp | PoolOp | ReshapeOp | LstmOp;

/** Every layer of a graph with its rule, in forward order. */
export interface PassPlan {
  readonly graph: ArchitectureGraph;
  readonly composite: Composite;
  /** Step layers in forward order (the pass walks them backwards). */
  readonly steps: readonly LayerOp[];
  /**
   * The step layers that depend on `x` only (input layers, the conv front
   * end), in forward order: the pass walks them once over all T·N rows.
   */
  readonly statics: readonly LayerOp[];
  /** The other step layers, in forward order: walked once per step. */
  readonly loop: readonly LayerOp[];
  /** The static activations (outputs of {@linkcode statics}, and `x`). */
  readonly staticNames: ReadonlySet<string>;
  /** Head layers in forward order. */
  readonly head: readonly LayerOp[];
}

function size(graph: ArchitectureGraph, name: string, conv: boolean): number {
  const shape = graph.shapes[name];
  if (shape === undefined) {
    throw new Error(
      `Cannot plan relevance pass: activation "${name}" has no shape`,
    );
  }
  return conv ? shape.at(-1)! : shape.reduce((a, d) => a * d, 1);
}

function slotInput(domains: readonly ActivationDomain[]): SlotInput {
  if (domains.every((d) => d === "pixels")) return "pixels";
  if (domains.every((d) => d === "nonnegative")) return "nonnegative";
  const k = domains.findIndex((d) => d !== "pixels");
  const prefix = k > 0 && domains.slice(k).every((d) => d === "nonnegative");
  return prefix ? "mixed" : "real";
}

function slotOf(
  graph: ArchitectureGraph,
  domains: ReadonlyMap<string, ActivationDomain>,
  layer: DenseLayer | ConvLayer | LstmLayer,
): { slot: LayerSlot; inputs: InputPart[] } {
  const conv = layer.kind === "conv";
  const inputs = layer.inputs.map((i) => ({
    from: i.from,
    size: size(graph, i.from, conv),
  }));
  const kinds = inputs.map((i) => domains.get(i.from) ?? "real");
  const input = slotInput(kinds);
  const pixels = input === "mixed"
    ? inputs.filter((_, k) => kinds[k] === "pixels").reduce(
      (a, i) => a + i.size,
      0,
    )
    : 0;
  return {
    slot: { layer: layer.name, kind: conv ? "conv" : "dense", input, pixels },
    inputs,
  };
}

function opOf(
  graph: ArchitectureGraph,
  domains: ReadonlyMap<string, ActivationDomain>,
  composite: Composite,
  layer: Layer,
): LayerOp {
  switch (layer.kind) {
    case "reshape":
      return { kind: "reshape", layer, inputShape: graph.shapes[layer.input]! };
    case "pool": {
      const d = domains.get(layer.input) ?? "real";
      const slot: LayerSlot = {
        layer: layer.name,
        kind: "pool",
        input: d === "nonnegative" ? d : "real",
        pixels: 0,
      };
      return {
        kind: "pool",
        layer,
        rule: composite.ruleFor(slot),
        map: createFastAvgPool(layer.scale),
      };
    }
    case "dense": {
      const { slot, inputs } = slotOf(graph, domains, layer);
      return { kind: "dense", layer, rule: composite.ruleFor(slot), inputs };
    }
    case "conv": {
      const { slot, inputs } = slotOf(graph, domains, layer);
      return { kind: "conv", layer, rule: composite.ruleFor(slot), inputs };
    }
    case "lstm": {
      const { slot, inputs } = slotOf(graph, domains, layer);
      return {
        kind: "lstm",
        layer,
        candidate: composite.ruleFor(slot),
        inputs,
        cell: composite.cell,
      };
    }
  }
}

/**
 * Assigns every layer of a graph its rule from a composite.
 *
 * @param graph the architecture
 * @param composite the rule assignment
 * @returns the plan
 * @throws {PreconditionError} if the composite has no rule for some layer
 *   (e.g. w² on Shallow's `[pixels ; states]` layer, or αβ on a layer that
 *   reads a linear output)
 */
export function createPassPlan(
  graph: ArchitectureGraph,
  composite: Composite,
): PassPlan {
  const domains = activationDomains(graph);
  const op = (layer: Layer) => opOf(graph, domains, composite, layer);
  const steps = Object.freeze(graph.stepLayers.map(op));
  const staticNames = staticActivations(graph);
  const isStatic = (o: LayerOp) =>
    layerOutputs(o.layer).every((name) => staticNames.has(name));
  return Object.freeze({
    graph,
    composite,
    steps,
    statics: Object.freeze(steps.filter(isStatic)),
    loop: Object.freeze(steps.filter((o) => !isStatic(o))),
    staticNames,
    head: Object.freeze(graph.headLayers.map(op)),
  });
}
