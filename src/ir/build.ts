/**
 * Builds the IR graph from a checked network. The graph is fed what the data pipeline holds: the
 * raw input clip (values in [0, 1]) and, for a stream the graph cannot compute, that stream (an
 * `optical_flow`, the catalogue's `streamOnly` operators, and what precedes it). Every other
 * stream operator (frame selection, subsampling, normalisation) is a node of the graph, so every
 * backend computes the streams the same way from the raw clip. A stream's `normalize` reads
 * values that stand for 8-bit pixels held in [0, 1]: its node gets `stream = true` (x * 255 /
 * scale), a model layer's `normalize` divides by `scale` itself.
 * Nodes keep the checker's layer ids, names, arguments, shapes and source ranges; a `per_frame`
 * layer keeps its body as a nested graph until `lower-per-frame` inlines it. The graph also
 * carries what backends and runtimes need besides the layers: the sampling protocol, the
 * `sampling` section, class names, the description and the spec's model inputs.
 */
import { OPERATORS, type Args } from "../ops/catalogue.js";
import { frozenSplit, type CheckedNetwork, type Layer } from "../semantics/network.js";
import { protocolOf, type Section } from "../semantics/protocol.js";
import type { TaskName } from "../semantics/tasks/index.js";
import { freezeGraph, type IrGraph, type IrInput, type IrNode, type ModelInput, type PipelineStep } from "./graph.js";

/** True for a stream operator the graph cannot compute (the data pipeline does: optical flow). */
export function computedOutsideGraph(op: string): boolean {
  return OPERATORS.get(op)?.streamOnly === true;
}

/** Builds the (frozen) IR graph of a checked network. */
export function buildIr(network: CheckedNetwork): IrGraph {
  const layerById = new Map(network.layers.map((l) => [l.id, l]));
  const inputs: IrInput[] = [];
  const modelInputs: ModelInput[] = [];
  /** Input nodes by layer id: raw inputs, and the last outside-graph layer of a stream. */
  const inputNodes = new Map<number, IrInput>();
  /** Stream layers the graph computes. */
  const inGraph = new Set<number>();
  for (const declared of network.inputs.filter((i) => i.modelInput)) {
    modelInputs.push({ name: declared.name, node: declared.layer });
    const chain: Layer[] = [];
    let raw = layerById.get(declared.layer)!;
    while (raw.op !== "input") {
      chain.unshift(raw);
      raw = layerById.get(raw.inputs[0]!)!;
    }
    const outside = chain.reduce((last, l, i) => (computedOutsideGraph(l.op) ? i : last), -1);
    const fed: IrInput =
      outside < 0
        ? { name: raw.name, node: raw.id, shape: raw.shape, kind: "raw", ...(raw.args.kind === "boxes" ? { boxes: true as const } : {}) }
        : {
            name: declared.name,
            node: chain[outside]!.id,
            shape: chain[outside]!.shape,
            kind: "stream",
            from: raw.name,
            pipeline: chain.slice(0, outside + 1).map((l): PipelineStep => ({ op: l.op, args: l.args })),
          };
    if (!inputNodes.has(fed.node)) {
      inputNodes.set(fed.node, fed);
      inputs.push(fed);
    }
    for (const layer of chain.slice(outside + 1)) inGraph.add(layer.id);
  }
  const nodes: IrNode[] = [];
  for (const layer of network.layers) {
    const input = inputNodes.get(layer.id);
    if (input) nodes.push({ id: layer.id, op: "input", name: input.name, args: {}, inputs: [], shape: input.shape, frozen: false, origin: layer.origin });
    else if (layer.stream) {
      if (inGraph.has(layer.id)) nodes.push(streamNode(layer));
    } else if (layer.op !== "input") nodes.push(layerNode(layer, network.task));
  }
  const protocol = protocolOf(network);
  return freezeGraph({
    name: network.name,
    file: network.file,
    task: network.task,
    nodes,
    inputs,
    outputs: [...network.outputs],
    ...(network.classes !== undefined ? { classes: network.classes } : {}),
    ...(network.classNames ? { classNames: [...network.classNames] } : {}),
    ...(network.description !== undefined ? { description: network.description } : {}),
    ...(protocol ? { protocol } : {}),
    ...(network.sections.sampling ? { sampling: network.sections.sampling as Section } : {}),
    modelInputs,
    expected: reachableCounts(network),
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

/** A stream layer the graph computes; its normalisation reads pixels held in [0, 1]. */
function streamNode(layer: Layer): IrNode {
  const args: Args = layer.op === "normalize" ? { ...layer.args, stream: true } : layer.args;
  return { id: layer.id, op: layer.op, name: layer.name, args, inputs: [...layer.inputs], shape: layer.shape, frozen: false, origin: layer.origin };
}

function layerNode(layer: Layer, task: TaskName): IrNode {
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
    task,
    nodes: layer.body.map((l) =>
      l.op === "input" ? { id: l.id, op: "input", name: l.name, args: {}, inputs: [], shape: l.shape, frozen: l.frozen, origin: l.origin } : layerNode(l, task),
    ),
    inputs: [{ name: frameLayer.name, node: frameLayer.id, shape: frameLayer.shape }],
    outputs: [output as number],
    modelInputs: [],
    expected: { trainable: 0, frozen: 0 },
    passes: [],
  };
  return { ...base, args, body };
}
