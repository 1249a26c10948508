/**
 * The ONNX backend's emitter table: each IR operator becomes ONNX nodes (opset 17) computing what
 * the tfjs backend's layer for it computes, so that exported models equal the tfjs models they come
 * from. Convs, pools, batch norm and LRN run channels-first; `layout.ts` inserts the transposes.
 * - conv2d/conv3d -> Conv with explicit, possibly asymmetric pads (TensorFlow's "same" split);
 *   `pad` -> Pad (0, or -inf before a max pool); pools -> MaxPool / AveragePool with padding left
 *   out of the average (count_include_pad = 0, as vnet's average pools and TensorFlow's "same");
 * - bn -> BatchNormalization in inference form (moving statistics, the node's epsilon);
 * - lrn -> LRN for odd sizes (its alpha is averaged over the window, as vnet's); even sizes need
 *   PyTorch's window placement, which ONNX mirrors, so they sum squares with a banded MatMul;
 * - dense -> Gemm (rank 2) or MatMul + Add on the last axis; flatten in Keras (channels-last) order;
 * - lstm/gru -> LSTM/GRU with Keras's gates reordered (see `weights.ts`), sigmoid gates, GRU's
 *   reset gate applied before the recurrent product (linear_before_reset = 0, as tfjs's GRU);
 * - conv_lstm/conv_gru -> unrolled over the clip's fixed number of frames: one Conv for every
 *   frame's input terms, then per step a Conv of the state and the gate arithmetic, state zero at 0;
 * - nl_attention -> MatMul / Softmax over flattened positions (scaled by 1/sqrt(C), or divided by
 *   the number of keys for "dot"); stack_frames, fold_time, unfold_time -> Transpose + Reshape;
 *   subsample/frame -> Gather; score_fusion -> Softmax, Mul, Sum; dropout -> nothing (inference).
 * An operator without an entry is a located diagnostic (VN080), reported before anything is built.
 */
import type { Code } from "../../diagnostics/codes.js";
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import type { IrGraph, IrNode, WeightDecl, WeightRole } from "../../ir/graph.js";
import { isInferError, sliceBounds, temporalShiftPlan, type Args } from "../../ops/catalogue.js";
import { boundaryMatchingMask } from "../../ops/boundary-matching.js";
import { lrnBand, perAxis, resolvePadding, resolveWindow, windowDims } from "../../ops/geometry.js";
import { roiAlignGeometry } from "../../ops/roi-align.js";
import { frameIndex, subsampleIndices } from "../../ops/temporal.js";
import { attr, type Attribute, type GraphBuilder } from "./builder.js";
import { Arranger, channelAxis, channelsFirst, channelsLast, position, sizesIn, withoutAxes, type Value } from "./layout.js";
import type { WeightSource } from "../../ir/weights.js";
import { convKernel, recurrentBias, recurrentMatrix, type HostArray } from "./weights.js";

/** Diagnostic code for an operator or argument the ONNX exporter cannot lower. */
export const ONNX_UNSUPPORTED: Code = "VN080";

/** What an emitter sees: the node, its inputs' values, and ways to add nodes and weights. */
export interface EmitContext {
  readonly graph: GraphBuilder;
  readonly node: IrNode;
  readonly inputs: readonly Value[];
  /** `value`'s tensor with its IR axes in `order`. */
  arrange(value: Value, order: readonly number[]): string;
  /** The initializer of one of the node's weights (named as the IR names it), converted to ONNX's layout. */
  weight(role: WeightRole, convert?: WeightConversion): string;
  /** A tensor name under the node's: the node's own name, or `name/part`. */
  name(part?: string): string;
}

export type Emitter = (ctx: EmitContext) => Value;

/** How a weight's values become ONNX's layout (a transpose, a gate reordering); absent when they stay as they are. */
export type WeightConversion = (data: Float32Array, dims: readonly number[]) => HostArray;

/** The emitter's state for one graph: the ONNX graph, its transposes, and the weights. */
export interface EmitState {
  readonly graph: GraphBuilder;
  readonly arranger: Arranger;
  readonly weights: WeightSource;
  /**
   * The tensor holding a weight when it is not an initializer with the source's values, or
   * undefined for an initializer: a training step binds the weights it updates to graph inputs.
   */
  readonly bindWeight?: (decl: WeightDecl, convert: WeightConversion | undefined) => string | undefined;
}

/** Emits one node with the given emitter; returns the value holding the node's output. */
export function emitNode(state: EmitState, node: IrNode, inputs: readonly Value[], emitter: Emitter): Value {
  const ctx: EmitContext = {
    graph: state.graph,
    node,
    inputs,
    arrange: (value, order) => state.arranger.arrange(value, order),
    weight: (role, convert) => {
      const decl = node.weights?.find((w) => w.role === role);
      if (!decl) throw new Error(`internal: ${node.name} declares no ${role}`);
      const bound = state.bindWeight?.(decl, convert);
      if (bound) return bound;
      const data = state.weights.read(decl);
      const converted = convert ? convert(data, decl.shape) : { data, dims: decl.shape };
      return state.graph.floatInitializer(decl.name, converted.dims, converted.data);
    },
    name: (part) => (part ? `${node.name}/${part}` : node.name),
  };
  return emitter(ctx);
}

