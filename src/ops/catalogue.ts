/**
 * The one catalogue of operators: parameters, shape rule, parameter count, MACs and doc. The
 * checker, `vnet summary`, the generated operator reference and the backends all read it, so the
 * shapes users see are the shapes the compiled model has.
 */
import { perAxis, resolvePadding, resolveWindow } from "./geometry.js";
import { subsampleIndices } from "./temporal.js";
import { type Args, type ArgValue, type Shape, describeTensor, product, rankName, formatShape } from "./values.js";

export type ParamType =
  | { kind: "int"; min?: number; max?: number }
  | { kind: "number"; min?: number; max?: number; exclusiveMin?: boolean }
  | { kind: "bool" }
  | { kind: "enum"; values: readonly string[] }
  /** An int, or a list of exactly `length` ints (per axis). */
  | { kind: "ints"; length: number; min?: number }
  /** Padding: an int, a per-axis list, or "same" / "valid". */
  | { kind: "padding"; length: number }
  | { kind: "numbers" }
  | { kind: "strings" };

export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  /** Absent means required. `null` means optional without a default. */
  readonly default?: ArgValue | null;
  readonly doc: string;
}

export type { Args } from "./values.js";

export interface InferResult {
  readonly shape: Shape;
  /** Trainable parameters. */
  readonly params: number;
  /** Non-trainable state (batch-norm moving statistics). */
  readonly state?: number;
  /** Multiply-accumulates for one example. */
  readonly macs: number;
  /** What the layer computes but the user may not expect (frames a temporal stride leaves unread). */
  readonly warnings?: readonly InferWarning[];
}

/** A warning about a layer that still has a well-defined output. */
export interface InferWarning {
  readonly code: "VN022";
  readonly message: string;
  readonly arg?: string;
  readonly hint?: string;
}

export interface InferError {
  readonly error: string;
  readonly code: "VN020" | "VN021" | "VN023" | "VN025" | "VN015" | "VN018";
  /** Which argument is to blame, so the diagnostic can point at it. */
  readonly arg?: string;
  readonly hint?: string;
}

export type Category =
  | "convolution"
  | "pooling"
  | "normalization"
  | "activation"
  | "dense"
  | "structure"
  | "temporal"
  | "recurrent"
  | "attention"
  | "fusion"
  | "detection"
  | "stream";

/** Columns of a `boxes()` input row: batch index, x1, y1, x2, y2 (input pixels). */
export const BOX_COLUMNS = 5;

export interface OpDef {
  readonly name: string;
  readonly category: Category;
  readonly doc: string;
  readonly params: readonly ParamSpec[];
  /** Number of input tensors: a count, or "many" (two or more, given as a list: `[a, b] -> add`). */
  readonly inputs: number | "many";
  /** Ranks (without batch) the op accepts on its inputs. */
  readonly ranks?: readonly number[];
  /** Only valid in a `stream` declaration: it runs in the data pipeline, not in the model. */
  readonly streamOnly?: boolean;
  /** Valid both in streams and in the model. */
  readonly streamOk?: boolean;
  /** Takes a `{ pipeline }` body applied per frame. */
  readonly body?: "required";
  /** Another name of the operator `aliasOf`: the layer is built, lowered and named as that operator. */
  readonly aliasOf?: string;
  /**
   * Works across the frames of a clip even where it sees one frame at a time: inside a
   * `per_frame` body the checker passes the clip's frame count as the argument `frames_in_batch`
   * (the frames are folded into the batch there, as TSM's 2D networks fold them).
   */
  readonly acrossFrames?: boolean;
  /**
   * Sugar for several layers that all read the call's inputs, one per output tensor: the call's
   * value is the list of their outputs (`split` is a list of `slice` layers).
   */
  readonly expand?: (inputs: readonly Shape[], args: Args) => readonly ExpandedLayer[] | InferError;
  readonly infer: (inputs: readonly Shape[], args: Args) => InferResult | InferError;
}

/** One layer of an `expand`ed call: an operator of the catalogue and its arguments. */
export interface ExpandedLayer {
  readonly op: string;
  readonly args: Args;
}

/** True for an operator's error (from `infer`, `expand` or a geometry helper such as `sliceBounds`). */
export function isInferError<T extends object>(r: T | InferError): r is InferError {
  return (r as InferError).error !== undefined;
}

const AXIS_NAMES_3 = ["time", "height", "width"];
const AXIS_NAMES_2 = ["height", "width"];
const AXIS_NAMES_1 = ["time"];
const axisNames = (dims: 1 | 2 | 3) => (dims === 3 ? AXIS_NAMES_3 : dims === 2 ? AXIS_NAMES_2 : AXIS_NAMES_1);

interface WindowSizes {
  readonly out: readonly number[];
  readonly kernel: readonly number[];
  readonly stride: readonly number[];
  /** VN022: the last input frames no window reads (a temporal stride that does not fit the clip). */
  readonly warnings?: readonly InferWarning[];
}

/** The window's output sizes (src/ops/geometry.ts), or the user error that makes it impossible. */
function windowed(inputs: readonly Shape[], args: Args, dims: 1 | 2 | 3, opts: { pool: boolean }): WindowSizes | InferError {
  const shape = inputs[0]!;
  const spatial = shape.slice(0, dims);
  for (const name of ["kernel", "stride", "dilation"] as const) {
    const v = perAxis(name === "stride" ? (args.stride ?? (opts.pool ? args.kernel : 1)) : args[name], dims, 1);
    if (v.length !== dims)
      return { code: "VN015", arg: name, error: `\`${name}\` needs ${dims} value${dims === 1 ? "" : "s"} (${axisNames(dims).join(", ")}), got ${v.length}` };
  }
  if (args.pad !== "same" && args.pad !== "valid" && Array.isArray(args.pad) && args.pad.length !== dims) {
    return { code: "VN015", arg: "pad", error: `\`pad\` needs ${dims} values, got ${args.pad.length}` };
  }
  const g = resolveWindow(shape, args, dims, opts.pool);
  // The padding as given (the window's `after` also holds what ceil mode adds).
  const pad = resolvePadding(args.pad, spatial, g.kernel, g.stride, g.dilation);
  const names = axisNames(dims);
  for (let i = 0; i < dims; i++) {
    if (opts.pool && Math.max(pad.before[i]!, pad.after[i]!) * 2 > g.kernel[i]!) {
      return {
        code: "VN015",
        arg: "pad",
        error: `padding ${Math.max(pad.before[i]!, pad.after[i]!)} on ${names[i]} is more than half the pool kernel ${g.kernel[i]}`,
      };
    }
    if (g.out[i]! < 1) {
      return {
        code: "VN025",
        arg: "kernel",
        error: `${names[i]} shrinks to ${g.out[i]}: kernel ${g.kernel[i]} (dilation ${g.dilation[i]}) does not fit ${spatial[i]} + padding ${pad.before[i]! + pad.after[i]!}`,
        hint: "use a smaller kernel, more padding, or a larger input",
      };
    }
  }
  // As PyTorch computes it (floor, or ceil for ceil-mode pools): a stride that does not fit the
  // clip only leaves its last frames unread, which is worth a warning, not an error.
  // (A stride that divides the clip, as a ResNet's 1x1 stride-2 shortcut, skips frames by design.)
  const lastRead = (g.out[0]! - 1) * g.stride[0]! + g.dilation[0]! * (g.kernel[0]! - 1);
  const dropped = dims === 3 && spatial[0]! % g.stride[0]! !== 0 ? pad.before[0]! + spatial[0]! - 1 - lastRead : 0;
  if (dropped > 0) {
    const frames = spatial[0]!;
    const warning: InferWarning = {
      code: "VN022",
      arg: "stride",
      message: `temporal stride ${g.stride[0]} over ${frames} frames${pad.before[0]! + pad.after[0]! ? ` (padding ${pad.before[0]! + pad.after[0]!})` : ""} leaves the last ${dropped} frame${dropped === 1 ? "" : "s"} unread`,
      hint: `the output has ${g.out[0]} frames, as in PyTorch; a clip of ${frames - dropped} frames, or more padding, reads every frame`,
    };
    return { ...g, warnings: [warning] };
  }
  return g;
}

