/**
 * The IR's operator table: every operator a graph may hold at some stage of the pipeline, with its
 * input count, its shape rule (the catalogue's wherever the catalogue has one) and the weights it
 * declares. The verifier re-derives every node's shape from this table after every pass.
 */
import { OPERATORS, isInferError, type Args } from "../ops/catalogue.js";
import { perAxis, resolveWindow, windowDims } from "../ops/geometry.js";
import type { Shape } from "../ops/values.js";
import type { WeightRole } from "./graph.js";

export interface WeightShape {
  readonly role: WeightRole;
  readonly shape: Shape;
}

export interface IrOpDef {
  /** Number of input tensors, or "many" (two or more). */
  readonly inputs: number | "many";
  /**
   * Output shape from the input shapes, or an error message. Absent for "input" (its shape is
   * given) and "per_frame" (its shape comes from its body); the verifier checks those itself.
   */
  readonly shape?: (inputs: readonly Shape[], args: Args) => Shape | string;
  /** Weights in channels-last layout; absent for weightless operators. */
  readonly weights?: (inputs: readonly Shape[], args: Args) => readonly WeightShape[];
  /**
   * When a pass must have removed the operator: "composite" ops are expanded by
   * `expand-composites`, "per_frame" is lowered by `lower-per-frame`.
   */
  readonly removedBy?: "expand-composites" | "lower-per-frame";
}

const last = (shape: Shape) => shape[shape.length - 1]!;

/** The catalogue's shape rule. */
function catalogueShape(op: string) {
  return (inputs: readonly Shape[], args: Args): Shape | string => {
    const r = OPERATORS.get(op)!.infer(inputs, args);
    return isInferError(r) ? r.error : r.shape;
  };
}

/**
 * Convs and pools: the same window arithmetic as the catalogue, without its checks on user input
 * (a pass may legitimately pad time to a length the stride does not divide).
 */
function windowShape(op: string, pool: boolean) {
  return (inputs: readonly Shape[], args: Args): Shape | string => {
    const input = inputs[0]!;
    const dims = windowDims(op);
    if (input.length !== dims + 1) return `expects rank ${dims + 1}, got ${input.length}`;
    const g = resolveWindow(input, args, dims, pool);
    if (g.out.some((o) => o < 1)) return `window does not fit [${input.join(", ")}]`;
    return [...g.out, pool ? last(input) : (args.filters as number)];
  };
}

function convWeights(op: string) {
  return (inputs: readonly Shape[], args: Args): WeightShape[] => {
    const dims = windowDims(op);
    const cin = last(inputs[0]!);
    const groups = (args.groups as number | undefined) ?? 1;
    const filters = args.filters as number;
    const kernel = perAxis(args.kernel, dims, 1);
    const weights: WeightShape[] = [{ role: "kernel", shape: [...kernel, cin / groups, filters] }];
    if (args.bias !== false) weights.push({ role: "bias", shape: [filters] });
    return weights;
  };
}

/** Keras layout: one matrix per input and per state, gates side by side, one bias per gate. */
function recurrentWeights(gates: number) {
  return (inputs: readonly Shape[], args: Args): WeightShape[] => {
    const f = last(inputs[0]!);
    const u = args.units as number;
    return [
      { role: "kernel", shape: [f, gates * u] },
      { role: "recurrent_kernel", shape: [u, gates * u] },
      { role: "bias", shape: [gates * u] },
    ];
  };
}

function convRecurrentWeights(gates: number) {
  return (inputs: readonly Shape[], args: Args): WeightShape[] => {
    const c = last(inputs[0]!);
    const f = args.filters as number;
    const [kh, kw] = perAxis(args.kernel, 2, 3) as [number, number];
    return [
      { role: "kernel", shape: [kh, kw, c, gates * f] },
      { role: "recurrent_kernel", shape: [kh, kw, f, gates * f] },
      { role: "bias", shape: [gates * f] },
    ];
  };
}

const passThrough: IrOpDef = { inputs: 1, shape: (inputs) => inputs[0]! };