const result = (ctx: EmitContext, name: string, order: readonly number[]): Value => ({ name, order, shape: ctx.node.shape });
const rankOf = (value: Value) => value.order.length;
const product = (values: readonly number[]) => values.reduce((a, b) => a * b, 1);

function reshape(ctx: EmitContext, input: string, shape: readonly number[], part?: string): string {
  return ctx.graph.op("Reshape", [input, ctx.graph.intConstant(`${ctx.name(part)}/shape`, [shape.length], shape)], ctx.name(part));
}

function squeeze(ctx: EmitContext, input: string, axes: readonly number[], part?: string): string {
  return ctx.graph.op("Squeeze", [input, ctx.graph.intConstant(`${ctx.name(part)}/axes`, [axes.length], axes)], ctx.name(part));
}

function split(ctx: EmitContext, input: string, axis: number, sizes: readonly number[], part: string): string[] {
  const outputs = sizes.map((_, i) => `${ctx.name(part)}_${i}`);
  return ctx.graph.node("Split", [input, ctx.graph.intConstant(`${ctx.name(part)}/split`, [sizes.length], sizes)], outputs, { axis: attr.int(axis) });
}

function scalar(ctx: EmitContext, value: number, part: string): string {
  return ctx.graph.floatConstant(ctx.name(part), [], [value]);
}

/** Per-channel constants shaped to broadcast against `value` (one value given is repeated). */
function channelConstant(ctx: EmitContext, value: Value, values: readonly number[], part: string): string {
  const channels = value.shape.at(-1)!;
  const dims = value.order.map((a) => (a === channelAxis(value) ? channels : 1));
  return ctx.graph.floatConstant(ctx.name(part), dims, values.length === 1 ? new Array<number>(channels).fill(values[0]!) : values);
}

const numbers = (value: Args[string]): number[] => (Array.isArray(value) ? (value as number[]) : [value as number]);

function convEmitter(op: "conv1d" | "conv2d" | "conv3d"): Emitter {
  const dims = windowDims(op);
  return (ctx) => {
    const x = ctx.inputs[0]!;
    const a = ctx.node.args;
    const g = resolveWindow(x.shape, a, dims, false);
    const order = channelsFirst(dims + 2);
    const inputs = [ctx.arrange(x, order), ctx.weight("kernel", convKernel)];
    if (a.bias !== false) inputs.push(ctx.weight("bias"));
    const attributes = {
      kernel_shape: attr.ints(g.kernel),
      strides: attr.ints(g.stride),
      dilations: attr.ints(g.dilation),
      group: attr.int((a.groups as number | undefined) ?? 1),
      pads: attr.ints([...g.before, ...g.after]),
    };
    return result(ctx, ctx.graph.op("Conv", inputs, ctx.name(), attributes), order);
  };
}

function poolEmitter(op: string): Emitter {
  const dims = windowDims(op);
  const max = op.startsWith("max");
  return (ctx) => {
    const x = ctx.inputs[0]!;
    const g = resolveWindow(x.shape, ctx.node.args, dims, true);
    const order = channelsFirst(dims + 2);
    const attributes: Record<string, Attribute> = {
      kernel_shape: attr.ints(g.kernel),
      strides: attr.ints(g.stride),
      pads: attr.ints([...g.before, ...g.after]),
    };
    if (!max) attributes.count_include_pad = attr.int(0);
    return result(ctx, ctx.graph.op(max ? "MaxPool" : "AveragePool", [ctx.arrange(x, order)], ctx.name(), attributes), order);
  };
}

/** ReduceMean / ReduceMax over IR axes; the axes disappear. */
function reduce(ctx: EmitContext, op: "ReduceMean" | "ReduceMax", axes: readonly number[]): Value {
  const x = ctx.inputs[0]!;
  const name = ctx.graph.op(op, [x.name], ctx.name(), { axes: attr.ints(axes.map((a) => position(x, a))), keepdims: attr.int(0) });
  return result(ctx, name, withoutAxes(x.order, axes));
}

/** Every axis but batch and channels. */
const positionAxes = (x: Value) => Array.from({ length: x.shape.length - 1 }, (_, i) => i + 1);

function unary(op: string): Emitter {
  return (ctx) => {
    const x = ctx.inputs[0]!;
    return result(ctx, ctx.graph.op(op, [x.name], ctx.name()), x.order);
  };
}

