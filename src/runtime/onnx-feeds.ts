/**
 * The inputs of a vnet ONNX graph (an exported model, a training step, an evaluation graph) from
 * views as the data pipeline loads them: the raw clips [N, T, H, W, C] in [0, 1] as they are
 * (the graph computes frame selection and normalisation itself), one frame of each clip for a 2D
 * network (picked as the tfjs engine picks it, `framePicks`), and for each optical-flow stream the
 * fields the loader computed. No copy is made of a batch's clips for a 3D network.
 */
import type { OnnxInput } from "../backends/onnx/index.js";
import type { FlowStream } from "../data/flow.js";
import type { ClipGeometry, LoadedViews } from "../data/views.js";
import type { CheckedNetwork } from "../semantics/network.js";
import type { HostTensor } from "./onnx.js";
import { framePicks } from "./streams.js";

/** Where each input of the graph comes from, resolved once per network. */
export interface FeedPlan {
  readonly inputs: readonly OnnxInput[];
  /** For each stream input, the index of its flow stream in `flows`. */
  readonly flowIndex: ReadonlyMap<string, number>;
}

/** Resolves a graph's stream inputs to the network's optical-flow streams; throws for a stream the loader cannot compute. */
export function feedPlan(network: CheckedNetwork, inputs: readonly OnnxInput[], flows: readonly FlowStream[]): FeedPlan {
  const byId = new Map(network.layers.map((l) => [l.id, l]));
  const flowIndex = new Map<string, number>();
  for (const input of inputs.filter((i) => i.kind === "stream")) {
    const declared = network.inputs.find((i) => i.name === input.name && i.modelInput);
    let layer = declared ? byId.get(declared.layer) : undefined;
    while (layer && layer.op !== "optical_flow" && layer.op !== "input") layer = byId.get(layer.inputs[0]!);
    const index = layer?.op === "optical_flow" ? flows.findIndex((f) => f.layer === layer!.id) : -1;
    if (index < 0 || input.pipeline?.length !== 1) throw new Error(`stream \`${input.name}\` (${(input.pipeline ?? []).map((p) => p.op).join(" -> ")}) is not an optical-flow field the data loader computes`);
    flowIndex.set(input.name, index);
  }
  return { inputs, flowIndex };
}

/**
 * The feeds of one batch of merged views (`mergeViews`): every graph input by name.
 * `random` picks a 2D network's frames (training); without it each clip's middle frame is used.
 */
export function viewFeeds(plan: FeedPlan, views: LoadedViews, geometry: ClipGeometry, random?: () => number): Record<string, HostTensor> {
  const n = views.views;
  const { frames, height, width, channels } = geometry;
  const feeds: Record<string, HostTensor> = {};
  for (const input of plan.inputs) {
    if (input.kind === "stream") {
      feeds[input.name] = { data: views.flows[plan.flowIndex.get(input.name)!]!, shape: [n, ...input.shape] };
      continue;
    }
    if (input.shape.length === 4) {
      feeds[input.name] = { data: views.clips, shape: [n, frames, height, width, channels] };
      continue;
    }
    // A 2D network: one frame of each clip.
    const frame = height * width * channels;
    const picked = new Float32Array(n * frame);
    framePicks(n, frames, random).forEach((f, k) => picked.set(views.clips.subarray(f * frame, (f + 1) * frame), k * frame));
    feeds[input.name] = { data: picked, shape: [n, height, width, channels] };
  }
  return feeds;
}