const table: Record<string, IrOpDef> = {
  input: { inputs: 0 },

  conv1d: { inputs: 1, shape: windowShape("conv1d", false), weights: convWeights("conv1d") },
  conv2d: { inputs: 1, shape: windowShape("conv2d", false), weights: convWeights("conv2d") },
  conv3d: { inputs: 1, shape: windowShape("conv3d", false), weights: convWeights("conv3d") },
  maxpool2d: { inputs: 1, shape: windowShape("maxpool2d", true) },
  maxpool3d: { inputs: 1, shape: windowShape("maxpool3d", true) },
  avgpool2d: { inputs: 1, shape: windowShape("avgpool2d", true) },
  avgpool3d: { inputs: 1, shape: windowShape("avgpool3d", true) },
  global_avg_pool: { inputs: 1, shape: catalogueShape("global_avg_pool") },
  global_max_pool: { inputs: 1, shape: catalogueShape("global_max_pool") },
  temporal_pool: { inputs: 1, shape: catalogueShape("temporal_pool") },

  bn: {
    inputs: 1,
    shape: (inputs) => inputs[0]!,
    weights: (inputs) => {
      const c = [last(inputs[0]!)];
      return [
        { role: "gamma", shape: c },
        { role: "beta", shape: c },
        { role: "moving_mean", shape: c },
        { role: "moving_variance", shape: c },
      ];
    },
  },
  lrn: passThrough,
  relu: passThrough,
  sigmoid: passThrough,
  tanh: passThrough,
  softmax: passThrough,
  swish: passThrough,
  hard_sigmoid: passThrough,
  hard_swish: passThrough,
  gelu: passThrough,
  dropout: passThrough,
  normalize: { inputs: 1, shape: catalogueShape("normalize") },

  dense: {
    inputs: 1,
    shape: catalogueShape("dense"),
    weights: (inputs, args) => {
      const u = args.units as number;
      const weights: WeightShape[] = [{ role: "kernel", shape: [last(inputs[0]!), u] }];
      if (args.bias !== false) weights.push({ role: "bias", shape: [u] });
      return weights;
    },
  },
  flatten: { inputs: 1, shape: catalogueShape("flatten") },
  concat: { inputs: "many", shape: catalogueShape("concat") },
  add: { inputs: "many", shape: catalogueShape("add") },
  mul: { inputs: "many", shape: catalogueShape("mul") },
  slice: { inputs: 1, shape: catalogueShape("slice") },
  temporal_shift: { inputs: 1, shape: catalogueShape("temporal_shift") },
  score_fusion: { inputs: "many", shape: catalogueShape("score_fusion") },

  stack_frames: { inputs: 1, shape: catalogueShape("stack_frames") },
  boundary_matching: { inputs: 1, shape: catalogueShape("boundary_matching") },
  roi_align: { inputs: 2, shape: catalogueShape("roi_align") },
  subsample: { inputs: 1, shape: catalogueShape("subsample") },
  frame: { inputs: 1, shape: catalogueShape("frame") },

  lstm: { inputs: 1, shape: catalogueShape("lstm"), weights: recurrentWeights(4) },
  gru: { inputs: 1, shape: catalogueShape("gru"), weights: recurrentWeights(3) },
  conv_lstm: { inputs: 1, shape: catalogueShape("conv_lstm"), weights: convRecurrentWeights(4) },
  conv_gru: { inputs: 1, shape: catalogueShape("conv_gru"), weights: convRecurrentWeights(3) },

  // Composites: expanded into the operators above before any backend sees them.
  conv2plus1d: { inputs: 1, shape: catalogueShape("conv2plus1d"), removedBy: "expand-composites" },
  nonlocal: { inputs: 1, shape: catalogueShape("nonlocal"), removedBy: "expand-composites" },
  lateral: { inputs: 2, shape: catalogueShape("lateral"), removedBy: "expand-composites" },
  per_frame: { inputs: 1, removedBy: "lower-per-frame" },

  // IR-only operators, made by passes.
  /** Constant padding of the leading spatial axes: `before`, `after` per axis, `value` 0 or "-inf". */
  pad: {
    inputs: 1,
    shape: (inputs, args) => {
      const input = inputs[0]!;
      const before = args.before as readonly number[];
      const after = args.after as readonly number[];
      return input.map((d, i) => (i < before.length ? d + before[i]! + after[i]! : d));
    },
  },
  /** [N, T, ...] -> [N*T, ...]: the frames of a clip become examples of one batch. */
  fold_time: { inputs: 1, shape: (inputs) => inputs[0]!.slice(1) },
  /** [N*T, ...] -> [N, T, ...], with T = `frames`. */
  unfold_time: { inputs: 1, shape: (inputs, args) => [args.frames as number, ...inputs[0]!] },
  /**
   * Non-local attention core: [query, key, value] -> softmax(query . key) . value per position
   * (scaled or normalised by `mode`); output has the query's positions and the value's channels.
   */
  nl_attention: {
    inputs: 3,
    shape: (inputs) => {
      const [q, k, v] = inputs as [Shape, Shape, Shape];
      if (last(q) !== last(k)) return `query has ${last(q)} channels but key has ${last(k)}`;
      if (k.slice(0, -1).join() !== v.slice(0, -1).join()) return "key and value positions differ";
      return [...q.slice(0, -1), last(v)];
    },
  },
};

/** The IR operator table. */
export const IR_OPS: ReadonlyMap<string, IrOpDef> = new Map(Object.entries(table));