/** swish x * sigmoid(x); hard_sigmoid as ONNX's HardSigmoid(alpha = 1/6, beta = 1/2) = relu6(x + 3) / 6; hard_swish x * that. */
function gated(gate: "Sigmoid" | "HardSigmoid", multiply: boolean): Emitter {
  return (ctx) => {
    const x = ctx.inputs[0]!;
    const attributes: Record<string, Attribute> = gate === "HardSigmoid" ? { alpha: attr.float(1 / 6), beta: attr.float(0.5) } : {};
    const g = ctx.graph.op(gate, [x.name], ctx.name(multiply ? "gate" : undefined), attributes);
    return result(ctx, multiply ? ctx.graph.op("Mul", [x.name, g], ctx.name()) : g, x.order);
  };
}

/** GELU at opset 17 (ONNX's Gelu is opset 20): 0.5 x (1 + erf(x / sqrt 2)), or PyTorch's tanh form. */
const gelu: Emitter = (ctx) => {
  const x = ctx.inputs[0]!.name;
  const op = (type: string, inputs: string[], part?: string) => ctx.graph.op(type, inputs, ctx.name(part));
  let inner: string;
  if (ctx.node.args.approximate === "tanh") {
    const cube = op("Mul", [op("Mul", [x, x], "square"), x], "cube");
    const sum = op("Add", [x, op("Mul", [cube, scalar(ctx, 0.044715, "coefficient")], "scaled_cube")], "sum");
    inner = op("Tanh", [op("Mul", [sum, scalar(ctx, Math.sqrt(2 / Math.PI), "sqrt_2_over_pi")], "tanh_input")], "tanh");
  } else inner = op("Erf", [op("Div", [x, scalar(ctx, Math.SQRT2, "sqrt2")], "erf_input")], "erf");
  const half = op("Mul", [x, scalar(ctx, 0.5, "half")], "half_x");
  return result(ctx, op("Mul", [half, op("Add", [inner, scalar(ctx, 1, "one")], "one_plus")]), ctx.inputs[0]!.order);
};

/**
 * The broadcasting product: every input in the order of the first input of highest rank; a
 * lower-rank input (a gate [N, C]) gains size-1 axes after the batch, as the catalogue aligns
 * shapes on channels, then takes that order too.
 */
const mul: Emitter = (ctx) => {
  const target = ctx.inputs.reduce((best, v) => (rankOf(v) > rankOf(best) ? v : best));
  const rank = rankOf(target);
  const aligned = ctx.inputs.map((v, i) => {
    if (rankOf(v) === rank) return ctx.arrange(v, target.order);
    const missing = rank - rankOf(v);
    const expanded = ctx.graph.op(
      "Unsqueeze",
      [
        ctx.arrange(v, channelsLast(rankOf(v))),
        ctx.graph.intConstant(
          ctx.name(`input${i}/axes`),
          [missing],
          Array.from({ length: missing }, (_, k) => k + 1),
        ),
      ],
      ctx.name(`input${i}`),
    );
    const value: Value = { name: expanded, order: channelsLast(rank), shape: [...Array<number>(missing).fill(1), ...v.shape] };
    return ctx.arrange(value, target.order);
  });
  let product = aligned[0]!;
  for (let i = 1; i < aligned.length; i++)
    product = ctx.graph.op("Mul", [product, aligned[i]!], ctx.name(i === aligned.length - 1 ? undefined : `product${i}`));
  return result(ctx, product, target.order);
};

/** ONNX Slice of `input` on the given (ONNX) axes. */
function sliceAxes(ctx: EmitContext, input: string, axes: readonly number[], starts: readonly number[], ends: readonly number[], part?: string): string {
  const n = axes.length;
  const constant = (what: string, values: readonly number[]) => ctx.graph.intConstant(`${ctx.name(part)}/${what}`, [n], values);
  return ctx.graph.op("Slice", [input, constant("starts", starts), constant("ends", ends), constant("axes", axes)], ctx.name(part));
}

const slice: Emitter = (ctx) => {
  const x = ctx.inputs[0]!;
  const bounds = sliceBounds(x.shape, ctx.node.args);
  if (isInferError(bounds)) throw new Error(`internal: ${ctx.node.name}: ${bounds.error}`);
  return result(ctx, sliceAxes(ctx, x.name, [position(x, bounds.axis + 1)], [bounds.start], [bounds.end]), x.order);
};

/**
 * TSM's shift with Slice, Pad and Concat: the frames to shift among are put on axis 1 of a
 * [groups, segments, ...] view (the batch split inside per_frame; batch and time merged first
 * for a clip), the first `moved` channels slide one frame earlier and the next `moved` one frame
 * later, padded with zeros, and the view is reshaped back.
 */
