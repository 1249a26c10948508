/**
 * The drawing model of a checked network (`vnet graph`): its layers as nodes, each edge with the
 * shape it carries, the streams as lanes, and the blocks (the dotted prefixes of layer names,
 * `res2.slow.0`, and `per_frame` bodies) as groups that a drawing shows as boxes or collapses
 * into one node. Plain JSON, so the HTML view can re-draw it in the browser.
 *
 * Lanes: each model input (a `stream`, or the raw input read directly) is a lane; the stream's
 * data-pipeline layers are in it. A layer is in the lane of its inputs when they share one; a
 * `lateral` connection belongs to the pathway it widens (its first input); any other layer that
 * joins lanes, and what follows it, is in no lane (the joint head).
 */
import { OPERATORS } from "../../ops/catalogue.js";
import type { CheckedNetwork, Layer } from "../../semantics/network.js";
import { formatCount, formatMacs } from "../../semantics/summary.js";

export type NodeKind = "input" | "stream" | "layer";
/** Fusion points (lateral, concat, score fusion, stack_frames, a join of lanes) and temporal modules (recurrences, attention, temporal pooling). */
export type Highlight = "fusion" | "temporal";

export interface GraphNode {
  readonly id: string;
  /** Hierarchical layer name (`res2.slow.0.branch2.a`; a per_frame body's layers are prefixed). */
  readonly name: string;
  readonly op: string;
  readonly kind: NodeKind;
  /** Output shape without the batch axis. */
  readonly shape: readonly number[];
  readonly params: number;
  readonly macs: number;
  readonly frozen: boolean;
  readonly lane?: string;
  readonly highlight?: Highlight;
  /** Keys of the groups holding the node, outermost first. */
  readonly groups: readonly string[];
  /** Display text: `conv3d · 8x56x56x64` and `1,176 params · 602.1 K MACs` (empty when none). */
  readonly detail: string;
  readonly cost: string;
}

export interface GraphGroup {
  readonly key: string;
  /** The name prefix (`res2.slow`), or the per_frame layer's name. */
  readonly name: string;
  readonly lane?: string;
  readonly parent?: string;
  /** 1 for an outermost group. */
  readonly depth: number;
  /** Set for a per_frame body: `per_frame` or `per_frame (frozen)`. */
  readonly perFrame?: string;
  readonly layers: number;
  readonly params: number;
  readonly macs: number;
  /** Operators and how often, most frequent first: `conv3d x3, bn x3, relu x3, add`. */
  readonly ops: string;
  /** Holds a fusion point or a temporal module. */
  readonly highlight?: Highlight;
  /** Display text, as for nodes. */
  readonly detail: string;
  readonly cost: string;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly shape: readonly number[];
  /** The shape as drawn: `8x56x56x64`. */
  readonly label: string;
}

export interface GraphLane {
  readonly name: string;
  /** What the stream computes from the raw input, in words: `subsample(frames = 4) -> normalize`. */
  readonly pipeline: string;
  readonly shape: readonly number[];
}

export interface GraphModel {
  readonly network: string;
  readonly classes?: number;
  readonly lanes: readonly GraphLane[];
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  readonly groups: readonly GraphGroup[];
  readonly totals: { readonly params: number; readonly macs: number };
  /** `34,480,216 parameters · 27.64 G MACs per clip`. */
  readonly cost: string;
}

/** A shape without the batch axis, as an edge label: `8x56x56x64`. */
export function compactShape(shape: readonly number[]): string {
  return shape.join("x");
}

function costText(params: number, macs: number): string {
  return [params ? `${formatCount(params)} params` : "", macs ? `${formatMacs(macs)} MACs` : ""].filter(Boolean).join(" · ");
}

const FUSION_OPS = new Set(["lateral", "concat", "score_fusion", "stack_frames"]);
const TEMPORAL_OPS = new Set(["temporal_pool"]);

function highlightOf(op: string, joinsLanes: boolean): Highlight | undefined {
  if (FUSION_OPS.has(op) || joinsLanes) return "fusion";
  const category = OPERATORS.get(op)?.category;
  if (category === "recurrent" || category === "attention" || TEMPORAL_OPS.has(op)) return "temporal";
  return undefined;
}

/** A stream's pipeline in words, from its stream layers' operators and arguments. */
function pipelineText(chain: readonly Layer[]): string {
  // The arguments that say which frames a stream takes; the rest (flow settings, normalisation
  // constants) would crowd the lane's title.
  const shown = new Set(["frames", "stride", "offset", "index", "pairs"]);
  const isDefault = (op: string, key: string, value: unknown) => OPERATORS.get(op)?.params.find((p) => p.name === key)?.default === value;
  const argText = (layer: Layer) =>
    Object.entries(layer.args)
      .filter(([k, v]) => shown.has(k) && v !== undefined && v !== null && !isDefault(layer.op, k, v))
      .map(([k, v]) => `${k} = ${String(v)}`)
      .join(", ");
  return chain.map((l) => `${l.op}${argText(l) ? `(${argText(l)})` : ""}`).join(" -> ");
}

