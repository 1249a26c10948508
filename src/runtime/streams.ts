/**
 * What the model is fed: the lowered graph's inputs, filled from loaded views. The graph computes
 * every stream it can (frame selection, subsampling, normalisation are IR nodes, src/ir/build.ts),
 * so the runtime feeds it the raw clips as the data pipeline holds them, values in [0, 1], exactly
 * as an exported ONNX model is fed; the only thing computed outside is optical flow (the data
 * loader's, src/data/flow.ts), fed as the stream input it is. A 2D network (an `image(...)` input)
 * is fed the one frame of its one-frame clips.
 */
import * as tf from "@tensorflow/tfjs";
import { flowStreams, type FlowStream } from "../data/flow.js";
import { mergeViews, type LoadedViews } from "../data/views.js";
import type { IrGraph } from "../ir/graph.js";
import type { HostTensor } from "./onnx.js";

/** Why the data pipeline cannot feed a lowered graph (undefined when it can). */
export function unsupportedInputs(graph: IrGraph): string | undefined {
  // A detector's boxes come with its keyframes, not from the data pipeline.
  const raw = graph.inputs.filter((i) => i.kind === "raw" && !i.boxes);
  if (!graph.protocol)
    return `the data pipeline feeds one clip [T, H, W, C] or image [H, W, C] input; ${graph.name} has ${raw.length === 1 ? `\`${raw[0]!.name}\` [${raw[0]!.shape.join(", ")}]` : `${raw.length} raw inputs`}`;
  if (raw.length > 1) return `the data pipeline feeds one raw input; ${graph.name} has ${raw.length}`;
  if (graph.protocol.channels !== 3) return `the data pipeline feeds RGB clips; ${graph.name}'s input has ${graph.protocol.channels} channels`;
  try {
    flowStreams(graph);
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

/** A model input as the feeder needs it: a graph's (`IrInput`) or an exported model's (`OnnxInput`). */
export interface FedInput {
  readonly name: string;
  /** "raw" (default): the clip or image; "stream": a flow stream's fields. */
  readonly kind?: "raw" | "stream";
  readonly shape: readonly number[];
}

/**
 * The model's inputs, in `inputs` order, for loaded views (each task's views, concatenated): the
 * raw clips [N, T, H, W, C] (or frames [N, H, W, C] for an image input) and each flow stream's
 * fields (`flows`, the streams the views were loaded with).
 */
export function modelFeeds(inputs: readonly FedInput[], parts: LoadedViews | readonly LoadedViews[], flows: readonly FlowStream[]): HostTensor[] {
  const merged = Array.isArray(parts) ? mergeViews(parts as readonly LoadedViews[]) : (parts as LoadedViews);
  const n = merged.views;
  return inputs.map((input) => {
    if (input.kind !== "stream") return { data: merged.clips, shape: [n, ...input.shape] };
    const k = flows.findIndex((f) => f.input === input.name);
    if (k < 0) throw new Error(`internal: no flow stream for input ${input.name}`);
    return { data: merged.flows[k]!, shape: [n, ...input.shape] };
  });
}

/** `modelFeeds` of a graph as tfjs tensors, in the order `model.predict` takes them. */
export function graphFeeds(graph: IrGraph, parts: LoadedViews | readonly LoadedViews[], flows: readonly FlowStream[] = flowStreams(graph)): tf.Tensor[] {
  return modelFeeds(graph.inputs, parts, flows).map((t) => tf.tensor(t.data, [...t.shape]));
}

/** `modelFeeds` by input name, as an ONNX session takes them (an exported model, a training step, an evaluation graph). */
export function namedFeeds(inputs: readonly FedInput[], parts: LoadedViews | readonly LoadedViews[], flows: readonly FlowStream[]): Record<string, HostTensor> {
  const feeds = modelFeeds(inputs, parts, flows);
  return Object.fromEntries(inputs.map((input, k) => [input.name, feeds[k]!]));
}