const temporalShift: Emitter = (ctx) => {
  const x = ctx.inputs[0]!;
  const plan = temporalShiftPlan(x.shape, ctx.node.args);
  if (isInferError(plan)) throw new Error(`internal: ${ctx.node.name}: ${plan.error}`);
  const { segments, moved } = plan;
  // A clip's time axis (IR axis 1) must follow the batch so that the two can be regrouped.
  const order = plan.timeInBatch ? x.order : [0, 1, ...x.order.filter((a) => a > 1)];
  const input = ctx.arrange(x, order);
  const sizes = sizesIn(x.shape, order);
  const rest = plan.timeInBatch ? sizes : sizes.slice(1);
  const view = reshape(ctx, input, [-1, segments, ...rest], "segments");
  const rank = rest.length + 2;
  const channel = order.indexOf(channelAxis(x)) + (plan.timeInBatch ? 1 : 0);
  const channels = x.shape.at(-1)!;
  const padTime = (source: string, before: number, after: number, part: string) => {
    const pads = Array<number>(2 * rank).fill(0);
    pads[1] = before;
    pads[rank + 1] = after;
    return ctx.graph.op("Pad", [source, ctx.graph.intConstant(ctx.name(`${part}/pads`), [pads.length], pads)], ctx.name(part), {
      mode: attr.string("constant"),
    });
  };
  const earlier = padTime(sliceAxes(ctx, view, [1, channel], [1, 0], [segments, moved], "next_frames"), 0, 1, "earlier");
  const later = padTime(sliceAxes(ctx, view, [1, channel], [0, moved], [segments - 1, 2 * moved], "previous_frames"), 1, 0, "later");
  const parts = [earlier, later];
  if (2 * moved < channels) parts.push(sliceAxes(ctx, view, [channel], [2 * moved], [channels], "unshifted"));
  const joined = ctx.graph.op("Concat", parts, ctx.name("joined"), { axis: attr.int(channel) });
  return result(ctx, reshape(ctx, joined, [-1, ...sizes]), order);
};

/** LRN with PyTorch's window [c - floor(size / 2), c + floor((size - 1) / 2)] and alpha / size. */
const lrn: Emitter = (ctx) => {
  const x = ctx.inputs[0]!;
  const a = ctx.node.args;
  const size = a.size as number;
  const [alpha, beta, k] = [a.alpha as number, a.beta as number, a.k as number];
  const channels = x.shape.at(-1)!;
  if (size % 2 === 1) {
    // Odd windows are centred, where ONNX's placement equals PyTorch's. ONNX Runtime's LRN takes 4D tensors.
    const order = channelsFirst(rankOf(x));
    const fourD = rankOf(x) === 4;
    const input = fourD ? ctx.arrange(x, order) : reshape(ctx, ctx.arrange(x, order), [0, channels, -1, 1], "as_4d");
    const y = ctx.graph.op("LRN", [input], ctx.name(fourD ? undefined : "lrn"), {
      size: attr.int(size),
      alpha: attr.float(alpha),
      beta: attr.float(beta),
      bias: attr.float(k),
    });
    return result(ctx, fourD ? y : reshape(ctx, y, [0, ...sizesIn(x.shape, order)]), order);
  }
  const order = channelsLast(rankOf(x));
  const input = ctx.arrange(x, order);
  const band = lrnBand(channels, size);
  const squares = ctx.graph.op("Mul", [input, input], ctx.name("square"));
  const sums = ctx.graph.op("MatMul", [squares, ctx.graph.floatConstant(ctx.name("window"), [channels, channels], band)], ctx.name("window_sum"));
  const scaled = ctx.graph.op("Mul", [sums, scalar(ctx, alpha / size, "alpha")], ctx.name("scaled"));
  const shifted = ctx.graph.op("Add", [scaled, scalar(ctx, k, "k")], ctx.name("shifted"));
  const denominator = ctx.graph.op("Pow", [shifted, scalar(ctx, beta, "beta")], ctx.name("denominator"));
  return result(ctx, ctx.graph.op("Div", [input, denominator], ctx.name()), order);
};

/** (x / scale - mean) / std per channel; a stream's (x * 255 / scale - mean) / std, as the tfjs layer. */
const normalize: Emitter = (ctx) => {
  const x = ctx.inputs[0]!;
  const a = ctx.node.args;
  const scale = (a.scale as number | undefined) ?? 255;
  const scaled =
    a.stream === true
      ? ctx.graph.op("Mul", [x.name, scalar(ctx, 255 / scale, "factor")], ctx.name("scaled"))
      : ctx.graph.op("Div", [x.name, scalar(ctx, scale, "scale")], ctx.name("scaled"));
  const centred = ctx.graph.op("Sub", [scaled, channelConstant(ctx, x, numbers(a.mean), "mean")], ctx.name("centred"));
  return result(ctx, ctx.graph.op("Div", [centred, channelConstant(ctx, x, numbers(a.std), "std")], ctx.name()), x.order);
};

