/**
 * The trainable parameters of a graph: names (the stable safetensors keys),
 * shapes and initialisers.
 *
 * Naming scheme, for a layer named `L`:
 * - dense `L.kernel` [in, units] (rows follow the layer's inputs in order) and
 *   `L.bias` [units];
 * - convolution `L.kernel` [kh, kw, cin, filters] (input channels follow the
 *   inputs in order) and `L.bias` [filters];
 * - R-LSTM `L.kernel` [in, 4R] (column blocks i, f, o, g), `L.gate_bias` [3R]
 *   and `L.candidate_bias` [R].
 *
 * `*.bias` and `*.candidate_bias` hold the raw b of the −softplus(b)
 * parameterisation and exist only with bias mode `softplus`; `gate_bias` is
 * a plain bias and always exists.
 *
 * @module
 */
import type { ArchitectureGraph, Layer } from "./graph.ts";

/** How a parameter is initialised. */
export type Initializer =
  | {
    /** Truncated normal, mean 0, cut at ±2σ. */
    readonly kind: "truncated_normal";
    /** σ = 1/√fan_in. */
    readonly stddev: number;
  }
  | {
    /** Every element equals `value`. */
    readonly kind: "constant";
    readonly value: number;
  };

/** One trainable parameter. */
export interface ParameterInfo {
  /** The stable name, e.g. `in1.kernel`. */
  readonly name: string;
  /** The layer it belongs to. */
  readonly layer: string;
  readonly shape: readonly number[];
  readonly init: Initializer;
}

/**
 * b such that softplus(b) = 0.01, the thesis's initial bias (thesis §3.1).
 */
export const SOFTPLUS_BIAS_INIT: number = Math.log(Math.expm1(0.01));

function inputSize(graph: ArchitectureGraph, from: string): number {
  const shape = graph.shapes[from];
  if (shape === undefined) {
    throw new Error(
      `Cannot size parameters: activation "${from}" is undefined`,
    );
  }
  return shape.reduce((a, d) => a * d, 1);
}

function truncated(fanIn: number): Initializer {
  return { kind: "truncated_normal", stddev: 1 / Math.sqrt(fanIn) };
}

function layerParameters(
  graph: ArchitectureGraph,
  layer: Layer,
): ParameterInfo[] {
  const softplus = graph.spec.bias === "softplus";
  const biasInit: Initializer = { kind: "constant", value: SOFTPLUS_BIAS_INIT };
  const name = layer.name;
  switch (layer.kind) {
    case "dense": {
      const fanIn = layer.inputs.reduce(
        (a, i) => a + inputSize(graph, i.from),
        0,
      );
      const out: ParameterInfo[] = [
        {
          name: `${name}.kernel`,
          layer: name,
          shape: [fanIn, layer.units],
          init: truncated(fanIn),
        },
      ];
      if (softplus) {
        out.push({
          name: `${name}.bias`,
          layer: name,
          shape: [layer.units],
          init: biasInit,
        });
      }
      return out;
    }
    case "conv": {
      const cin = layer.inputs.reduce(
        (a, i) => a + graph.shapes[i.from]!.at(-1)!,
        0,
      );
      const [kh, kw] = layer.kernelSize;
      const out: ParameterInfo[] = [
        {
          name: `${name}.kernel`,
          layer: name,
          shape: [kh, kw, cin, layer.filters],
          init: truncated(kh * kw * cin),
        },
      ];
      if (softplus) {
        out.push({
          name: `${name}.bias`,
          layer: name,
          shape: [layer.filters],
          init: biasInit,
        });
      }
      return out;
    }
    case "lstm": {
      const fanIn = layer.inputs.reduce(
        (a, i) => a + inputSize(graph, i.from),
        0,
      );
      const r = layer.units;
      const out: ParameterInfo[] = [
        {
          name: `${name}.kernel`,
          layer: name,
          shape: [fanIn, 4 * r],
          init: truncated(fanIn),
        },
        {
          name: `${name}.gate_bias`,
          layer: name,
          shape: [3 * r],
          init: { kind: "constant", value: 0 },
        },
      ];
      if (softplus) {
        out.push({
          name: `${name}.candidate_bias`,
          layer: name,
          shape: [r],
          init: biasInit,
        });
      }
      return out;
    }
    default:
      return [];
  }
}

/**
 * Lists a graph's trainable parameters in layer order.
 *
 * @param graph the architecture
 * @returns name, shape and initialiser of every parameter
 */
export function parameterInfos(graph: ArchitectureGraph): ParameterInfo[] {
  return [...graph.stepLayers, ...graph.headLayers].flatMap((layer) =>
    layerParameters(graph, layer)
  );
}

/**
 * Counts a graph's trainable parameters ("true" counts: one bias per gate
 * unit, thesis-code §2.13).
 *
 * @param graph the architecture
 * @returns the number of scalars
 */
export function countParameters(graph: ArchitectureGraph): number {
  return parameterInfos(graph).reduce(
    (a, p) => a + p.shape.reduce((x, d) => x * d, 1),
    0,
  );
}