/** Builds the drawing model of a checked network. */
export function graphModel(network: CheckedNetwork): GraphModel {
  const byId = new Map(network.layers.map((l) => [l.id, l]));
  const laneOf = new Map<number, string | undefined>();
  const lanes: GraphLane[] = [];
  const modelInputs = network.inputs.filter((i) => i.modelInput);
  // One lane per model input when there are several; a single-input network needs none.
  const laned = modelInputs.length > 1;
  for (const input of modelInputs) {
    const chain: Layer[] = [];
    let layer = byId.get(input.layer);
    while (layer && layer.stream) {
      chain.unshift(layer);
      if (laned && !laneOf.has(layer.id)) laneOf.set(layer.id, input.name);
      layer = byId.get(layer.inputs[0]!);
    }
    if (laned && layer && layer.op === "input" && layer.id === input.layer) laneOf.set(layer.id, input.name);
    if (laned) lanes.push({ name: input.name, pipeline: pipelineText(chain), shape: input.shape });
  }

  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const nodeId = (id: number) => `n${id}`;
  /** Where a layer's output is drawn: a per_frame layer's output is its body's output node. */
  const outputNode = new Map<number, string>();
  const members = new Map<string, { name: string; lane?: string; parent?: string; depth: number; perFrame?: string; layers: Layer[] }>();

  /** The group keys of a layer name: each dotted prefix, within the layer's lane. */
  const groupChain = (name: string, lane: string | undefined): string[] => {
    const parts = name.split(".");
    return parts.slice(1).map((_, i) => `${lane ?? ""}|${parts.slice(0, i + 1).join(".")}`);
  };

  const visit = (
    layers: readonly Layer[],
    prefix: string,
    frozen: boolean,
    outerLane: string | undefined,
    bodyInputSource?: string,
    perFrameGroup?: string,
    bodyInputShape?: readonly number[],
  ) => {
    const local = new Map(layers.map((l) => [l.id, l]));
    for (const layer of layers) {
      const name = prefix ? `${prefix}.${layer.name}` : layer.name;
      if (layer.op === "input" && prefix) {
        // A body's frame input is the per_frame layer's input.
        outputNode.set(layer.id, bodyInputSource!);
        continue;
      }
      const inputLanes = layer.inputs.map((id) => laneOf.get(id));
      let lane: string | undefined;
      if (outerLane !== undefined || prefix) lane = outerLane;
      else if (laneOf.has(layer.id)) lane = laneOf.get(layer.id);
      else if (layer.op === "lateral") lane = inputLanes[0];
      else lane = inputLanes.length && inputLanes.every((l) => l === inputLanes[0]) ? inputLanes[0] : undefined;
      laneOf.set(layer.id, lane);
      const joinsLanes = laned && new Set(inputLanes).size > 1;
      if (layer.op === "per_frame" && layer.body) {
        const key = `${lane ?? ""}|${name}`;
        members.set(key, { name, ...(lane !== undefined ? { lane } : {}), depth: 0, perFrame: layer.frozen ? "per_frame (frozen)" : "per_frame", layers: [] });
        const outer = local.get(layer.inputs[0]!) ?? byId.get(layer.inputs[0]!);
        visit(layer.body, name, frozen || layer.frozen, lane, outputNode.get(layer.inputs[0]!) ?? nodeId(layer.inputs[0]!), key, outer?.shape);
        outputNode.set(layer.id, outputNode.get(layer.args.output as number)!);
        continue;
      }
      const id = nodeId(layer.id);
      outputNode.set(layer.id, id);
      // Stream layers are drawn in their lane, outside the model's blocks.
      const groups = layer.stream ? [] : groupChain(name, lane);
      if (perFrameGroup && !groups.includes(perFrameGroup)) groups.push(perFrameGroup);
      const node: GraphNode = {
        id,
        name,
        op: layer.op,
        kind: layer.op === "input" ? "input" : layer.stream ? "stream" : "layer",
        shape: layer.shape,
        params: layer.params,
        macs: layer.macs,
        frozen: frozen || layer.frozen,
        ...(lane !== undefined ? { lane } : {}),
        ...(highlightOf(layer.op, joinsLanes) ? { highlight: highlightOf(layer.op, joinsLanes)! } : {}),
        groups,
        detail: `${layer.op} · ${compactShape(layer.shape)}`,
        cost: costText(layer.params, layer.macs),
      };
      nodes.push(node);
      for (const input of layer.inputs) {
        const source = local.get(input) ?? byId.get(input);
        const from = outputNode.get(input) ?? nodeId(input);
        // A body's frame input carries the per_frame layer's input (the clip, its frames folded).
        const shape = source?.op === "input" && prefix ? (bodyInputShape ?? source.shape) : (source?.shape ?? []);
        edges.push({ from, to: id, shape, label: compactShape(shape) });
      }
    }
  };
  visit(network.layers, "", false, undefined);

  // Groups: every name prefix (per lane) holding two or more layers, and every per_frame body.
  const counts = new Map<string, Layer[]>();
  for (const node of nodes) for (const key of node.groups) counts.set(key, [...(counts.get(key) ?? []), layerOf(network, node)]);
  const groupKeys = new Set([...counts].filter(([key, ls]) => ls.length >= 2 || members.get(key)?.perFrame).map(([key]) => key));
  const finalNodes = nodes.map((n) => ({ ...n, groups: n.groups.filter((g) => groupKeys.has(g)) }));
  const groups: GraphGroup[] = [];
  for (const key of groupKeys) {
    const chainOwner = finalNodes.find((n) => n.groups.includes(key))!;
    const index = chainOwner.groups.indexOf(key);
    const layers = counts.get(key)!;
    const [lanePart, name] = key.split("|", 2) as [string, string];
    const opCounts = new Map<string, number>();
    for (const l of layers) opCounts.set(l.op, (opCounts.get(l.op) ?? 0) + 1);
    const ops = [...opCounts]
      .sort((a, b) => b[1] - a[1])
      .map(([op, n]) => (n > 1 ? `${op} x${n}` : op))
      .join(", ");
    const hl = finalNodes.filter((n) => n.groups.includes(key)).map((n) => n.highlight);
    groups.push({
      key,
      name,
      ...(lanePart ? { lane: lanePart } : {}),
      ...(index > 0 ? { parent: chainOwner.groups[index - 1]! } : {}),
      depth: index + 1,
      ...(members.get(key)?.perFrame ? { perFrame: members.get(key)!.perFrame! } : {}),
      layers: layers.length,
      params: layers.reduce((s, l) => s + l.params, 0),
      macs: layers.reduce((s, l) => s + l.macs, 0),
      ops,
      ...(hl.includes("fusion") ? { highlight: "fusion" as const } : hl.includes("temporal") ? { highlight: "temporal" as const } : {}),
      detail: `${members.get(key)?.perFrame ?? "block"}: ${layers.length} layers (${ops.length > 48 ? `${ops.slice(0, ops.lastIndexOf(",", 46))}, ...` : ops})`,
      cost: "",
    });
  }
  groups.sort((a, b) => a.depth - b.depth || a.key.localeCompare(b.key));
  // A per_frame layer's MACs count every frame; its body's layers count one.
  const perFrameMacs = new Map(network.layers.filter((l) => l.op === "per_frame").map((l) => [l.name, l.macs]));
  const fixed = groups.map((g) => {
    const macs = g.perFrame && perFrameMacs.has(g.name) ? perFrameMacs.get(g.name)! : g.macs;
    return { ...g, macs, cost: costText(g.params, macs) };
  });
  const model = network.layers.filter((l) => !l.stream);
  const params = model.reduce((s, l) => s + l.params, 0);
  const macs = model.reduce((s, l) => s + l.macs, 0);
  return {
    network: network.name,
    ...(network.classes !== undefined ? { classes: network.classes } : {}),
    lanes,
    nodes: finalNodes,
    edges,
    groups: fixed,
    totals: { params, macs },
    cost: `${formatCount(params)} parameters · ${formatMacs(macs)} MACs per clip`,
  };
}