const dense: Emitter = (ctx) => {
  const x = ctx.inputs[0]!;
  const bias = ctx.node.args.bias !== false;
  const order = channelsLast(rankOf(x));
  const input = ctx.arrange(x, order);
  if (rankOf(x) === 2) {
    const inputs = [input, ctx.weight("kernel")];
    if (bias) inputs.push(ctx.weight("bias"));
    return result(ctx, ctx.graph.op("Gemm", inputs, ctx.name()), order);
  }
  const product = ctx.graph.op("MatMul", [input, ctx.weight("kernel")], ctx.name(bias ? "matmul" : undefined));
  return result(ctx, bias ? ctx.graph.op("Add", [product, ctx.weight("bias")], ctx.name()) : product, order);
};

/** Inputs of a many-input node in the first input's order. */
const aligned = (ctx: EmitContext) => ctx.inputs.map((v) => ctx.arrange(v, ctx.inputs[0]!.order));

/**
 * BMN's boundary-matching layer: the sequence channels-first [N, C, T] times the fixed sampling
 * mask [T, S x D x T] (src/ops/boundary-matching.ts), reshaped to [N, C, S, D, T].
 */
const boundaryMatching: Emitter = (ctx) => {
  const x = ctx.inputs[0]!;
  const [t, c] = x.shape as [number, number];
  const a = ctx.node.args;
  const [samples, durations] = ctx.node.shape as [number, number, number, number];
  const mask = boundaryMatchingMask({ positions: t, durations, samples, perBin: a.num_samples_per_bin as number, boundaryRatio: a.boundary_ratio as number });
  const order = channelsFirst(3);
  const product = ctx.graph.op(
    "MatMul",
    [ctx.arrange(x, order), ctx.graph.floatInitializer(ctx.name("mask"), [t, samples * durations * t], mask)],
    ctx.name("matmul"),
  );
  return result(ctx, reshape(ctx, product, [0, c, samples, durations, t]), channelsFirst(5));
};

/**
 * RoIAlign: ONNX `RoiAlign` (opset 16, the version opset 17 keeps) on the map channels-first
 * [N, C, H, W], with the boxes [K, 5] split into their batch indices (int64) and x1, y1, x2, y2.
 * "half_pixel" is torchvision's `aligned = true`; "output_half_pixel" is the original RoIAlign.
 */
const roiAlign: Emitter = (ctx) => {
  const [features, boxes] = ctx.inputs as [Value, Value];
  const { resolution, spatialScale, samplingRatio, aligned } = roiAlignGeometry(ctx.node.args);
  const rows = ctx.arrange(boxes, channelsLast(2));
  const coordinates = sliceAxes(ctx, rows, [1], [1], [5], "rois");
  const index = ctx.graph.op("Cast", [squeeze(ctx, sliceAxes(ctx, rows, [1], [0], [1], "batch_column"), [1], "batch_index")], ctx.name("batch_indices"), {
    to: attr.int(7),
  });
  const pooled = ctx.graph.op("RoiAlign", [ctx.arrange(features, channelsFirst(4)), coordinates, index], ctx.name(), {
    mode: attr.string("avg"),
    output_height: attr.int(resolution[0]),
    output_width: attr.int(resolution[1]),
    sampling_ratio: attr.int(samplingRatio),
    spatial_scale: attr.float(spatialScale),
    coordinate_transformation_mode: attr.string(aligned ? "half_pixel" : "output_half_pixel"),
  });
  return result(ctx, pooled, channelsFirst(4));
};

