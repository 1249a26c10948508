/**
 * Which feature maps Grad-CAM explains, and what frames of the clip each one covers.
 *
 * A candidate is a node of the lowered IR whose output is a spatial feature map with more than one
 * position: channels-last [N, T, H, W, C] (3D networks, recurrences over maps), [N, H, W, C] (2D
 * networks, early fusion, flow stacks) or a per-frame map inside a `per_frame` body ([N*T, H, W,
 * C], time folded into the batch). Padding and time folding are not layers of the spec and are
 * left out. Each map belongs to the model input (stream) its first input leads back to: the
 * pathway a lateral connection widens, the tower of a two-stream network.
 *
 * The default: per model input, the last candidate (in graph order) that no other candidate reads
 * from, i.e. the last spatio-temporal map before pooling, flattening or a join (PySlowFast's
 * default layers are those of SlowFast's last stage, `s5/pathway0_res2` and `s5/pathway1_res2`).
 */
import { flowStreams } from "../../data/flow.js";
import type { IrGraph, IrNode } from "../../ir/graph.js";
import { frameIndex, subsampleIndices } from "../../ops/temporal.js";
import { closest } from "../../semantics/suggest.js";

/** How a feature map's tensor is laid out. */
export type MapLayout = "NTHWC" | "NHWC" | "(NT)HWC";

export interface CamTarget {
  /** The IR node (its name is the tfjs layer's). */
  readonly node: IrNode;
  readonly layout: MapLayout;
  /** Time steps of the map: T for NTHWC, the folded frames for (NT)HWC, 1 for NHWC. */
  readonly steps: number;
  /** The model input (stream) it explains. */
  readonly input: string;
}

/** What frames of the raw clip a model input shows, per its own time step. */
export interface StreamFrames {
  /** Raw clip frame of each time step of the stream; one entry covering `covers` when it has none. */
  readonly frames: readonly number[];
  /** Whether the stream has a time axis ([T, H, W, C] clips, unstacked flow); else one image. */
  readonly hasTime: boolean;
  /** All raw frames the stream is computed from (a flow stack's frames, a stacked clip's). */
  readonly covers: readonly number[];
  /** Height and width of the stream's frames. */
  readonly size: readonly [number, number];
}

const NOT_LAYERS = new Set(["input", "pad", "fold_time", "unfold_time"]);

function layoutOf(node: IrNode): MapLayout | undefined {
  if (node.layout === "NTHWC" || node.layout === "NHWC" || node.layout === "(NT)HWC") return node.layout;
  return undefined;
}

/** Spatial positions of a node's map (H x W). */
function positions(node: IrNode): number {
  const s = node.shape;
  const layout = layoutOf(node);
  if (layout === "NTHWC") return s[1]! * s[2]!;
  return s[0]! * s[1]!;
}

/** The time steps folded into the batch inside the per_frame body holding `node`. */
function foldedFrames(node: IrNode, byId: ReadonlyMap<number, IrNode>): number {
  for (let n: IrNode | undefined = node; n; n = byId.get(n.inputs[0]!)) {
    if (n.op === "fold_time") return byId.get(n.inputs[0]!)!.shape[0]!;
  }
  throw new Error(`internal: ${node.name} is laid out (NT)HWC without a fold_time before it`);
}

/** The model input (stream) a node's first input leads back to. */
function inputOf(node: IrNode, byId: ReadonlyMap<number, IrNode>, graph: IrGraph): string {
  const streams = new Map(graph.modelInputs.map((i) => [i.node, i.name]));
  let n = node;
  while (!streams.has(n.id) && n.op !== "input") n = byId.get(n.inputs[0]!)!;
  return streams.get(n.id) ?? n.name;
}

/** Every node Grad-CAM can explain, in graph order. */
export function camCandidates(graph: IrGraph): CamTarget[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const out: CamTarget[] = [];
  for (const node of graph.nodes) {
    const layout = layoutOf(node);
    if (!layout || NOT_LAYERS.has(node.op) || positions(node) < 2) continue;
    const steps = layout === "NTHWC" ? node.shape[0]! : layout === "(NT)HWC" ? foldedFrames(node, byId) : 1;
    out.push({ node, layout, steps, input: inputOf(node, byId, graph) });
  }
  return out;
}