function rankCheck(op: string, shape: Shape, ranks: readonly number[]): InferError | undefined {
  if (ranks.includes(shape.length)) return undefined;
  const wanted = ranks.map(rankName).join(" or ");
  let hint: string | undefined;
  if (op.endsWith("2d") && shape.length === 4) hint = `use \`${op.replace("2d", "3d")}\`, or apply the 2D layers to each frame with \`per_frame { ... }\``;
  else if (op === "conv1d" && shape.length > 2) hint = "conv1d runs over a sequence [N, T, F]: pool the spatial axes first (`global_avg_pool` per frame)";
  else if (op.endsWith("3d") && shape.length === 3) hint = `use \`${op.replace("3d", "2d")}\` on images`;
  else if (op === "dense" || op === "lstm" || op === "gru") hint = "flatten or pool the spatial axes first (`global_avg_pool`, `flatten`)";
  return { code: "VN021", error: `\`${op}\` expects ${wanted}, got ${describeTensor(shape)}`, ...(hint ? { hint } : {}) };
}

const int = (min = 1): ParamType => ({ kind: "int", min });
const ints = (length: number, min = 1): ParamType => ({ kind: "ints", length, min });

function convParams(dims: 1 | 2 | 3): ParamSpec[] {
  return [
    { name: "filters", type: int(), doc: "Output channels." },
    {
      name: "kernel",
      type: ints(dims),
      doc: dims === 3 ? "Kernel size: one int or [t, h, w]." : dims === 2 ? "Kernel size: one int or [h, w]." : "Kernel size over time.",
    },
    { name: "stride", type: ints(dims), default: 1, doc: "Stride per axis." },
    { name: "pad", type: { kind: "padding", length: dims }, default: 0, doc: 'Padding per axis (both sides), or "same" (TensorFlow) or "valid".' },
    { name: "dilation", type: ints(dims), default: 1, doc: "Dilation per axis." },
    { name: "groups", type: int(), default: 1, doc: "Grouped convolution: input and output channels split into this many groups." },
    { name: "bias", type: { kind: "bool" }, default: true, doc: "Add a learned bias per output channel." },
  ];
}

function convInfer(op: string, dims: 1 | 2 | 3) {
  return (inputs: readonly Shape[], args: Args): InferResult | InferError => {
    const bad = rankCheck(op, inputs[0]!, [dims + 1]);
    if (bad) return bad;
    const shape = inputs[0]!;
    const cin = shape[dims]!;
    const filters = args.filters as number;
    const groups = (args.groups as number) ?? 1;
    if (cin % groups !== 0 || filters % groups !== 0) {
      return { code: "VN015", arg: "groups", error: `groups = ${groups} must divide both the input channels (${cin}) and filters (${filters})` };
    }
    const g = windowed(inputs, args, dims, { pool: false });
    if ("error" in g) return g;
    const perOutput = (cin / groups) * product(g.kernel);
    const params = perOutput * filters + (args.bias === false ? 0 : filters);
    return { shape: [...g.out, filters], params, macs: product(g.out) * filters * perOutput, ...(g.warnings ? { warnings: g.warnings } : {}) };
  };
}

function poolParams(dims: 2 | 3): ParamSpec[] {
  return [
    { name: "kernel", type: ints(dims), doc: dims === 3 ? "Window: one int or [t, h, w]." : "Window: one int or [h, w]." },
    { name: "stride", type: ints(dims), default: null, doc: "Stride per axis (defaults to the kernel)." },
    { name: "pad", type: { kind: "padding", length: dims }, default: 0, doc: 'Padding per axis, or "same" / "valid".' },
    { name: "ceil", type: { kind: "bool" }, default: false, doc: "Round the output size up (Caffe/PyTorch ceil_mode)." },
  ];
}

function poolInfer(op: string, dims: 2 | 3) {
  return (inputs: readonly Shape[], args: Args): InferResult | InferError => {
    const bad = rankCheck(op, inputs[0]!, [dims + 1]);
    if (bad) return bad;
    const g = windowed(inputs, args, dims, { pool: true });
    if ("error" in g) return g;
    const c = inputs[0]![dims]!;
    return { shape: [...g.out, c], params: 0, macs: 0, ...(g.warnings ? { warnings: g.warnings } : {}) };
  };
}

const elementwise = (name: string, doc: string, category: Category = "activation", params: ParamSpec[] = []): OpDef => ({
  name,
  category,
  doc,
  params,
  inputs: 1,
  infer: (inputs) => ({ shape: inputs[0]!, params: 0, macs: 0 }),
});

function sameShapes(op: string, inputs: readonly Shape[], skipAxis?: number): InferError | undefined {
  const first = inputs[0]!;
  for (let i = 1; i < inputs.length; i++) {
    const other = inputs[i]!;
    const mismatch = other.length !== first.length || other.some((d, axis) => axis !== skipAxis && d !== first[axis]);
    if (mismatch) {
      return {
        code: "VN020",
        error: `\`${op}\` inputs differ: input 1 is ${formatShape(first)} but input ${i + 1} is ${formatShape(other)}${skipAxis !== undefined ? " (only the concat axis may differ)" : ""}`,
        hint:
          op === "add" ? "project the shortcut with a 1x1 conv (and the same stride) so both sides match" : "pool or stride both inputs to the same size first",
      };
    }
  }
  return undefined;
}

function concatAxis(axis: ArgValue | undefined, rank: number): number {
  if (axis === "channels" || axis === undefined) return rank - 1;
  if (axis === "time") return 0;
  if (typeof axis === "number") return axis < 0 ? rank + axis : axis - 1;
  return rank - 1;
}

function recurrentParams(): ParamSpec[] {
  return [
    { name: "units", type: int(), doc: "Hidden state size." },
    {
      name: "sequences",
      type: { kind: "enum", values: ["last", "all"] },
      default: "last",
      doc: '"last" returns the final state [N, units]; "all" returns every step [N, T, units].',
    },
    { name: "dropout", type: { kind: "number", min: 0, max: 1 }, default: 0, doc: "Dropout on the inputs." },
  ];
}

function recurrentInfer(op: string, gates: number) {
  return (inputs: readonly Shape[], args: Args): InferResult | InferError => {
    const bad = rankCheck(op, inputs[0]!, [2]);
    if (bad) return bad;
    const [t, f] = inputs[0] as [number, number];
    const u = args.units as number;
    // Keras/tfjs layout: one bias vector per gate.
    const params = gates * (f * u + u * u + u);
    return { shape: args.sequences === "all" ? [t, u] : [u], params, macs: t * gates * (f * u + u * u) };
  };
}