const EMITTERS: Readonly<Record<string, Emitter>> = {
  conv1d: convEmitter("conv1d"),
  conv2d: convEmitter("conv2d"),
  conv3d: convEmitter("conv3d"),
  pad: (ctx) => {
    const x = ctx.inputs[0]!;
    const before = ctx.node.args.before as number[];
    const after = ctx.node.args.after as number[];
    const onAxis = (list: readonly number[]) => x.order.map((a) => (a >= 1 && a <= list.length ? list[a - 1]! : 0));
    const pads = [...onAxis(before), ...onAxis(after)];
    const value = ctx.node.args.value === "-inf" ? -Infinity : (ctx.node.args.value as number);
    const inputs = [x.name, ctx.graph.intConstant(ctx.name("pads"), [pads.length], pads), scalar(ctx, value, "value")];
    return result(ctx, ctx.graph.op("Pad", inputs, ctx.name(), { mode: attr.string("constant") }), x.order);
  },
  maxpool2d: poolEmitter("maxpool2d"),
  maxpool3d: poolEmitter("maxpool3d"),
  avgpool2d: poolEmitter("avgpool2d"),
  avgpool3d: poolEmitter("avgpool3d"),
  global_avg_pool: (ctx) => reduce(ctx, "ReduceMean", positionAxes(ctx.inputs[0]!)),
  global_max_pool: (ctx) => reduce(ctx, "ReduceMax", positionAxes(ctx.inputs[0]!)),
  temporal_pool: (ctx) => reduce(ctx, ctx.node.args.mode === "max" ? "ReduceMax" : "ReduceMean", [1]),
  bn: (ctx) => {
    const x = ctx.inputs[0]!;
    const order = channelsFirst(rankOf(x));
    const inputs = [ctx.arrange(x, order), ...(["gamma", "beta", "moving_mean", "moving_variance"] as const).map((role) => ctx.weight(role))];
    return result(ctx, ctx.graph.op("BatchNormalization", inputs, ctx.name(), { epsilon: attr.float(ctx.node.args.eps as number) }), order);
  },
  lrn,
  relu: unary("Relu"),
  sigmoid: unary("Sigmoid"),
  tanh: unary("Tanh"),
  swish: gated("Sigmoid", true),
  hard_sigmoid: gated("HardSigmoid", false),
  hard_swish: gated("HardSigmoid", true),
  gelu,
  softmax: (ctx) => {
    const x = ctx.inputs[0]!;
    return result(ctx, ctx.graph.op("Softmax", [x.name], ctx.name(), { axis: attr.int(position(x, channelAxis(x))) }), x.order);
  },
  dropout: (ctx) => ctx.inputs[0]!,
  normalize,
  dense,
  flatten: (ctx) => {
    const x = ctx.inputs[0]!;
    return result(ctx, ctx.graph.op("Flatten", [ctx.arrange(x, channelsLast(rankOf(x)))], ctx.name(), { axis: attr.int(1) }), [0, 1]);
  },
  concat: (ctx) => {
    const first = ctx.inputs[0]!;
    const axis = ctx.node.args.axis === "time" ? 1 : channelAxis(first);
    return result(ctx, ctx.graph.op("Concat", aligned(ctx), ctx.name(), { axis: attr.int(position(first, axis)) }), first.order);
  },
  add: (ctx) => {
    const inputs = aligned(ctx);
    let sum = inputs[0]!;
    for (let i = 1; i < inputs.length; i++) sum = ctx.graph.op("Add", [sum, inputs[i]!], ctx.name(i === inputs.length - 1 ? undefined : `sum${i}`));
    return result(ctx, sum, ctx.inputs[0]!.order);
  },
  mul,
  slice,
  temporal_shift: temporalShift,
  score_fusion: (ctx) => {
    const raw = (ctx.node.args.weights as number[] | undefined) ?? ctx.inputs.map(() => 1);
    const total = raw.reduce((a, b) => a + b, 0);
    const softmax = ctx.node.args.average !== "logits";
    const parts = ctx.inputs.map((v, i) => {
      const scores = softmax ? ctx.graph.op("Softmax", [v.name], ctx.name(`softmax${i}`), { axis: attr.int(1) }) : v.name;
      return ctx.graph.op("Mul", [scores, scalar(ctx, raw[i]! / total, `weight${i}`)], ctx.name(`weighted${i}`));
    });
    return result(ctx, ctx.graph.op("Sum", parts, ctx.name()), [0, 1]);
  },
  boundary_matching: boundaryMatching,
  roi_align: roiAlign,
  stack_frames: (ctx) => {
    const x = ctx.inputs[0]!;
    const [t, h, w, c] = x.shape as [number, number, number, number];
    // [N, T, C, H, W] -> [N, T*C, H, W]: channel t*C + c, frame-major, as the tfjs layer orders them.
    return result(ctx, reshape(ctx, ctx.arrange(x, [0, 1, 4, 2, 3]), [0, t * c, h, w]), [0, 3, 1, 2]);
  },
  subsample: (ctx) => {
    const x = ctx.inputs[0]!;
    const indices = subsampleIndices(x.shape[0]!, ctx.node.args);
    const name = ctx.graph.op("Gather", [x.name, ctx.graph.intConstant(ctx.name("indices"), [indices.length], indices)], ctx.name(), {
      axis: attr.int(position(x, 1)),
    });
    return result(ctx, name, x.order);
  },
  frame: (ctx) => {
    const x = ctx.inputs[0]!;
    const index = ctx.graph.intConstant(ctx.name("index"), [], [frameIndex(x.shape[0]!, ctx.node.args)]);
    return result(ctx, ctx.graph.op("Gather", [x.name, index], ctx.name(), { axis: attr.int(position(x, 1)) }), withoutAxes(x.order, [1]));
  },
  lstm: recurrentEmitter("lstm"),
  gru: recurrentEmitter("gru"),
  conv_lstm: convRecurrentEmitter("lstm"),
  conv_gru: convRecurrentEmitter("gru"),
  nl_attention: (ctx) => {
    const [query, key, value] = ctx.inputs as [Value, Value, Value];
    const order = channelsFirst(rankOf(query));
    const flat = (v: Value, part: string) => reshape(ctx, ctx.arrange(v, order), [0, v.shape.at(-1)!, -1], part);
    const [q, k, v] = [flat(query, "query"), flat(key, "key"), flat(value, "value")];
    const queryRows = ctx.graph.op("Transpose", [q], ctx.name("query_rows"), { perm: attr.ints([0, 2, 1]) });
    let affinity = ctx.graph.op("MatMul", [queryRows, k], ctx.name("affinity"));
    const mode = (ctx.node.args.mode as string | undefined) ?? "embedded_gaussian";
    if (mode === "dot") affinity = ctx.graph.op("Div", [affinity, scalar(ctx, product(key.shape.slice(0, -1)), "keys")], ctx.name("normalised"));
    else {
      if (mode === "embedded_gaussian")
        affinity = ctx.graph.op("Mul", [affinity, scalar(ctx, 1 / Math.sqrt(query.shape.at(-1)!), "scale")], ctx.name("scaled"));
      affinity = ctx.graph.op("Softmax", [affinity], ctx.name("weights"), { axis: attr.int(2) });
    }
    const weightsByKey = ctx.graph.op("Transpose", [affinity], ctx.name("weights_by_key"), { perm: attr.ints([0, 2, 1]) });
    const attended = ctx.graph.op("MatMul", [v, weightsByKey], ctx.name("attended"));
    return result(ctx, reshape(ctx, attended, [0, ...sizesIn(ctx.node.shape, order)]), order);
  },
  fold_time: (ctx) => {
    const x = ctx.inputs[0]!;
    // Keep the input's order when time already follows batch; otherwise fold into channels-first.
    const order =
      x.order[1] === 1
        ? x.order
        : [
            0,
            1,
            ...channelsFirst(rankOf(x) - 1)
              .slice(1)
              .map((a) => a + 1),
          ];
    const folded = reshape(ctx, ctx.arrange(x, order), [-1, ...sizesIn(x.shape, order).slice(1)]);
    return result(ctx, folded, [0, ...order.slice(2).map((a) => a - 1)]);
  },
  unfold_time: (ctx) => {
    const x = ctx.inputs[0]!;
    const frames = ctx.node.args.frames as number;
    return result(ctx, reshape(ctx, x.name, [-1, frames, ...sizesIn(x.shape, x.order)]), [0, 1, ...x.order.slice(1).map((a) => a + 1)]);
  },
};

