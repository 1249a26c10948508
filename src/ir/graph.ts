/**
 * The IR: an immutable dataflow graph of operator nodes, built from a checked network and
 * rewritten by the passes in `pipeline.ts`. Every node keeps the source range it came from, so a
 * backend can report a problem at the line that caused it. Shapes follow `src/ops/values.ts`:
 * channels-last, without the batch axis.
 */
import type { Args } from "../ops/catalogue.js";
import type { Shape } from "../ops/values.js";
import type { InflationInfo, Origin } from "../semantics/network.js";
import type { SamplingProtocol, Section } from "../semantics/protocol.js";
import type { TaskName } from "../semantics/tasks/index.js";

/** What a weight is for; backends map roles to their own weight names. */
export type WeightRole = "kernel" | "bias" | "gamma" | "beta" | "moving_mean" | "moving_variance" | "recurrent_kernel";

export interface WeightDecl {
  /** Deterministic and hierarchical: `layer2.0.conv1.conv3d.kernel` (node name + role). */
  readonly name: string;
  readonly role: WeightRole;
  /** Channels-last layout: conv kernels are [kt, kh, kw, in / groups, filters]. */
  readonly shape: Shape;
  /** False for batch-norm statistics and for every weight of a frozen node. */
  readonly trainable: boolean;
}

/**
 * Memory layout of a node's output, channels-last as tfjs wants it (an ONNX backend transposes).
 * `(NT)` marks a tensor whose time axis is folded into the batch: the inside of a lowered
 * `per_frame` body, which sees each frame as one example.
 */
export type Layout = "NC" | "NTC" | "NHWC" | "NTHWC" | "(NT)C" | "(NT)TC" | "(NT)HWC" | "(NT)THWC";

export interface IrNode {
  /** Unique in the whole graph, nested bodies included. Nodes built from a layer keep its id. */
  readonly id: number;
  /** A catalogue operator, "input", or an IR-only operator (see `ops.ts`). */
  readonly op: string;
  /** Hierarchical and unique in the graph: `layer1.0.conv1.conv3d`. */
  readonly name: string;
  readonly args: Args;
  readonly inputs: readonly number[];
  /** Output shape without the batch axis. */
  readonly shape: Shape;
  /** Weights must not be trained (inside `per_frame(freeze = true)`). */
  readonly frozen: boolean;
  readonly origin: Origin;
  /** `per_frame` before lowering: the graph applied to every frame. */
  readonly body?: IrGraph;
  /** Set on nodes that inflation made from a 2D layer. */
  readonly inflated?: InflationInfo;
  /** Declared by the `declare-weights` pass. */
  readonly weights?: readonly WeightDecl[];
  /** Set by the `annotate-layout` pass. */
  readonly layout?: Layout;
}

/** One data-pipeline operator of a stream computed outside the graph. */
export interface PipelineStep {
  readonly op: string;
  readonly args: Args;
}

export interface IrInput {
  readonly name: string;
  readonly node: number;
  readonly shape: Shape;
  /**
   * Where a top-level input's values come from (absent on a per_frame body's frame input):
   * "raw", the clip [T, H, W, C] or image [H, W, C] as the data pipeline holds it, values in
   * [0, 1]; "stream", what the data pipeline computes from a raw input outside the graph (optical
   * flow), named after the spec's stream.
   */
  readonly kind?: "raw" | "stream";
  /** A detector's `boxes()` input: K rows [batch index, x1, y1, x2, y2], not one per clip. */
  readonly boxes?: true;
  /** For a stream: the raw input it is computed from and the operators applied to it, in order. */
  readonly from?: string;
  readonly pipeline?: readonly PipelineStep[];
}

/**
 * A tensor the network's own layers read as an input: a `stream` (or a raw input read directly),
 * by the spec's name, and the node computing it. This is what a model exported by another
 * framework takes (PyTorch's video models take the normalised clip).
 */
export interface ModelInput {
  readonly name: string;
  readonly node: number;
}

export interface IrGraph {
  readonly name: string;
  readonly file: string;
  /** What the network is for (src/semantics/tasks); a body has its network's task. */
  readonly task: TaskName;
  readonly nodes: readonly IrNode[];
  readonly inputs: readonly IrInput[];
  readonly outputs: readonly number[];
  readonly classes?: number;
  /** The spec's `class_names`. */
  readonly classNames?: readonly string[];
  readonly description?: string;
  /** How clips are sampled and tested (absent without a single clip or image input, and on bodies). */
  readonly protocol?: SamplingProtocol;
  /** The spec's `sampling` section as checked (defaults filled in), for exported metadata. */
  readonly sampling?: Section;
  /** The spec's model inputs, in declaration order (empty on bodies). */
  readonly modelInputs: readonly ModelInput[];
  /** Parameter counts the checker computed; every pass must preserve them. */
  readonly expected: { readonly trainable: number; readonly frozen: number };
  /** Names of the passes applied so far, in order. */
  readonly passes: readonly string[];
}

/** Deep-freezes a graph so that no pass or backend can modify what another one reads. */
export function freezeGraph(graph: IrGraph): IrGraph {
  return deepFreeze(graph);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** Nodes by id (top level only; bodies are graphs of their own). */
export function nodeIndex(graph: IrGraph): ReadonlyMap<number, IrNode> {
  return new Map(graph.nodes.map((n) => [n.id, n]));
}

/** The largest id used anywhere in the graph, bodies included; passes allocate ids above it. */
export function maxNodeId(graph: IrGraph): number {
  let max = -1;
  for (const node of graph.nodes) {
    max = Math.max(max, node.id);
    if (node.body) max = Math.max(max, maxNodeId(node.body));
  }
  return max;
}

/** Sum of the sizes of a graph's declared weights, split by trainability. */
export function weightTotals(graph: IrGraph): { trainable: number; frozen: number; state: number } {
  let trainable = 0;
  let frozen = 0;
  let state = 0;
  const visit = (g: IrGraph) => {
    for (const node of g.nodes) {
      for (const w of node.weights ?? []) {
        const size = w.shape.reduce((a, b) => a * b, 1);
        const statistic = w.role === "moving_mean" || w.role === "moving_variance";
        if (statistic) state += size;
        else if (w.trainable) trainable += size;
        else frozen += size;
      }
      if (node.body) visit(node.body);
    }
  };
  visit(graph);
  return { trainable, frozen, state };
}