function convRecurrentParams(): ParamSpec[] {
  return [
    { name: "filters", type: int(), doc: "Channels of the hidden state." },
    { name: "kernel", type: ints(2), default: 3, doc: "Kernel of the input-to-state and state-to-state convolutions." },
    {
      name: "sequences",
      type: { kind: "enum", values: ["last", "all"] },
      default: "last",
      doc: '"last" returns the final state map [N, H, W, F]; "all" returns [N, T, H, W, F].',
    },
  ];
}

function convRecurrentInfer(op: string, gates: number) {
  return (inputs: readonly Shape[], args: Args): InferResult | InferError => {
    const bad = rankCheck(op, inputs[0]!, [4]);
    if (bad) return bad;
    const [t, h, w, c] = inputs[0] as [number, number, number, number];
    const f = args.filters as number;
    const k = perAxis(args.kernel, 2, 3);
    const kk = k[0]! * k[1]!;
    // "same" padding keeps the map size; each gate has an input and a recurrent kernel and one bias.
    const params = gates * (kk * c * f + kk * f * f + f);
    return { shape: args.sequences === "all" ? [t, h, w, f] : [h, w, f], params, macs: t * h * w * gates * kk * f * (c + f) };
  };
}

/**
 * Broadcasts batchless shapes as NumPy does, aligned on the last (channel) axis: a shorter shape
 * gains leading axes of size 1, and on every axis the sizes are equal or one of them is 1. So a
 * gate [C] (after `global_avg_pool`) or [1, 1, 1, C] scales every position of a clip [T, H, W, C].
 * Returns undefined when the shapes do not broadcast.
 */
export function broadcastShapes(shapes: readonly Shape[]): Shape | undefined {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let size = 1;
    for (const shape of shapes) {
      const d = shape[shape.length - rank + i] ?? 1;
      if (d === 1 || d === size) continue;
      if (size !== 1) return undefined;
      size = d;
    }
    out.push(size);
  }
  return out;
}

/** A slice of one axis, resolved: the IR axis (batchless, 0-based) and the half-open range kept. */
export interface SliceBounds {
  readonly axis: number;
  readonly start: number;
  readonly end: number;
}

const SLICE_AXES = ["channels", "time"] as const;

/**
 * The axis and range `slice(start, end, axis)` keeps: channels are the last axis, time the first
 * of a sequence [T, F] or clip [T, H, W, C]; negative indices count from the end, as in Python,
 * and a missing `end` is the axis's size.
 */
export function sliceBounds(shape: Shape, args: Args): SliceBounds | InferError {
  const byTime = args.axis === "time";
  if (byTime && shape.length !== 2 && shape.length !== 4) {
    return { code: "VN021", arg: "axis", error: `slicing time needs a sequence [N, T, F] or a clip [N, T, H, W, C], got ${describeTensor(shape)}` };
  }
  const axis = byTime ? 0 : shape.length - 1;
  const size = shape[axis]!;
  const resolve = (value: ArgValue | undefined, fallback: number) => {
    if (typeof value !== "number") return fallback;
    return value < 0 ? size + value : value;
  };
  const start = resolve(args.start, 0);
  const end = resolve(args.end, size);
  const what = byTime ? "frames" : "channels";
  if (start < 0 || start >= size)
    return { code: "VN015", arg: "start", error: `slice start ${String(args.start)} is outside the ${size} ${what} (0..${size - 1})` };
  if (end <= start || end > size) {
    return {
      code: "VN015",
      arg: "end",
      error: `slice [${start}, ${end}) of ${size} ${what} is ${end <= start ? "empty" : "past the end"}`,
      hint: `\`end\` is exclusive and at most ${size}`,
    };
  }
  return { axis, start, end };
}

/** The slices `split` makes: `parts` equal slices, or slices of the given `sizes`. */
function splitLayers(inputs: readonly Shape[], args: Args): ExpandedLayer[] | InferError {
  const shape = inputs[0]!;
  const whole = sliceBounds(shape, { axis: args.axis ?? "channels" });
  if (isInferError(whole)) return whole;
  const size = whole.end;
  const what = args.axis === "time" ? "frames" : "channels";
  const parts = args.parts as number | undefined;
  const given = args.sizes as readonly number[] | undefined;
  if ((parts === undefined) === (given === undefined))
    return {
      code: "VN015",
      error: "give exactly one of `parts` and `sizes`",
      hint: "`split(2)` halves the channels; `split(sizes = [16, 48])` cuts them at 16",
    };
  let sizes: number[];
  if (parts !== undefined) {
    if (size % parts !== 0)
      return {
        code: "VN015",
        arg: "parts",
        error: `${size} ${what} do not split into ${parts} equal parts`,
        hint: `use \`sizes\` for unequal parts, e.g. \`sizes = [${Math.ceil(size / parts)}, ${size - Math.ceil(size / parts)}]\``,
      };
    sizes = Array(parts).fill(size / parts);
  } else {
    sizes = [...given!];
    if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1))
      return { code: "VN015", arg: "sizes", error: "`sizes` must be two or more positive integers" };
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== size) return { code: "VN015", arg: "sizes", error: `\`sizes\` add up to ${total}, but the input has ${size} ${what}` };
  }
  const layers: ExpandedLayer[] = [];
  let start = 0;
  for (const s of sizes) {
    layers.push({ op: "slice", args: { start, end: start + s, axis: args.axis ?? "channels" } });
    start += s;
  }
  return layers;
}

/** How `temporal_shift` moves a tensor's channels across frames. */
export interface TemporalShiftPlan {
  /** Frames are folded into the batch (inside `per_frame`), or the tensor's first axis is time. */
  readonly timeInBatch: boolean;
  /** Consecutive frames shifted among themselves: the batch (or time axis) is viewed as [-1, segments]. */
  readonly segments: number;
  /** Channels moved each way: [0, moved) one frame earlier, [moved, 2 * moved) one frame later. */
  readonly moved: number;
}

/**
 * TSM's shift (Lin et al. 2019; mit-han-lab/temporal-shift-module `ops/temporal_shift.py`): with
 * `fold` = 8, the first C/8 channels (rounded down) of frame t take frame t + 1's values, the next
 * C/8 take frame t - 1's, zero where that frame is past either end of the segment, and the rest
 * stay. Inside `per_frame` the frames are in the batch, as in TSM's 2D networks.
 */
export function temporalShiftPlan(shape: Shape, args: Args): TemporalShiftPlan | InferError {
  const inBatch = args.frames_in_batch as number | undefined;
  const timeInBatch = inBatch !== undefined;
  if (!timeInBatch && shape.length !== 2 && shape.length !== 4) {
    return {
      code: "VN021",
      error: `\`temporal_shift\` needs frames to shift across, but gets ${describeTensor(shape)} outside \`per_frame\``,
      hint: "apply it to a clip [N, T, H, W, C] or a sequence, or inside `per_frame { ... }` on a clip's frames",
    };
  }
  const frames = timeInBatch ? inBatch : shape[0]!;
  const segments = (args.segments as number | undefined) ?? frames;
  if (frames % segments !== 0) {
    return {
      code: "VN015",
      arg: "segments",
      error: `${segments} segments do not divide the ${frames} frames`,
      hint: `TSM shifts within each group of \`segments\` consecutive frames; use ${frames} (the default) or a divisor of it`,
    };
  }
  const channels = shape[shape.length - 1]!;
  const moved = Math.floor(channels / (args.fold as number));
  if (moved < 1)
    return {
      code: "VN015",
      arg: "fold",
      error: `fold = ${String(args.fold)} of ${channels} channels moves no channel`,
      hint: `use a fold of at most ${channels} (TSM uses 8)`,
    };
  return { timeInBatch, segments, moved };
}