function recurrentEmitter(cell: "lstm" | "gru"): Emitter {
  return (ctx) => {
    const x = ctx.inputs[0]!;
    const all = ctx.node.args.sequences === "all";
    const timeMajor = ctx.graph.op("Transpose", [ctx.arrange(x, [0, 1, 2])], ctx.name("time_major"), { perm: attr.ints([1, 0, 2]) });
    const matrix = (data: Float32Array, dims: readonly number[]) => recurrentMatrix(cell, data, dims);
    const inputs = [timeMajor, ctx.weight("kernel", matrix), ctx.weight("recurrent_kernel", matrix), ctx.weight("bias", (data) => recurrentBias(cell, data))];
    const outputs = all ? [ctx.name("sequence")] : ["", ctx.name("last")];
    const [sequence, last] = ctx.graph.node(cell.toUpperCase(), inputs, outputs, { hidden_size: attr.int(ctx.node.args.units as number) });
    if (!all) return result(ctx, squeeze(ctx, last!, [0]), [0, 1]);
    // Y is [T, directions, N, U].
    const steps = squeeze(ctx, sequence!, [1], "steps");
    return result(ctx, ctx.graph.op("Transpose", [steps], ctx.name(), { perm: attr.ints([1, 0, 2]) }), [0, 1, 2]);
  };
}

/**
 * ConvLSTM / ConvGRU unrolled over the frames, as vnet's tfjs layers compute them: the input
 * terms of every step (with the bias) from one Conv over all frames, "same" padding, zero state.
 */
