/**
 * Analytic floating-point operation counts of a training step, for
 * throughput reports (GFLOP/s next to the backend's matmul peak).
 *
 * Only the matrix products and convolutions are counted (one multiply-add =
 * 2 FLOPs); element-wise ops, pooling, dropout, softplus, the loss and Adam
 * are left out (together a few percent). Per sample, for every layer input
 * edge and every step at which it is computed:
 *
 * - dense / LSTM edge with m inputs into n units (the LSTM's n is 4R):
 *   forward 2·m·n;
 * - convolution edge with c_in channels into c_out filters on an h×w map
 *   with a k_h×k_w kernel: forward 2·h·w·k_h·k_w·c_in·c_out;
 * - backward: the weight gradient costs as much as the forward product, and
 *   the input gradient as much again, except for edges that read the data
 *   (`x`, `x_image`), whose input gradient training skips. So an edge costs
 *   3× its forward count in training, or 2× when it reads the data.
 *
 * Recurrent states are zero at step 0 and the interpreter skips their
 * products there, so state edges count T − 1 steps; the head counts once.
 *
 * @module
 */
import type { ArchitectureGraph, Layer } from "../arch/graph.ts";

/** FLOPs per sample. */
export interface FlopCount {
  /** The forward pass. */
  forward: number;
  /** A training step: forward and backward. */
  training: number;
}

const DATA = new Set(["x", "x_image"]);

function size(graph: ArchitectureGraph, name: string): number {
  return graph.shapes[name]!.reduce((a, d) => a * d, 1);
}

function edgeFlops(
  graph: ArchitectureGraph,
  layer: Layer,
  from: string,
): number {
  switch (layer.kind) {
    case "dense":
      return 2 * size(graph, from) * layer.units;
    case "lstm":
      return 2 * size(graph, from) * 4 * layer.units;
    case "conv": {
      const [h, w, cin] = graph.shapes[from]!;
      const [kh, kw] = layer.kernelSize;
      return 2 * h! * w! * kh * kw * cin! * layer.filters;
    }
    default:
      return 0;
  }
}

/**
 * Counts the FLOPs of one sample's forward pass and training step.
 *
 * @param graph the architecture
 * @returns FLOPs per sample
 */
export function countFlops(graph: ArchitectureGraph): FlopCount {
  const states = new Set(graph.states.map((s) => s.name));
  const steps = graph.spec.steps;
  let forward = 0;
  let training = 0;
  const add = (layer: Layer, times: number) => {
    if (
      layer.kind !== "dense" && layer.kind !== "conv" && layer.kind !== "lstm"
    ) return;
    for (const { from } of layer.inputs) {
      const uses = states.has(from) ? times - 1 : times;
      const f = edgeFlops(graph, layer, from) * Math.max(0, uses);
      forward += f;
      training += f * (DATA.has(from) ? 2 : 3);
    }
  };
  for (const layer of graph.stepLayers) add(layer, steps);
  for (const layer of graph.headLayers) add(layer, 1);
  return { forward, training };
}