/** The checked layer a node was made from. */
function layerOf(network: CheckedNetwork, node: GraphNode): Layer {
  const id = Number(node.id.slice(1));
  const find = (layers: readonly Layer[]): Layer | undefined => {
    for (const l of layers) {
      if (l.id === id) return l;
      const inner = l.body ? find(l.body) : undefined;
      if (inner) return inner;
    }
    return undefined;
  };
  return find(network.layers)!;
}

/**
 * The groups to show as boxes so that at most `limit` boxes and nodes are drawn: every group of
 * depth up to the deepest level that fits (at least the outermost level's groups stay collapsed
 * when even they do not fit).
 */
export function expandedForLimit(model: GraphModel, limit = 64): string[] {
  const maxDepth = Math.max(0, ...model.groups.map((g) => g.depth));
  let chosen: string[] = [];
  for (let depth = 1; depth <= maxDepth; depth++) {
    const expanded = model.groups.filter((g) => g.depth <= depth).map((g) => g.key);
    if (visibleCount(model, expanded) > limit) break;
    chosen = expanded;
  }
  return chosen;
}

/** Expanded groups up to a depth (`--depth`): 0 collapses every group. */
export function expandedToDepth(model: GraphModel, depth: number): string[] {
  return model.groups.filter((g) => g.depth <= depth).map((g) => g.key);
}

/** Nodes and collapsed groups drawn when `expanded` groups are open. */
export function visibleCount(model: GraphModel, expanded: readonly string[]): number {
  const open = new Set(expanded);
  const shown = new Set<string>();
  for (const node of model.nodes) {
    const closed = node.groups.find((g) => !open.has(g));
    shown.add(closed ?? node.id);
  }
  return shown.size;
}
