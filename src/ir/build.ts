/**
 * Builds the IR graph from a checked network. The data pipeline (`stream` layers) stays out: each
 * stream the model reads becomes a graph input with the stream's name and shape. Nodes keep the
 * checker's layer ids, names, arguments, shapes and source ranges; a `per_frame` layer keeps its
 * body as a nested graph until `lower-per-frame` inlines it.
 */
import type { Args } from "../ops/catalogue.js";
import { frozenSplit, type CheckedNetwork, type Layer } from "../semantics/network.js";
import { freezeGraph, type IrGraph, type IrInput, type IrNode } from "./graph.js";

/** Builds the (frozen) IR graph of a checked network. */
export function buildIr(network: CheckedNetwork): IrGraph {
  const modelInputs = network.inputs.filter((i) => i.modelInput);
  const inputNames = new Map(modelInputs.map((i) => [i.layer, i.name]));
  const layerById = new Map(network.layers.map((l) => [l.id, l]));
  const nodes: IrNode[] = [];
  const inputs: IrInput[] = [];
  for (const input of modelInputs) {
    const layer = layerById.get(input.layer)!;
    nodes.push({ id: layer.id, op: "input", name: input.name, args: {}, inputs: [], shape: input.shape, frozen: false, origin: layer.origin });
    inputs.push({ name: input.name, node: layer.id, shape: input.shape });
  }
  for (const layer of network.layers) {
    // Stream layers run in the data pipeline; raw inputs are graph inputs only when read directly.
    if (layer.stream || layer.op === "input" || inputNames.has(layer.id)) continue;
    nodes.push(layerNode(layer));
  }
  const expected = reachableCounts(network);
  return freezeGraph({
    name: network.name,
    file: network.file,
    nodes,
    inputs,
    outputs: [...network.outputs],
    ...(network.classes !== undefined ? { classes: network.classes } : {}),
    expected,
    passes: [],
  });
}

/**
 * The checker's parameter counts of the layers the outputs depend on: what the model holds. (The
 * checker's totals also count layers of unused bindings, which it warns about.)
 */
function reachableCounts(network: CheckedNetwork): { trainable: number; frozen: number } {
  const byId = new Map(network.layers.map((l) => [l.id, l]));
  const seen = new Set<number>();
  const pending = [...network.outputs];
  let trainable = 0;
  let frozen = 0;
  while (pending.length) {
    const layer = byId.get(pending.pop()!);
    if (!layer || seen.has(layer.id)) continue;
    seen.add(layer.id);
    if (!layer.stream) {
      // A per_frame layer holds its body's parameters, which may be frozen in part.
      const split = frozenSplit(layer);
      trainable += split.trainable;
      frozen += split.frozen;
    }
    pending.push(...layer.inputs);
  }
  return { trainable, frozen };
}

function layerNode(layer: Layer): IrNode {
  const base = {
    id: layer.id,
    op: layer.op,
    name: layer.name,
    inputs: [...layer.inputs],
    shape: layer.shape,
    frozen: layer.frozen,
    origin: layer.origin,
    ...(layer.inflated ? { inflated: layer.inflated } : {}),
  };
  if (layer.op !== "per_frame" || !layer.body) return { ...base, args: layer.args };
  // The body's output is an argument of the layer; in the IR it is the body graph's output.
  const { output, ...args } = layer.args as Args & { output?: number };
  const frameLayer = layer.body.find((l) => l.op === "input")!;
  const body: IrGraph = {
    name: layer.name,
    file: layer.origin.file,
    nodes: layer.body.map((l) => (l.op === "input" ? { id: l.id, op: "input", name: l.name, args: {}, inputs: [], shape: l.shape, frozen: l.frozen, origin: l.origin } : layerNode(l))),
    inputs: [{ name: frameLayer.name, node: frameLayer.id, shape: frameLayer.shape }],
    outputs: [output as number],
    expected: { trainable: 0, frozen: 0 },
    passes: [],
  };
  return { ...base, args, body };
}