const OPS: OpDef[] = [
  {
    name: "conv1d",
    category: "convolution",
    doc: "1D convolution over the time axis of a sequence [N, T, F] (temporal convolutions over snippet features: BMN, TCN). PyTorch's `nn.Conv1d`, channels-last.",
    params: convParams(1),
    inputs: 1,
    infer: convInfer("conv1d", 1),
  },
  {
    name: "conv2d",
    category: "convolution",
    doc: "2D convolution over [H, W] of an image.",
    params: convParams(2),
    inputs: 1,
    infer: convInfer("conv2d", 2),
  },
  {
    name: "conv3d",
    category: "convolution",
    doc: "3D convolution over [T, H, W] of a clip (slow fusion, C3D, I3D, R3D).",
    params: convParams(3),
    inputs: 1,
    infer: convInfer("conv3d", 3),
  },
  {
    name: "conv2plus1d",
    category: "convolution",
    doc:
      "(2+1)D convolution (Tran et al. 2018): a [1, k, k] spatial conv to `mid` channels, batch norm, ReLU, then a [t, 1, 1] temporal conv. " +
      "`mid` defaults to torchvision's floor(in*filters*t*k*k / (in*k*k + t*filters)) so the parameter count matches a full 3D conv.",
    params: [
      { name: "filters", type: int(), doc: "Output channels." },
      { name: "kernel", type: ints(3), default: 3, doc: "Kernel [t, h, w] of the full conv this factorises." },
      { name: "stride", type: ints(3), default: 1, doc: "Stride [t, h, w]: spatial part on the first conv, temporal on the second." },
      { name: "pad", type: { kind: "padding", length: 3 }, default: 1, doc: "Padding [t, h, w], split the same way." },
      { name: "mid", type: int(), default: null, doc: "Channels between the spatial and the temporal conv." },
      { name: "bias", type: { kind: "bool" }, default: false, doc: "Bias on both convs." },
    ],
    inputs: 1,
    infer: (inputs, args) => {
      const bad = rankCheck("conv2plus1d", inputs[0]!, [4]);
      if (bad) return bad;
      const [, , , cin] = inputs[0] as [number, number, number, number];
      const filters = args.filters as number;
      const [kt, kh, kw] = perAxis(args.kernel, 3, 3) as [number, number, number];
      const mid = (args.mid as number | undefined) ?? midplanes(cin, filters, kt, kh);
      const stride = perAxis(args.stride, 3, 1);
      const pad = args.pad === "same" || args.pad === "valid" ? args.pad : perAxis(args.pad, 3, 1);
      const padOf = (axes: number[]) => (typeof pad === "string" ? pad : axes.map((a) => (a < 0 ? 0 : pad[a]!)));
      const spatial = windowed(inputs, { kernel: [1, kh, kw], stride: [1, stride[1]!, stride[2]!], pad: padOf([-1, 1, 2]) }, 3, { pool: false });
      if ("error" in spatial) return spatial;
      const midShape = [...spatial.out, mid];
      const temporal = windowed([midShape], { kernel: [kt, 1, 1], stride: [stride[0]!, 1, 1], pad: padOf([0, -1, -1]) }, 3, { pool: false });
      if ("error" in temporal) return temporal;
      const bias = args.bias === true;
      const params = cin * mid * kh * kw + (bias ? mid : 0) + 2 * mid + mid * filters * kt + (bias ? filters : 0);
      const macs = product(spatial.out) * mid * cin * kh * kw + product(temporal.out) * filters * mid * kt;
      return { shape: [...temporal.out, filters], params, state: 2 * mid, macs, ...(temporal.warnings ? { warnings: temporal.warnings } : {}) };
    },
  },
  { name: "maxpool2d", category: "pooling", doc: "2D max pooling.", params: poolParams(2), inputs: 1, infer: poolInfer("maxpool2d", 2) },
  {
    name: "avgpool2d",
    category: "pooling",
    doc: "2D average pooling (padding excluded from the average).",
    params: poolParams(2),
    inputs: 1,
    infer: poolInfer("avgpool2d", 2),
  },
  {
    name: "maxpool3d",
    category: "pooling",
    doc: "3D max pooling over [T, H, W] (slow fusion, C3D).",
    params: poolParams(3),
    inputs: 1,
    infer: poolInfer("maxpool3d", 3),
  },
  { name: "avgpool3d", category: "pooling", doc: "3D average pooling over [T, H, W].", params: poolParams(3), inputs: 1, infer: poolInfer("avgpool3d", 3) },
  {
    name: "global_avg_pool",
    category: "pooling",
    doc: "Mean over every axis but channels: [N, ..., C] -> [N, C].",
    params: [],
    inputs: 1,
    ranks: [2, 3, 4],
    infer: (inputs) => ({ shape: [inputs[0]![inputs[0]!.length - 1]!], params: 0, macs: 0 }),
  },
  {
    name: "global_max_pool",
    category: "pooling",
    doc: "Max over every axis but channels: [N, ..., C] -> [N, C].",
    params: [],
    inputs: 1,
    ranks: [2, 3, 4],
    infer: (inputs) => ({ shape: [inputs[0]![inputs[0]!.length - 1]!], params: 0, macs: 0 }),
  },
  {
    name: "temporal_pool",
    category: "temporal",
    doc: "Pools over time: [N, T, ...] -> [N, ...] (late fusion by averaging; single-frame score averaging).",
    params: [{ name: "mode", type: { kind: "enum", values: ["mean", "max"] }, default: "mean", doc: "Mean or max over frames." }],
    inputs: 1,
    ranks: [2, 3, 4],
    infer: (inputs) => ({ shape: inputs[0]!.slice(1), params: 0, macs: 0 }),
  },
  {
    name: "bn",
    category: "normalization",
    doc: "Batch normalisation over the channel axis (any rank). 2 trainable parameters per channel plus 2 moving statistics.",
    params: [
      { name: "eps", type: { kind: "number", min: 0, exclusiveMin: true }, default: 1e-5, doc: "Added to the variance." },
      { name: "momentum", type: { kind: "number", min: 0, max: 1 }, default: 0.1, doc: "Moving-average update weight (PyTorch convention)." },
    ],
    inputs: 1,
    infer: (inputs) => {
      const c = inputs[0]![inputs[0]!.length - 1]!;
      return { shape: inputs[0]!, params: 2 * c, state: 2 * c, macs: 0 };
    },
  },
  {
    name: "lrn",
    category: "normalization",
    doc:
      "Local response normalisation across channels (AlexNet/CaffeNet, CNN-M): x / (k + alpha / size * sum of x^2 over `size` neighbouring channels)^beta. " +
      "alpha is averaged over the window as in Caffe, PyTorch and ONNX (Krizhevsky's and tf.nn.lrn's summed alpha is size times smaller).",
    params: [
      { name: "size", type: int(), default: 5, doc: "Channels in the window." },
      { name: "alpha", type: { kind: "number", min: 0 }, default: 1e-4, doc: "Scale, divided by `size` (Caffe/PyTorch/ONNX convention)." },
      { name: "beta", type: { kind: "number", min: 0 }, default: 0.75, doc: "Exponent." },
      { name: "k", type: { kind: "number", min: 0 }, default: 2, doc: "Bias." },
    ],
    inputs: 1,
    infer: (inputs) => ({ shape: inputs[0]!, params: 0, macs: 0 }),
  },
  elementwise("relu", "max(x, 0)."),
  elementwise("sigmoid", "1 / (1 + exp(-x))."),
  elementwise("tanh", "Hyperbolic tangent."),
  elementwise("softmax", "Softmax over the last axis (class scores -> probabilities)."),
  elementwise("swish", "x * sigmoid(x) (Ramachandran et al. 2017; PyTorch's SiLU): X3D's and EfficientNet's inner activation. `silu` is the same operator."),
  { ...elementwise("silu", "Another name for `swish`: x * sigmoid(x), PyTorch's nn.SiLU."), aliasOf: "swish" },
  elementwise("hard_sigmoid", "PyTorch's Hardsigmoid: relu6(x + 3) / 6, i.e. 0 below -3, 1 above 3, linear between (not Keras's 0.2x + 0.5)."),
  elementwise("hard_swish", "PyTorch's Hardswish: x * relu6(x + 3) / 6 (MobileNetV3, MoViNet): a piecewise-polynomial swish."),
  elementwise(
    "gelu",
    'Gaussian error linear unit x * Phi(x) (Hendrycks & Gimpel 2016), PyTorch\'s nn.GELU; `approximate = "tanh"` is its tanh approximation.',
    "activation",
    [{ name: "approximate", type: { kind: "enum", values: ["none", "tanh"] }, default: "none", doc: 'Exact (erf) or PyTorch\'s approximate = "tanh" form.' }],
  ),
  {
    name: "mul",
    category: "fusion",
    doc:
      "Elementwise product of two or more tensors that broadcast, aligned on channels: `[x, gate] -> mul`. A gate [N, C] (from `global_avg_pool`) " +
      "or [N, 1, 1, 1, C] scales each channel of a clip [N, T, H, W, C] (squeeze-excitation, gating). No parameters; counted as 0 MACs, like `add`.",
    params: [],
    inputs: "many",
    infer: (inputs) => {
      const shape = broadcastShapes(inputs);
      if (!shape) {
        return {
          code: "VN020",
          error: `\`mul\` inputs do not broadcast: ${inputs.map((s, i) => `input ${i + 1} is ${formatShape(s)}`).join(", ")}`,
          hint: "aligned on the channel axis, each axis must be equal or 1: a gate is [N, C] after `global_avg_pool`, or keeps size-1 axes",
        };
      }
      return { shape, params: 0, macs: 0 };
    },
  },
  {
    name: "slice",
    category: "structure",
    doc: "Keeps channels (or frames) `start` up to but not including `end`: `x -> slice(0, 32)`. Negative indices count from the end; without `end`, to the last.",
    params: [
      { name: "start", type: { kind: "int" }, default: 0, doc: "First index kept." },
      { name: "end", type: { kind: "int" }, default: null, doc: "One past the last index kept (default: the axis's size)." },
      {
        name: "axis",
        type: { kind: "enum", values: SLICE_AXES },
        default: "channels",
        doc: 'Axis to slice: "channels" (last) or "time" (of a clip or sequence).',
      },
    ],
    inputs: 1,
    infer: (inputs, args) => {
      const bounds = sliceBounds(inputs[0]!, args);
      if (isInferError(bounds)) return bounds;
      const shape = [...inputs[0]!];
      shape[bounds.axis] = bounds.end - bounds.start;
      return { shape, params: 0, macs: 0 };
    },
  },
  {
    name: "split",
    category: "structure",
    doc:
      "Cuts channels (or frames) into consecutive parts, one tensor each: `a, b = x -> split(2)`, `x -> split(sizes = [16, 48])`. " +
      "Each part is a `slice` layer (named `split.0`, `split.1`, ... or after `as`).",
    params: [
      { name: "parts", type: int(2), default: null, doc: "Number of equal parts." },
      { name: "sizes", type: { kind: "numbers" }, default: null, doc: "Sizes of the parts, in order (they must add up to the axis's size)." },
      { name: "axis", type: { kind: "enum", values: SLICE_AXES }, default: "channels", doc: 'Axis to cut: "channels" or "time".' },
    ],
    inputs: 1,
    expand: splitLayers,
    // The call's value is the list of its parts; this is the first part's shape.
    infer: (inputs, args) => {
      const layers = splitLayers(inputs, args);
      if (isInferError(layers)) return layers;
      return OPERATORS.get("slice")!.infer(inputs, layers[0]!.args);
    },
  },
  {
    name: "temporal_shift",
    category: "temporal",
    doc:
      "TSM's temporal shift (Lin et al. 2019): 1/fold of the channels take the next frame's values, 1/fold the previous frame's, zero-filled at the ends; " +
      "no parameters, no MACs. On a clip it shifts over the time axis; inside `per_frame` (TSM's 2D ResNet) over the clip's frames. " +
      "Residual shift puts it on a block's residual branch before the first conv, in-place shift before the whole block: " +
      '`resnet_block_2d(..., shift = "residual" | "inplace")` in specs/lib/resnet_2d.vnet.',
    params: [
      { name: "fold", type: int(2), default: 8, doc: "TSM's shift_div: C / fold channels (rounded down) move each way." },
      {
        name: "segments",
        type: int(),
        default: null,
        doc: "Frames shifted among themselves, in consecutive groups (default: all the frames, TSM's num_segments).",
      },
    ],
    inputs: 1,
    acrossFrames: true,
    infer: (inputs, args) => {
      const plan = temporalShiftPlan(inputs[0]!, args);
      if (isInferError(plan)) return plan;
      return { shape: inputs[0]!, params: 0, macs: 0 };
    },
  },
  elementwise("dropout", "Randomly zeroes inputs during training.", "structure", [
    { name: "rate", type: { kind: "number", min: 0, max: 1 }, doc: "Fraction of inputs dropped." },
  ]),
  {
    name: "dense",
    category: "dense",
    doc: "Fully connected layer on the last axis (applied per step on sequences).",
    params: [
      { name: "units", type: int(), doc: "Output features (use `classes` for a classifier)." },
      { name: "bias", type: { kind: "bool" }, default: true, doc: "Add a learned bias." },
    ],
    inputs: 1,
    ranks: [1, 2],
    infer: (inputs, args) => {
      const shape = inputs[0]!;
      const f = shape[shape.length - 1]!;
      const u = args.units as number;
      return { shape: [...shape.slice(0, -1), u], params: f * u + (args.bias === false ? 0 : u), macs: product(shape.slice(0, -1)) * f * u };
    },
  },
  {
    name: "flatten",
    category: "structure",
    doc: "Flattens every axis but the batch: [N, ...] -> [N, F].",
    params: [],
    inputs: 1,
    infer: (inputs) => ({ shape: [product(inputs[0]!)], params: 0, macs: 0 }),
  },
  {
    name: "concat",
    category: "fusion",
    doc: "Concatenates tensors along channels (default) or time: `[a, b] -> concat`. Late fusion by concatenation, two-stream feature fusion.",
    params: [{ name: "axis", type: { kind: "enum", values: ["channels", "time"] }, default: "channels", doc: "Axis to join on." }],
    inputs: "many",
    infer: (inputs, args) => {
      const rank = inputs[0]!.length;
      const axis = concatAxis(args.axis, rank);
      if (args.axis === "time" && rank < 2) return { code: "VN021", error: "concat over time needs inputs with a time axis" };
      const bad = sameShapes("concat", inputs, axis);
      if (bad) return bad;
      const shape = [...inputs[0]!];
      shape[axis] = inputs.reduce((sum, s) => sum + s[axis]!, 0);
      return { shape, params: 0, macs: 0 };
    },
  },
  {
    name: "add",
    category: "fusion",
    doc: "Elementwise sum of equally shaped tensors: `[y, shortcut] -> add` (residual connections, sum fusion).",
    params: [],
    inputs: "many",
    infer: (inputs) => {
      const bad = sameShapes("add", inputs);
      if (bad) return bad;
      return { shape: inputs[0]!, params: 0, macs: 0 };
    },
  },
  {
    name: "stack_frames",
    category: "temporal",
    doc: "Early fusion: stacks the frames of a clip into channels, [N, T, H, W, C] -> [N, H, W, T*C], so the first 2D conv sees every frame.",
    params: [],
    inputs: 1,
    ranks: [4],
    infer: (inputs) => {
      const [t, h, w, c] = inputs[0] as [number, number, number, number];
      return { shape: [h, w, t * c], params: 0, macs: 0 };
    },
  },
  {
    name: "boundary_matching",
    category: "temporal",
    doc:
      "BMN's boundary-matching layer (Lin et al. 2019, MMAction2 `BMN._boundary_matching_layer`): for every proposal starting at t and lasting d + 1 positions, " +
      "`num_samples` features sampled evenly over it, widened by `boundary_ratio` of its length on each side (each sample the mean of `num_samples_per_bin` " +
      "linearly interpolated points): [N, T, C] -> [N, S, D, T, C], a product with a fixed [T, S x D x T] mask (src/ops/boundary-matching.ts). " +
      "A `conv3d(..., kernel = [S, 1, 1])` and `frame(index = 0)` after it give BMN's [N, D, T, C'] proposal map.",
    params: [
      { name: "num_samples", type: int(), default: 32, doc: "Samples per proposal (S)." },
      { name: "num_samples_per_bin", type: int(), default: 3, doc: "Interpolated points averaged into each sample." },
      {
        name: "boundary_ratio",
        type: { kind: "number", min: 0 },
        default: 0.5,
        doc: "Share of a proposal's length added before and after it (the original BMN's `prop_boundary_ratio`).",
      },
      { name: "durations", type: int(), default: null, doc: "Proposal durations D: 1 to D positions (default T, as MMAction2)." },
    ],
    inputs: 1,
    ranks: [2],
    infer: (inputs, args) => {
      const [t, c] = inputs[0] as [number, number];
      const samples = args.num_samples as number;
      const perBin = args.num_samples_per_bin as number;
      const durations = (args.durations as number | undefined) ?? t;
      if (samples * perBin < 2)
        return { code: "VN015", arg: "num_samples_per_bin", error: "a proposal needs at least two sampled points: num_samples x num_samples_per_bin >= 2" };
      if (durations > t)
        return {
          code: "VN015",
          arg: "durations",
          error: `${durations} proposal durations do not fit a sequence of ${t} positions`,
          hint: `use at most \`durations = ${t}\``,
        };
      const shape = [samples, durations, t, c];
      if (product(shape) > 2 ** 31) return { code: "VN015", arg: "num_samples", error: `the proposal map [N, ${shape.join(", ")}] is too large` };
      // A dense [T, S x D x T] matrix product per channel.
      return { shape, params: 0, macs: t * samples * durations * t * c };
    },
  },
  {
    name: "roi_align",
    category: "detection",
    doc:
      "RoIAlign (He et al. 2017) as torchvision's `roi_align` and detectron2 compute it: `[features, boxes] -> roi_align(resolution = 7, spatial_scale = 1 / 16)`. " +
      "For each box row [batch index, x1, y1, x2, y2] of a `boxes()` input (in input pixels; `spatial_scale` maps them onto the map), a resolution x resolution grid of bins over the box on the " +
      "feature map [N, H, W, C], each the mean of sampling_ratio x sampling_ratio bilinear samples (0: ceil(box size / resolution) per bin, adaptive). " +
      "`aligned` shifts the box by -0.5 pixel (pixel centres, detectron2's ROIAlignV2). The result has one row per box: [K, resolution, resolution, C], not [N, ...] " +
      "(torchvision's `output_size`, PySlowFast's `resolution`; `output` is a keyword of the language). " +
      "A clip's map [N, T, H, W, C] is pooled over time first (`temporal_pool`, as PySlowFast's `ResNetRoIHead` average-pools each pathway over its frames).",
    params: [
      { name: "resolution", type: { kind: "ints", length: 2, min: 1 }, default: 7, doc: "Output bins: one int or [h, w]." },
      {
        name: "spatial_scale",
        type: { kind: "number", min: 0, exclusiveMin: true },
        default: 1,
        doc: "Box coordinates x this = feature-map coordinates (1 / the map's stride).",
      },
      {
        name: "sampling_ratio",
        type: { kind: "int", min: 0 },
        default: 0,
        doc: "Bilinear samples per bin and axis; 0 takes ceil(box size / resolution) per box.",
      },
      {
        name: "aligned",
        type: { kind: "bool" },
        default: true,
        doc: "Shift boxes by -0.5 pixel so samples sit at pixel centres (PySlowFast's `DETECTION.ALIGNED`); false is the original RoIAlign (boxes at least 1 pixel).",
      },
    ],
    inputs: 2,
    infer: (inputs, args) => {
      const [features, boxes] = inputs as [Shape, Shape];
      if (features.length === 4)
        return {
          code: "VN021",
          error: `\`roi_align\` reads a feature map [N, H, W, C], got ${describeTensor(features)}`,
          hint: "pool the frames first: `[x -> temporal_pool, boxes] -> roi_align(...)`",
        };
      if (features.length !== 3) return { code: "VN021", error: `\`roi_align\` reads a feature map [N, H, W, C], got ${describeTensor(features)}` };
      if (boxes.length !== 1 || boxes[0] !== BOX_COLUMNS) {
        return {
          code: "VN021",
          error: `\`roi_align\`'s second input must be boxes [K, ${BOX_COLUMNS}] (batch index, x1, y1, x2, y2), got ${describeTensor(boxes)}`,
          hint: "declare `input boxes = boxes()` and pass `[features, boxes] -> roi_align(...)`",
        };
      }
      const [oh, ow] = perAxis(args.resolution, 2, 7) as [number, number];
      const c = features[2]!;
      // Per box: at least one bilinear sample (4 reads, 4 multiply-adds) per bin and channel.
      return { shape: [oh, ow, c], params: 0, macs: oh * ow * c * 4 };
    },
  },
  {
    name: "per_frame",
    category: "temporal",
    doc: "Applies its 2D body to every frame with shared weights: [N, T, H, W, C] -> [N, T, ...body output]. `freeze = true` makes it a fixed feature extractor.",
    params: [{ name: "freeze", type: { kind: "bool" }, default: false, doc: "Keep the body's weights fixed during training (no backprop into it)." }],
    inputs: 1,
    ranks: [4],
    body: "required",
    // The elaborator computes per_frame's shape and counts from its body.
    infer: (inputs) => ({ shape: inputs[0]!, params: 0, macs: 0 }),
  },
  {
    name: "subsample",
    category: "temporal",
    doc: "Temporal sampling: every `stride`-th frame from `offset`, or `frames` evenly spaced frames (PySlowFast's slow pathway).",
    params: [
      { name: "stride", type: int(), default: null, doc: "Keep every stride-th frame." },
      { name: "offset", type: int(0), default: 0, doc: "First frame kept (with stride)." },
      { name: "frames", type: int(), default: null, doc: "Keep this many evenly spaced frames (linspace over the clip)." },
    ],
    inputs: 1,
    ranks: [2, 4],
    streamOk: true,
    infer: (inputs, args) => {
      const shape = inputs[0]!;
      const t = shape[0]!;
      if ((args.stride === undefined) === (args.frames === undefined)) {
        return { code: "VN015", error: "give exactly one of `stride` and `frames`", hint: "`subsample(stride = 8)` or `subsample(frames = 4)`" };
      }
      if (args.frames !== undefined && (args.frames as number) > t)
        return { code: "VN015", arg: "frames", error: `cannot keep ${args.frames} frames of a ${t}-frame clip` };
      const offset = (args.offset as number | undefined) ?? 0;
      if (args.frames === undefined && offset >= t) return { code: "VN015", arg: "offset", error: `offset ${offset} is past the last of ${t} frames` };
      return { shape: [subsampleIndices(t, args).length, ...shape.slice(1)], params: 0, macs: 0 };
    },
  },
  {
    name: "frame",
    category: "temporal",
    doc: "Selects one frame of a clip: [N, T, H, W, C] -> [N, H, W, C] (the spatial stream). `index` is a frame number; without it, the middle frame (T / 2, rounded down).",
    params: [{ name: "index", type: { kind: "int", min: 0 }, default: null, doc: "Frame to keep; defaults to the middle frame." }],
    inputs: 1,
    ranks: [4],
    streamOk: true,
    infer: (inputs, args) => {
      const t = inputs[0]![0]!;
      if (typeof args.index === "number" && args.index >= t)
        return { code: "VN015", arg: "index", error: `frame ${args.index} does not exist in a ${t}-frame clip (0..${t - 1})` };
      return { shape: inputs[0]!.slice(1), params: 0, macs: 0 };
    },
  },
  {
    name: "normalize",
    category: "stream",
    doc: "Per-channel normalisation (x / scale - mean) / std, on a stream.",
    params: [
      { name: "mean", type: { kind: "numbers" }, doc: "Per-channel mean (one value or one per channel)." },
      { name: "std", type: { kind: "numbers" }, doc: "Per-channel standard deviation." },
      { name: "scale", type: { kind: "number", min: 0, exclusiveMin: true }, default: 255, doc: "Divide raw pixel values by this first." },
    ],
    inputs: 1,
    streamOk: true,
    infer: (inputs, args) => {
      const c = inputs[0]![inputs[0]!.length - 1]!;
      for (const key of ["mean", "std"] as const) {
        const v = args[key] as readonly number[];
        if (v.length !== 1 && v.length !== c) return { code: "VN015", arg: key, error: `\`${key}\` has ${v.length} values for ${c} channels` };
        if (key === "std" && v.some((x) => x <= 0)) return { code: "VN015", arg: key, error: "`std` values must be positive" };
      }
      return { shape: inputs[0]!, params: 0, macs: 0 };
    },
  },
  {
    name: "optical_flow",
    category: "stream",
    doc:
      "Dense optical flow of `pairs` consecutive frame pairs (OpenCV Farneback), each a 2-channel displacement field. " +
      "`stack = true` stacks them into channels, [N, H, W, 2*pairs] (the two-stream temporal net); otherwise [N, pairs, H, W, 2].",
    params: [
      { name: "pairs", type: int(), doc: "Number of consecutive frame pairs (L); the clip needs L + 1 frames." },
      { name: "algorithm", type: { kind: "enum", values: ["farneback"] }, default: "farneback", doc: "Flow algorithm." },
      { name: "stack", type: { kind: "bool" }, default: true, doc: "Stack the fields into channels." },
      {
        name: "bound",
        type: { kind: "number", min: 0, exclusiveMin: true },
        default: 20,
        doc: "Displacements are clipped to [-bound, bound] pixels, then scaled to [-1, 1].",
      },
      { name: "pyr_scale", type: { kind: "number", min: 0, max: 1 }, default: 0.5, doc: "Farneback: image scale between pyramid levels." },
      { name: "levels", type: int(), default: 3, doc: "Farneback: pyramid levels." },
      { name: "winsize", type: int(), default: 15, doc: "Farneback: averaging window size." },
      { name: "iterations", type: int(), default: 3, doc: "Farneback: iterations per level." },
      { name: "poly_n", type: int(), default: 5, doc: "Farneback: pixel neighbourhood for the polynomial expansion." },
      { name: "poly_sigma", type: { kind: "number", min: 0, exclusiveMin: true }, default: 1.1, doc: "Farneback: Gaussian sigma of the polynomial expansion." },
    ],
    inputs: 1,
    ranks: [4],
    streamOnly: true,
    infer: (inputs, args) => {
      const [t, h, w] = inputs[0] as [number, number, number, number];
      const pairs = args.pairs as number;
      if (pairs + 1 > t) {
        return {
          code: "VN015",
          arg: "pairs",
          error: `${pairs} flow pairs need ${pairs + 1} frames but the clip has ${t}`,
          hint: `make the input clip at least ${pairs + 1} frames long`,
        };
      }
      return { shape: args.stack === false ? [pairs, h, w, 2] : [h, w, 2 * pairs], params: 0, macs: 0 };
    },
  },
  {
    name: "lstm",
    category: "recurrent",
    doc: "LSTM over a sequence of per-frame features [N, T, F] (CNN+LSTM, Donahue et al.).",
    params: recurrentParams(),
    inputs: 1,
    infer: recurrentInfer("lstm", 4),
  },
  {
    name: "gru",
    category: "recurrent",
    doc: "GRU over a sequence of per-frame features [N, T, F].",
    params: recurrentParams(),
    inputs: 1,
    infer: recurrentInfer("gru", 3),
  },
  {
    name: "conv_lstm",
    category: "recurrent",
    doc: "Convolutional LSTM (Shi et al. 2015): an LSTM whose gates are 2D convolutions, over a sequence of feature maps [N, T, H, W, C].",
    params: convRecurrentParams(),
    inputs: 1,
    infer: convRecurrentInfer("conv_lstm", 4),
  },
  {
    name: "conv_gru",
    category: "recurrent",
    doc: "Convolutional GRU (Ballas et al. 2016): a GRU whose gates are 2D convolutions, over [N, T, H, W, C].",
    params: convRecurrentParams(),
    inputs: 1,
    infer: convRecurrentInfer("conv_gru", 3),
  },
  {
    name: "nonlocal",
    category: "attention",
    doc:
      "Non-local block (Wang et al. 2018): spatio-temporal self-attention with a residual connection, as PySlowFast builds it: " +
      "1x1x1 theta/phi/g convs to `inner` channels (with bias), optional [1,2,2] max pooling of phi and g, attention, 1x1x1 output conv, batch norm, add.",
    params: [
      {
        name: "mode",
        type: { kind: "enum", values: ["embedded_gaussian", "dot", "gaussian"] },
        default: "embedded_gaussian",
        doc: "Pairwise function: softmax of theta.phi (scaled), dot product / positions, or softmax of x.x.",
      },
      { name: "inner", type: int(), default: null, doc: "Bottleneck width (defaults to half the channels)." },
      { name: "subsample", type: { kind: "bool" }, default: true, doc: "Max-pool phi and g by [1, 2, 2]." },
    ],
    inputs: 1,
    ranks: [4],
    infer: (inputs, args) => {
      const [t, h, w, c] = inputs[0] as [number, number, number, number];
      if (args.subsample !== false && (h < 2 || w < 2)) {
        return {
          code: "VN025",
          arg: "subsample",
          error: `\`nonlocal\` max-pools phi and g by [1, 2, 2], which empties a ${h}x${w} map`,
          hint: "use `subsample = false` on maps smaller than 2x2, or insert the block earlier in the network",
        };
      }
      const inner = (args.inner as number | undefined) ?? Math.floor(c / 2);
      const projections = args.mode === "gaussian" ? 1 : 3;
      const params = projections * (c * inner + inner) + (inner * c + c) + 2 * c;
      const positions = t * h * w;
      const keys = args.subsample === false ? positions : product(resolveWindow(inputs[0]!, { kernel: [1, 2, 2] }, 3, true).out);
      const macs =
        positions * c * inner * (projections === 3 ? 1 : 0) +
        keys * c * inner * (projections === 3 ? 2 : 1) +
        positions * keys * inner * 2 +
        positions * inner * c;
      return { shape: inputs[0]!, params, state: 2 * c, macs };
    },
  },
  {
    name: "lateral",
    category: "fusion",
    doc:
      "SlowFast lateral connection (Feichtenhofer et al. 2019): `[slow, fast] -> lateral(alpha = 8)`. A [kernel, 1, 1] conv with temporal stride alpha " +
      "takes the fast pathway to `ratio` x its channels, then batch norm and ReLU; the result is concatenated to (or added to) the slow pathway.",
    params: [
      { name: "alpha", type: int(), doc: "Frame-rate ratio between the fast and the slow pathway." },
      { name: "ratio", type: int(), default: 2, doc: "Output channels of the lateral conv as a multiple of the fast channels." },
      { name: "kernel", type: int(), default: 5, doc: "Temporal kernel of the lateral conv." },
      { name: "fuse", type: { kind: "enum", values: ["concat", "sum"] }, default: "concat", doc: "Join to the slow pathway by concatenation or sum." },
    ],
    inputs: 2,
    ranks: [4],
    infer: (inputs, args) => {
      const [slow, fast] = inputs as [Shape, Shape];
      const alpha = args.alpha as number;
      const k = args.kernel as number;
      const cf = fast[3]!;
      const out = cf * (args.ratio as number);
      // The lateral conv's output frames (its MACs); the checks below make it the slow pathway's.
      const t = resolveWindow(fast, { kernel: [k, 1, 1], stride: [alpha, 1, 1], pad: [Math.floor(k / 2), 0, 0] }, 3, false).out[0]!;
      if (fast[0]! !== slow[0]! * alpha) {
        return {
          code: "VN023",
          arg: "alpha",
          error: `fast pathway has ${fast[0]} frames and slow has ${slow[0]}: their ratio is ${+(fast[0]! / slow[0]!).toFixed(3)}, not alpha = ${alpha}`,
          hint: `sample the slow stream at ${alpha}x the fast stream's stride, or set alpha = ${fast[0]! / slow[0]!}`,
        };
      }
      if (fast[1] !== slow[1] || fast[2] !== slow[2]) {
        return { code: "VN020", error: `lateral needs equal spatial sizes: slow is ${formatShape(slow)}, fast is ${formatShape(fast)}` };
      }
      if (args.fuse === "sum" && slow[3] !== out) {
        return { code: "VN020", arg: "fuse", error: `sum fusion needs slow channels (${slow[3]}) = ratio x fast channels (${out})` };
      }
      const shape = [slow[0]!, slow[1]!, slow[2]!, args.fuse === "sum" ? slow[3]! : slow[3]! + out];
      return { shape, params: k * cf * out + 2 * out, state: 2 * out, macs: t * slow[1]! * slow[2]! * out * k * cf };
    },
  },
  {
    name: "score_fusion",
    category: "fusion",
    doc:
      "Two-stream fusion of class scores: `[spatial, temporal] -> score_fusion`. Averages the streams' softmax scores (or logits). " +
      '`train = "separate"` trains each stream on its own loss, as Simonyan & Zisserman did; "joint" trains through the average.',
    params: [
      { name: "average", type: { kind: "enum", values: ["softmax", "logits"] }, default: "softmax", doc: "Average probabilities or raw scores." },
      { name: "train", type: { kind: "enum", values: ["separate", "joint"] }, default: "separate", doc: "Train the streams separately or jointly." },
      { name: "weights", type: { kind: "numbers" }, default: null, doc: "Per-stream weights (default equal)." },
    ],
    inputs: "many",
    ranks: [1],
    infer: (inputs, args) => {
      const bad = sameShapes("score_fusion", inputs);
      if (bad) return { ...bad, hint: "every stream must end in a classifier of the same width" };
      const weights = args.weights as readonly number[] | undefined;
      if (weights && weights.length !== inputs.length)
        return { code: "VN015", arg: "weights", error: `${weights.length} weights for ${inputs.length} streams` };
      return { shape: inputs[0]!, params: 0, macs: 0 };
    },
  },
];

