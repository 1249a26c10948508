/**
 * The checked network: every layer with its hierarchical name, resolved arguments, inferred
 * output shape, parameter count, MACs and source origin. This is what the IR is built from.
 */
import type { Range } from "../diagnostics/diagnostic.js";
import type { Args } from "../ops/catalogue.js";
import type { Shape } from "../ops/values.js";
import type { TaskName } from "./tasks/names.js";

export interface Origin {
  readonly file: string;
  readonly range: Range;
}

export interface Layer {
  readonly id: number;
  /** Operator name from the catalogue, or "input" for a graph input. */
  readonly op: string;
  /** Hierarchical, deterministic: `layer2.0.conv1`. */
  readonly name: string;
  readonly args: Args;
  readonly inputs: readonly number[];
  readonly shape: Shape;
  readonly params: number;
  readonly state: number;
  readonly macs: number;
  /** Weights that training must not update (see freeze.ts). */
  readonly frozen: boolean;
  /** Runs in the data pipeline (a `stream` declaration), not in the model. */
  readonly stream: boolean;
  readonly origin: Origin;
  /** For `per_frame`: the layers applied to each frame; their input layer has op "input". */
  readonly body?: readonly Layer[];
  /** Set on layers produced by inflation. */
  readonly inflated?: InflationInfo;
}

export interface InflationInfo {
  /** The 2D operator this layer came from. */
  readonly from: string;
  /** Temporal kernel given to it. */
  readonly temporalKernel: number;
  /** How 2D weights become 3D: repeat over time and divide by T, or put them at the centre. */
  readonly init: "repeat" | "center";
}

export interface NetworkInput {
  readonly name: string;
  readonly layer: number;
  readonly shape: Shape;
  /** Raw input clip/image or a derived stream. */
  readonly kind: "input" | "stream";
  /** True when model layers read it (it becomes a model input). */
  readonly modelInput: boolean;
}

export type SectionValue = number | boolean | string | readonly SectionValue[] | { readonly [key: string]: SectionValue };

export interface CheckedNetwork {
  readonly name: string;
  readonly file: string;
  readonly range: Range;
  readonly classes?: number;
  readonly classNames?: readonly string[];
  readonly description?: string;
  /** What the network is for (`task = "..."`; classification by default): src/semantics/tasks. */
  readonly task: TaskName;
  readonly layers: readonly Layer[];
  readonly inputs: readonly NetworkInput[];
  readonly outputs: readonly number[];
  /** `sampling`, `training` and other sections, validated and with defaults filled in. */
  readonly sections: { readonly [key: string]: { readonly [key: string]: SectionValue } };
  /** Name of the 2D network this one was inflated from. */
  readonly inflatedFrom?: string;
}

export interface Totals {
  readonly trainable: number;
  readonly frozen: number;
  readonly state: number;
  readonly macs: number;
}

/** Visits every layer, including those inside per_frame bodies (with name prefixes). */
export function* allLayers(
  layers: readonly Layer[],
  prefix = "",
  frozen = false,
  depth = 0,
): Generator<{ layer: Layer; name: string; frozen: boolean; depth: number }> {
  for (const layer of layers) {
    const name = prefix ? `${prefix}.${layer.name}` : layer.name;
    if (layer.op === "input" && depth > 0) continue;
    yield { layer, name, frozen: frozen || layer.frozen, depth };
    if (layer.body) yield* allLayers(layer.body, name, frozen || layer.frozen, depth + 1);
  }
}

/** A layer's parameters split into trainable and frozen (a per_frame's body may be partly frozen). */
export function frozenSplit(layer: Layer, frozen = false): { trainable: number; frozen: number } {
  const isFrozen = frozen || layer.frozen;
  if (!layer.body) return isFrozen ? { trainable: 0, frozen: layer.params } : { trainable: layer.params, frozen: 0 };
  let t = 0;
  let f = 0;
  for (const inner of layer.body) {
    const split = frozenSplit(inner, isFrozen);
    t += split.trainable;
    f += split.frozen;
  }
  return { trainable: t, frozen: f };
}

export function totals(network: CheckedNetwork): Totals {
  let trainable = 0;
  let frozen = 0;
  let state = 0;
  let macs = 0;
  // A per_frame layer already holds its body's parameters and (frames x) MACs.
  for (const { layer, depth } of allLayers(network.layers)) {
    if (depth > 0 || layer.stream) continue;
    const split = frozenSplit(layer);
    trainable += split.trainable;
    frozen += split.frozen;
    state += layer.state;
    macs += layer.macs;
  }
  return { trainable, frozen, state, macs };
}