/** The default maps: per model input, its last candidate that no candidate depends on. */
export function defaultTargets(graph: IrGraph): CamTarget[] {
  const candidates = camCandidates(graph);
  const ids = new Set(candidates.map((c) => c.node.id));
  // Candidates some later candidate reads, directly or through other nodes.
  const feeding = new Set<number>();
  const reaches = new Map<number, Set<number>>();
  for (const node of graph.nodes) {
    const sources = new Set<number>();
    for (const input of node.inputs) {
      if (ids.has(input)) sources.add(input);
      for (const s of reaches.get(input) ?? []) sources.add(s);
    }
    reaches.set(node.id, sources);
    if (ids.has(node.id)) for (const s of sources) feeding.add(s);
  }
  const last = new Map<string, CamTarget>();
  for (const c of candidates) if (!feeding.has(c.node.id)) last.set(c.input, c);
  return graph.modelInputs.map((i) => last.get(i.name)).filter((c): c is CamTarget => c !== undefined);
}

/** The maps named by `--layer` (IR node names), or why not. */
export function namedTargets(graph: IrGraph, names: readonly string[]): CamTarget[] | string {
  const candidates = camCandidates(graph);
  const out: CamTarget[] = [];
  for (const name of names) {
    const found = candidates.find((c) => c.node.name === name);
    if (found) {
      out.push(found);
      continue;
    }
    const node = graph.nodes.find((n) => n.name === name);
    const near = closest(
      name,
      candidates.map((c) => c.node.name),
    );
    const why = node
      ? `\`${name}\` (${node.op}, [N, ${node.shape.join(", ")}]) is not a spatial feature map with more than one position`
      : `${graph.name} has no layer \`${name}\`${near ? ` (did you mean \`${near}\`?)` : ""}`;
    const related = candidates.filter((c) => c.node.name.startsWith(name.split(".")[0]!)).slice(-6);
    const list = (related.length ? related : candidates.slice(-6)).map((c) => c.node.name).join(", ");
    return `${why}; feature maps Grad-CAM can explain include ${list}`;
  }
  return out;
}

/** The frames of the raw clip each model input shows (see `StreamFrames`): the graph's stream nodes between it and the graph's input. */
export function streamFrames(graph: IrGraph, inputName: string): StreamFrames {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const input = graph.modelInputs.find((i) => i.name === inputName);
  if (!input) throw new Error(`internal: ${graph.name} has no model input ${inputName}`);
  const chain: IrNode[] = [];
  let node = byId.get(input.node)!;
  for (; node.op !== "input"; node = byId.get(node.inputs[0]!)!) chain.unshift(node);
  const fed = graph.inputs.find((i) => i.node === node.id)!;
  const raw = graph.protocol ? [graph.protocol.frames, graph.protocol.height, graph.protocol.width] : fed.shape;
  const size: [number, number] = [raw[1]!, raw[2]!];
  if (fed.kind === "stream") {
    const flow = flowStreams(graph).find((f) => f.input === fed.name)!;
    if (flow.stack) return { frames: [flow.positions[0]!], hasTime: false, covers: flow.positions, size };
    return { frames: flow.positions.slice(0, -1), hasTime: true, covers: flow.positions, size };
  }
  // A 2D network's views are clips of one frame.
  if (fed.shape.length === 3) return { frames: [0], hasTime: false, covers: [0], size };
  let frames = Array.from({ length: raw[0]! }, (_, i) => i);
  let hasTime = true;
  for (const step of chain) {
    if (step.op === "subsample") frames = subsampleIndices(frames.length, step.args).map((i) => frames[i]!);
    else if (step.op === "frame") {
      frames = [frames[frameIndex(frames.length, step.args)]!];
      hasTime = false;
    }
  }
  return { frames, hasTime, covers: frames, size };
}