/** torchvision's Conv2Plus1D middle width: keeps the parameter count of a full t x k x k conv. */
export function midplanes(cin: number, filters: number, kt: number, k: number): number {
  return Math.floor((cin * filters * kt * k * k) / (cin * k * k + kt * filters));
}

export const OPERATORS: ReadonlyMap<string, OpDef> = new Map(OPS.map((op) => [op.name, op]));

/** Functions usable in expressions (pure arithmetic), with their docs. */
export const FUNCTIONS: ReadonlyMap<string, { doc: string; arity: [number, number] }> = new Map([
  ["floor", { doc: "Round down.", arity: [1, 1] as [number, number] }],
  ["ceil", { doc: "Round up.", arity: [1, 1] as [number, number] }],
  ["round", { doc: "Round to the nearest integer.", arity: [1, 1] as [number, number] }],
  ["abs", { doc: "Absolute value.", arity: [1, 1] as [number, number] }],
  ["min", { doc: "Smallest argument (or element of one list).", arity: [1, 16] as [number, number] }],
  ["max", { doc: "Largest argument (or element of one list).", arity: [1, 16] as [number, number] }],
  ["len", { doc: "Length of a list.", arity: [1, 1] as [number, number] }],
  ["sum", { doc: "Sum of a list.", arity: [1, 1] as [number, number] }],
  ["clip", { doc: "The video input: `clip(frames = 16, size = 112, channels = 3)`; size is one int or [h, w].", arity: [0, 3] as [number, number] }],
  ["image", { doc: "An image input (2D networks, inflation sources): `image(size = 224, channels = 3)`.", arity: [0, 2] as [number, number] }],
  [
    "boxes",
    {
      doc: "Person boxes [K, 5] for a detector's `roi_align`: each row a clip's index in the batch and x1, y1, x2, y2 in the clip's pixels. K is the number of boxes in the batch, not N.",
      arity: [0, 0] as [number, number],
    },
  ],
  [
    "sequence",
    {
      doc: "A feature-sequence input [N, T, F] (localizers over snippet features): `sequence(length = 100, features = 400)`; `.frames` is its length, `.channels` its features.",
      arity: [0, 2] as [number, number],
    },
  ],
]);