function convRecurrentEmitter(cell: "lstm" | "gru"): Emitter {
  const gates = cell === "lstm" ? 4 : 3;
  return (ctx) => {
    const x = ctx.inputs[0]!;
    const [frames, height, width, channels] = x.shape as [number, number, number, number];
    const filters = ctx.node.args.filters as number;
    const kernel = perAxis(ctx.node.args.kernel, 2, 3);
    const same = resolvePadding("same", [height, width], kernel, [1, 1], [1, 1]);
    const convAttributes = { kernel_shape: attr.ints(kernel), pads: attr.ints([...same.before, ...same.after]) };
    const conv = (input: string, weight: string, part: string, bias?: string) =>
      ctx.graph.op("Conv", bias ? [input, weight, bias] : [input, weight], ctx.name(part), convAttributes);
    const gateSizes = new Array<number>(gates).fill(filters);

    const steps = reshape(ctx, ctx.arrange(x, [0, 1, 4, 2, 3]), [-1, channels, height, width], "frames");
    const inputTerms = reshape(
      ctx,
      conv(steps, ctx.weight("kernel", convKernel), "input_conv", ctx.weight("bias")),
      [-1, frames, gates * filters, height, width],
      "input_terms",
    );
    const recurrent = ctx.weight("recurrent_kernel", convKernel);
    // The GRU's candidate multiplies the state by the reset gate first, so its kernel part is separate.
    const [gateKernel, candidateKernel] = cell === "gru" ? split(ctx, recurrent, 0, [2 * filters, filters], "recurrent_parts") : [recurrent, undefined];
    const plus = (a: string, b: string | undefined, part: string) => (b ? ctx.graph.op("Add", [a, b], ctx.name(part)) : a);
    const op = (type: string, inputs: string[], part: string) => ctx.graph.op(type, inputs, ctx.name(part));

    let h: string | undefined;
    let c: string | undefined;
    const outputs: string[] = [];
    for (let t = 0; t < frames; t++) {
      const step = ctx.graph.op("Gather", [inputTerms, ctx.graph.intConstant(ctx.name(`t${t}/index`), [], [t])], ctx.name(`t${t}/input_terms`), {
        axis: attr.int(1),
      });
      const xs = split(ctx, step, 1, gateSizes, `t${t}/input_gate`);
      // At t = 0 the state is zero and so are its convolutions: the recurrent terms are left out.
      const hs = h ? split(ctx, conv(h, gateKernel!, `t${t}/state_conv`), 1, cell === "gru" ? [filters, filters] : gateSizes, `t${t}/state_gate`) : [];
      if (cell === "lstm") {
        const i = op("Sigmoid", [plus(xs[0]!, hs[0], `t${t}/i_sum`)], `t${t}/i`);
        const candidate = op("Tanh", [plus(xs[2]!, hs[2], `t${t}/g_sum`)], `t${t}/g`);
        const input = op("Mul", [i, candidate], `t${t}/ig`);
        if (c) {
          const f = op("Sigmoid", [plus(xs[1]!, hs[1], `t${t}/f_sum`)], `t${t}/f`);
          c = op("Add", [op("Mul", [f, c], `t${t}/fc`), input], `t${t}/c`);
        } else c = input;
        const o = op("Sigmoid", [plus(xs[3]!, hs[3], `t${t}/o_sum`)], `t${t}/o`);
        h = op("Mul", [o, op("Tanh", [c], `t${t}/tanh_c`)], `t${t}/h`);
      } else {
        const z = op("Sigmoid", [plus(xs[0]!, hs[0], `t${t}/z_sum`)], `t${t}/z`);
        const keep = op("Sub", [scalar(ctx, 1, `t${t}/one`), z], `t${t}/one_minus_z`);
        if (h) {
          const r = op("Sigmoid", [plus(xs[1]!, hs[1], `t${t}/r_sum`)], `t${t}/r`);
          const candidate = op(
            "Tanh",
            [op("Add", [xs[2]!, conv(op("Mul", [r, h], `t${t}/rh`), candidateKernel!, `t${t}/candidate_conv`)], `t${t}/h_sum`)],
            `t${t}/candidate`,
          );
          h = op("Add", [op("Mul", [z, h], `t${t}/zh`), op("Mul", [keep, candidate], `t${t}/new`)], `t${t}/h`);
        } else h = op("Mul", [keep, op("Tanh", [xs[2]!], `t${t}/candidate`)], `t${t}/h`);
      }
      outputs.push(h);
    }
    if (ctx.node.args.sequences !== "all") return result(ctx, h!, channelsFirst(4));
    const unsqueezed = outputs.map((o, t) =>
      ctx.graph.op("Unsqueeze", [o, ctx.graph.intConstant(ctx.name(`t${t}/time_axis`), [1], [2])], ctx.name(`t${t}/step`)),
    );
    return result(ctx, ctx.graph.op("Concat", unsqueezed, ctx.name(), { axis: attr.int(2) }), channelsFirst(5));
  };
}

/** The emitter of an IR operator (undefined when the exporter cannot lower it). */
export function emitterFor(op: string): Emitter | undefined {
  return Object.hasOwn(EMITTERS, op) ? EMITTERS[op] : undefined;
}

/** Why each node the exporter cannot lower fails, as located diagnostics (empty when all can). */
export function checkOnnxSupport(graph: IrGraph): Diagnostic[] {
  return graph.nodes
    .filter((node) => node.op !== "input" && !emitterFor(node.op))
    .map((node) => ({
      code: ONNX_UNSUPPORTED,
      severity: "error" as const,
      message: `cannot export layer \`${node.name}\` to ONNX: the ONNX exporter has no lowering for \`${node.op}\``,
      file: node.origin.file,
      range: node.origin.range,
    }));
}
