/**
 * The inputs of an exported model. A vnet model reads streams (`stream rgb = video -> normalize`),
 * which tfjs models take ready-made from the data pipeline. The ONNX graph computes every stream
 * it can itself (frame selection, subsampling, normalisation: the same frames and arithmetic as
 * `src/runtime/streams.ts`), so deployments feed the raw clip, channels-last [N, T, H, W, C] with
 * values in [0, 1], exactly as vnet's data pipeline holds it. A stream the graph cannot compute
 * (optical flow) is an input of its own, named after the stream, for the data pipeline to fill.
 */
import type { IrGraph, IrNode } from "../../ir/graph.js";
import type { Args } from "../../ops/catalogue.js";
import type { CheckedNetwork, Layer } from "../../semantics/network.js";
import { emitNode, STREAM_EMITTERS, type EmitState } from "./emit.js";
import { BATCH, BOX_ROWS, channelsLast, dimsIn, type Value } from "./layout.js";

export interface OnnxInput {
  /** The ONNX input's name: a raw input's (`video`) or an external stream's (`flow`). */
  readonly name: string;
  /** "raw": a clip or image in [0, 1]; "stream": computed by the data pipeline. */
  readonly kind: "raw" | "stream";
  /** Without batch, channels-last. */
  readonly shape: readonly number[];
  /** For a stream: the raw input it is computed from and its operators. */
  readonly from?: string;
  readonly pipeline?: readonly { readonly op: string; readonly args: Args }[];
  /** A detector's `boxes()` input: K rows [batch index, x1, y1, x2, y2], not N. */
  readonly boxes?: true;
}

/** How one model input (stream) is obtained: computed in the graph from a raw input, or fed. */
export interface StreamPlan {
  readonly irNode: number;
  readonly raw: Layer;
  readonly chain: readonly Layer[];
  readonly inGraph: boolean;
  readonly name: string;
}

/** The network's model inputs and how the exported graph obtains each. */
export function planInputs(network: CheckedNetwork, graph: IrGraph): { inputs: OnnxInput[]; streams: StreamPlan[] } {
  const byId = new Map(network.layers.map((l) => [l.id, l]));
  const inputs: OnnxInput[] = [];
  const streams: StreamPlan[] = [];
  for (const irInput of graph.inputs) {
    const declared = network.inputs.find((i) => i.name === irInput.name && i.modelInput)!;
    const chain: Layer[] = [];
    let layer = byId.get(declared.layer)!;
    while (layer.op !== "input") {
      chain.unshift(layer);
      layer = byId.get(layer.inputs[0]!)!;
    }
    const inGraph = chain.every((l) => Object.hasOwn(STREAM_EMITTERS, l.op));
    streams.push({ irNode: irInput.node, raw: layer, chain, inGraph, name: irInput.name });
    const pipeline = chain.map((l) => ({ op: l.op, args: l.args }));
    if (!inGraph) inputs.push({ name: irInput.name, kind: "stream", shape: irInput.shape, from: layer.name, pipeline });
    else if (!inputs.some((i) => i.name === layer.name)) inputs.push({ name: layer.name, kind: "raw", shape: layer.shape, ...(layer.args.kind === "boxes" ? { boxes: true as const } : {}) });
  }
  return { inputs, streams };
}

/** Declares the graph inputs and emits the in-graph streams; returns each IR input node's value. */
export function emitInputs(state: EmitState, plan: { inputs: readonly OnnxInput[]; streams: readonly StreamPlan[] }): Map<number, Value> {
  const values = new Map<string | number, Value>();
  for (const input of plan.inputs) {
    const order = channelsLast(input.shape.length + 1);
    values.set(input.name, { name: state.graph.input(input.name, dimsIn(input.shape, order, input.boxes ? BOX_ROWS : BATCH)), order, shape: input.shape });
  }
  const byIrNode = new Map<number, Value>();
  for (const stream of plan.streams) {
    if (!stream.inGraph) {
      byIrNode.set(stream.irNode, values.get(stream.name)!);
      continue;
    }
    let value = values.get(stream.raw.name)!;
    for (const layer of stream.chain) {
      // Streams sharing a prefix (`stream a = video -> subsample`, `stream b = a -> normalize`) share its nodes.
      const done = values.get(layer.id);
      if (done) {
        value = done;
        continue;
      }
      const node: IrNode = { id: layer.id, op: layer.op, name: layer.name, args: layer.args, inputs: layer.inputs, shape: layer.shape, frozen: false, origin: layer.origin };
      value = emitNode(state, node, [value], STREAM_EMITTERS[layer.op]!);
      values.set(layer.id, value);
    }
    byIrNode.set(stream.irNode, value);
  }
  return byIrNode;
}
