/**
 * The table of vector-Jacobian products: one rule per ONNX primitive that vnet's forward graphs
 * (inference emitters plus the training-mode overrides) contain. A rule sees the forward node and
 * the cotangents of its outputs and adds nodes computing the cotangent of each input that needs one,
 * in standard ONNX operators. Rules keep to tensors the forward pass already has (outputs rather
 * than inputs where either serves, so that activations can be freed early) and to static shapes.
 * An operator without a rule cannot be trained through; `differentiate` reports it.
 */
import { attr } from "../builder.js";
import { convConfig, emitConvBiasGradient, emitConvInputGradient, emitConvWeightGradient } from "./conv-gradient.js";
import { sliceRange } from "./shapes.js";
import type { NodeView, Shape, Tape } from "./tape.js";

export interface VjpContext {
  readonly tape: Tape;
  readonly node: NodeView;
  /** Cotangents of the node's outputs (undefined where an output has none). */
  readonly dy: readonly (string | undefined)[];
  /** Whether input `i` needs a cotangent. */
  needs(i: number): boolean;
  /** Name of a backward tensor of this node. */
  name(part: string): string;
  /** Output `i` of the forward node, added to it when it does not produce it yet (MaxPool's indices). */
  forwardOutput(i: number): string;
}

/** Cotangents of the node's inputs, in input order (undefined where none is needed or it is zero). */
export type VjpRule = (ctx: VjpContext) => readonly (string | undefined)[];

const product = (values: readonly number[]) => values.reduce((a, b) => a * b, 1);
const normalizeAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

function input(ctx: VjpContext, i: number): string {
  return ctx.node.inputs[i]!;
}

function shapeOf(ctx: VjpContext, i: number): Shape {
  return ctx.tape.shape(input(ctx, i));
}

function output(ctx: VjpContext, i = 0): string {
  return ctx.node.outputs[i]!;
}

function grad(ctx: VjpContext): string {
  const g = ctx.dy[0];
  if (!g) throw new Error(`internal: ${ctx.node.name} has no output cotangent`);
  return g;
}

/** `g` summed to the shape of input `i` (undoing broadcasting), or undefined when `i` needs none. */
function toInput(ctx: VjpContext, i: number, g: () => string, part: string): string | undefined {
  if (!ctx.needs(i)) return undefined;
  return ctx.tape.unbroadcast(g(), shapeOf(ctx, i), ctx.name(part));
}

/** The shape of a reduction's output with the reduced axes kept as size 1. */
function keptShape(x: Shape, axes: readonly number[]): number[] {
  const normalized = axes.map((a) => normalizeAxis(a, x.length));
  return x.map((d, i) => (normalized.includes(i) ? 1 : d));
}

/** Rules of unary elementwise operators, from the cotangent, the input and the output. */
function unary(f: (ctx: VjpContext, g: string, x: string, y: string) => string): VjpRule {
  return (ctx) => [ctx.needs(0) ? f(ctx, grad(ctx), input(ctx, 0), output(ctx)) : undefined];
}

/** A reduction's cotangent broadcast back over the reduced axes, times `scale`. */
function spread(ctx: VjpContext, axes: readonly number[], keepdims: boolean, scale: number): string {
  const t = ctx.tape;
  const x = shapeOf(ctx, 0);
  const kept = keptShape(x, axes);
  let g = grad(ctx);
  if (!keepdims) g = t.reshape(g, kept, ctx.name("kept"));
  if (scale !== 1) g = t.mul(g, t.scalar(scale), ctx.name("scaled"));
  return t.expand(g, x, ctx.name("spread"));
}

function reductionAxes(ctx: VjpContext, fromInput: boolean): number[] {
  const x = shapeOf(ctx, 0);
  const axes = fromInput ? ctx.tape.ints(ctx.node.inputs[1]) : (ctx.node.attrs.axes as readonly number[] | undefined);
  return (axes ?? x.map((_, i) => i)).map((a) => normalizeAxis(a, x.length));
}

const keepdimsOf = (node: NodeView) => (node.attrs.keepdims ?? 1) === 1;

/** Per output position of a pool, how many input (not padding) positions its window covers. */
function poolCounts(
  xSpatial: Shape,
  ySpatial: Shape,
  kernel: readonly number[],
  strides: readonly number[],
  before: readonly number[],
  includePad: boolean,
): Float32Array {
  const perAxis = ySpatial.map((size, axis) =>
    Array.from({ length: size }, (_, o) => {
      if (includePad) return kernel[axis]!;
      const start = o * strides[axis]! - before[axis]!;
      return Math.min(start + kernel[axis]!, xSpatial[axis]!) - Math.max(start, 0);
    }),
  );
  const counts = new Float32Array(product(ySpatial));
  counts.forEach((_, flat) => {
    let rest = flat;
    let inverse = 1;
    for (let axis = ySpatial.length - 1; axis >= 0; axis--) {
      inverse /= perAxis[axis]![rest % ySpatial[axis]!]!;
      rest = Math.floor(rest / ySpatial[axis]!);
    }
    counts[flat] = inverse;
  });
  return counts;
}

/** Transposes the last two axes. */
function swapLast(t: Tape, x: string, base: string): string {
  const rank = t.shape(x).length;
  return t.transpose(x, [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2], base);
}

/** Slices [start, end) of axis `axis`. */
function sliceAxis(t: Tape, x: string, axis: number, start: number, end: number, base: string): string {
  if (start === 0 && end === t.shape(x)[axis]) return x;
  return t.op("Slice", [x, t.intList(`${base}/starts`, [start]), t.intList(`${base}/ends`, [end]), t.intList(`${base}/axes`, [axis])], base);
}

/** Zero pads before and after one axis. */
function padAxis(t: Tape, x: string, axis: number, before: number, after: number, base: string): string {
  if (before === 0 && after === 0) return x;
  const rank = t.shape(x).length;
  const pads = new Array<number>(2 * rank).fill(0);
  pads[axis] = before;
  pads[rank + axis] = after;
  return t.op("Pad", [x, t.intList(`${base}/pads`, pads)], base, { mode: attr.string("constant") });
}

/** Concat along `axis`, or the one piece. */
function concat(t: Tape, pieces: readonly string[], axis: number, base: string): string {
  return pieces.length === 1 ? pieces[0]! : t.op("Concat", pieces, base, { axis: attr.int(axis) });
}

/** Elementwise Max / Min: the cotangent goes to the input that won (to the first where they tie, as tfjs's maximum). */
function extremum(firstWins: "GreaterOrEqual" | "LessOrEqual"): VjpRule {
  return (ctx) => {
    const t = ctx.tape;
    if (ctx.node.inputs.length !== 2) throw new Error(`internal: the ${ctx.node.op} VJP takes two inputs (${ctx.node.name})`);
    const first = t.op(firstWins, [input(ctx, 0), input(ctx, 1)], ctx.name("first_wins"));
    const zero = t.scalar(0);
    return [
      toInput(ctx, 0, () => t.op("Where", [first, grad(ctx), zero], ctx.name("ga")), "da"),
      toInput(ctx, 1, () => t.op("Where", [first, zero, grad(ctx)], ctx.name("gb")), "db"),
    ];
  };
}

/** Conv: the formulations of conv-gradient.ts, each the fastest measured for the Conv's configuration. */
const conv: VjpRule = (ctx) => {
  const t = ctx.tape;
  const g = grad(ctx);
  const a = ctx.node.attrs;
  const config = convConfig(
    {
      ...(a.kernel_shape ? { kernel_shape: a.kernel_shape as readonly number[] } : {}),
      ...(a.strides ? { strides: a.strides as readonly number[] } : {}),
      ...(a.dilations ? { dilations: a.dilations as readonly number[] } : {}),
      ...(a.pads ? { pads: a.pads as readonly number[] } : {}),
      ...(a.group !== undefined ? { group: a.group as number } : {}),
    },
    shapeOf(ctx, 0),
    shapeOf(ctx, 1),
  );
  // The formulations add nodes to the graph itself; the tape then infers their shapes.
  const traced = (emit: () => string) => {
    const name = emit();
    t.sync();
    return name;
  };
  return [
    ctx.needs(0) ? traced(() => emitConvInputGradient(t.graph, config, g, input(ctx, 1), ctx.name("dx"))) : undefined,
    ctx.needs(1) ? traced(() => emitConvWeightGradient(t.graph, config, input(ctx, 0), g, ctx.name("dw"))) : undefined,
    ctx.node.inputs[2] && ctx.needs(2) ? traced(() => emitConvBiasGradient(t.graph, config, g, ctx.name("db"))) : undefined,
  ];
};

const maxPool: VjpRule = (ctx) => {
  if (!ctx.needs(0)) return [undefined];
  const t = ctx.tape;
  const x = shapeOf(ctx, 0);
  // ONNX Runtime's indices are flat over the whole input tensor; windows that overlap add up.
  const indices = ctx.forwardOutput(1);
  const flatIndices = t.reshape(indices, [t.size(indices)], ctx.name("indices"));
  const flatGrad = t.reshape(grad(ctx), [t.size(grad(ctx))], ctx.name("flat"));
  const zeros = t.zeros([product(x)], ctx.name("zeros"));
  const scattered = t.op("ScatterElements", [zeros, flatIndices, flatGrad], ctx.name("scatter"), { axis: attr.int(0), reduction: attr.string("add") });
  return [t.reshape(scattered, x, ctx.name("dx"))];
};

const averagePool: VjpRule = (ctx) => {
  if (!ctx.needs(0)) return [undefined];
  const t = ctx.tape;
  const x = shapeOf(ctx, 0);
  const g = grad(ctx);
  const y = t.shape(g);
  const kernel = ctx.node.attrs.kernel_shape as readonly number[];
  const dims = kernel.length;
  const strides = (ctx.node.attrs.strides as readonly number[] | undefined) ?? kernel.map(() => 1);
  const pads = (ctx.node.attrs.pads as readonly number[] | undefined) ?? new Array<number>(2 * dims).fill(0);
  const before = pads.slice(0, dims);
  const after = pads.slice(dims);
  const counts = poolCounts(x.slice(2), y.slice(2), kernel, strides, before, ctx.node.attrs.count_include_pad === 1);
  const scaled = t.mul(g, t.graph.floatConstant(ctx.name("inverse_counts"), y.slice(2), counts), ctx.name("scaled"));
  // Each channel spreads its scaled cotangent over its windows: a ConvTranspose with a kernel of ones, per channel.
  const planes = t.reshape(scaled, [x[0]! * x[1]!, 1, ...y.slice(2)], ctx.name("planes"));
  const ones = t.graph.floatConstant(ctx.name("ones"), [1, 1, ...kernel], new Float32Array(product(kernel)).fill(1));
  const outputPadding = kernel.map((k, i) => x[2 + i]! - (strides[i]! * (y[2 + i]! - 1) + k - before[i]! - after[i]!));
  const spread = t.op("ConvTranspose", [planes, ones], ctx.name("spread"), {
    strides: attr.ints(strides),
    pads: attr.ints(pads),
    kernel_shape: attr.ints(kernel),
    output_padding: attr.ints(outputPadding),
  });
  return [t.reshape(spread, x, ctx.name("dx"))];
};

/** BatchNormalization in inference form (running statistics): y = (x - mean) / sqrt(var + eps) * scale + b. */
const batchNormalization: VjpRule = (ctx) => {
  const t = ctx.tape;
  const g = grad(ctx);
  const x = shapeOf(ctx, 0);
  const channels = [1, x[1]!, ...x.slice(2).map(() => 1)];
  const axes = x.map((_, i) => i).filter((i) => i !== 1);
  const eps = (ctx.node.attrs.epsilon as number | undefined) ?? 1e-5;
  const inverseStd = t.op("Reciprocal", [t.op("Sqrt", [t.add(input(ctx, 4), t.scalar(eps), ctx.name("var_eps"))], ctx.name("std"))], ctx.name("inverse_std"));
  const perChannel = (v: string, part: string) => t.reshape(v, channels, ctx.name(part));
  const dx = ctx.needs(0) ? t.mul(g, perChannel(t.mul(input(ctx, 1), inverseStd, ctx.name("factor")), "factor_c"), ctx.name("dx")) : undefined;
  const centred = () => t.op("Sub", [input(ctx, 0), perChannel(input(ctx, 3), "mean_c")], ctx.name("centred"));
  const dScale = ctx.needs(1)
    ? t.reduceSum(
        t.mul(g, t.mul(centred(), perChannel(inverseStd, "inverse_std_c"), ctx.name("normalized")), ctx.name("g_normalized")),
        axes,
        false,
        ctx.name("dscale"),
      )
    : undefined;
  const dBias = ctx.needs(2) || ctx.needs(3) ? t.reduceSum(g, axes, false, ctx.name("dbias")) : undefined;
  // The statistics are constants in training (running statistics), but the rule is complete.
  const dMean = ctx.needs(3)
    ? t.neg(t.mul(dBias!, t.mul(input(ctx, 1), inverseStd, ctx.name("mean_factor")), ctx.name("dmean_pos")), ctx.name("dmean"))
    : undefined;
  let dVar: string | undefined;
  if (ctx.needs(4)) {
    const gc = t.reduceSum(t.mul(g, centred(), ctx.name("g_centred")), axes, false, ctx.name("g_centred_sum"));
    const cube = t.mul(t.mul(inverseStd, inverseStd, ctx.name("inverse_var")), inverseStd, ctx.name("inverse_std3"));
    dVar = t.mul(t.mul(gc, input(ctx, 1), ctx.name("g_centred_scale")), t.mul(cube, t.scalar(-0.5), ctx.name("var_factor")), ctx.name("dvar"));
  }
  return [dx, dScale, ctx.needs(2) ? dBias : undefined, dMean, dVar];
};

/**
 * LRN over channels of [N, C, H, W]: y = x d^-beta, d = bias + alpha / size * sum over the window
 * of x^2, window [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)]. dx = g d^-beta -
 * (2 alpha beta / size) x W^T(g x d^(-beta - 1)), with the window sums as a banded MatMul over
 * channels-last tensors.
 */
const lrn: VjpRule = (ctx) => {
  if (!ctx.needs(0)) return [undefined];
  const t = ctx.tape;
  const x = shapeOf(ctx, 0);
  if (x.length !== 4) throw new Error(`internal: LRN ${ctx.node.name} is not 4D`);
  const size = ctx.node.attrs.size as number;
  const alpha = (ctx.node.attrs.alpha as number | undefined) ?? 1e-4;
  const beta = (ctx.node.attrs.beta as number | undefined) ?? 0.75;
  const bias = (ctx.node.attrs.bias as number | undefined) ?? 1;
  const c = x[1]!;
  const band = new Float32Array(c * c);
  const transposed = new Float32Array(c * c);
  for (let out = 0; out < c; out++) {
    for (let from = Math.max(0, out - Math.floor((size - 1) / 2)); from <= Math.min(c - 1, out + Math.ceil((size - 1) / 2)); from++) {
      band[from * c + out] = 1;
      transposed[out * c + from] = 1;
    }
  }
  const last = (v: string, part: string) => t.transpose(v, [0, 2, 3, 1], ctx.name(part));
  const xl = last(input(ctx, 0), "x_last");
  const gl = last(grad(ctx), "g_last");
  const sums = t.op("MatMul", [t.mul(xl, xl, ctx.name("square")), t.graph.floatConstant(ctx.name("band"), [c, c], band)], ctx.name("window_sum"));
  const d = t.add(t.mul(sums, t.scalar(alpha / size), ctx.name("scaled")), t.scalar(bias), ctx.name("d"));
  const dPow = t.op("Pow", [d, t.scalar(-beta)], ctx.name("d_pow"));
  const direct = t.mul(gl, dPow, ctx.name("direct"));
  const z = t.op("Div", [t.mul(t.mul(gl, xl, ctx.name("gx")), dPow, ctx.name("gx_pow")), d], ctx.name("z"));
  const back = t.op("MatMul", [z, t.graph.floatConstant(ctx.name("band_t"), [c, c], transposed)], ctx.name("window_back"));
  const through = t.mul(t.mul(xl, back, ctx.name("x_back")), t.scalar((2 * alpha * beta) / size), ctx.name("through"));
  const dxl = t.op("Sub", [direct, through], ctx.name("dx_last"));
  return [t.transpose(dxl, [0, 3, 1, 2], ctx.name("dx"))];
};

const matMul: VjpRule = (ctx) => {
  const t = ctx.tape;
  const g = grad(ctx);
  const [a, b] = [input(ctx, 0), input(ctx, 1)];
  const [as, bs] = [shapeOf(ctx, 0), shapeOf(ctx, 1)];
  const da = ctx.needs(0) ? t.unbroadcast(t.op("MatMul", [g, swapLast(t, b, ctx.name("b_t"))], ctx.name("da_full")), as, ctx.name("da")) : undefined;
  let db: string | undefined;
  if (ctx.needs(1)) {
    if (bs.length === 2 && as.length > 2) {
      // A weight applied over leading axes (a dense layer on sequences): one Gemm over all rows.
      const rows = t.reshape(a, [product(as.slice(0, -1)), as.at(-1)!], ctx.name("a_rows"));
      const gRows = t.reshape(g, [product(as.slice(0, -1)), bs[1]!], ctx.name("g_rows"));
      db = t.op("Gemm", [rows, gRows], ctx.name("db"), { transA: attr.int(1) });
    } else db = t.unbroadcast(t.op("MatMul", [swapLast(t, a, ctx.name("a_t")), g], ctx.name("db_full")), bs, ctx.name("db"));
  }
  return [da, db];
};

/** Gemm: y = alpha A' B' + beta C, A' = transA ? A^T : A, B' likewise. */
const gemm: VjpRule = (ctx) => {
  const t = ctx.tape;
  const g = grad(ctx);
  const [a, b] = [input(ctx, 0), input(ctx, 1)];
  const transA = ctx.node.attrs.transA === 1;
  const transB = ctx.node.attrs.transB === 1;
  const alpha = (ctx.node.attrs.alpha as number | undefined) ?? 1;
  const beta = (ctx.node.attrs.beta as number | undefined) ?? 1;
  const gemmOf = (p: string, q: string, ta: boolean, tb: boolean, part: string) =>
    t.op("Gemm", [p, q], ctx.name(part), { transA: attr.int(ta ? 1 : 0), transB: attr.int(tb ? 1 : 0), alpha: attr.float(alpha) });
  const da = ctx.needs(0) ? (transA ? gemmOf(b, g, transB, true, "da") : gemmOf(g, b, false, !transB, "da")) : undefined;
  const db = ctx.needs(1) ? (transB ? gemmOf(g, a, true, transA, "db") : gemmOf(a, g, !transA, false, "db")) : undefined;
  const dc = ctx.node.inputs[2] ? toInput(ctx, 2, () => (beta === 1 ? g : t.mul(g, t.scalar(beta), ctx.name("g_beta"))), "dc") : undefined;
  return [da, db, dc];
};

const reshapeBack: VjpRule = (ctx) => [ctx.needs(0) ? ctx.tape.reshape(grad(ctx), shapeOf(ctx, 0), ctx.name("dx")) : undefined];

const split: VjpRule = (ctx) => {
  if (!ctx.needs(0)) return [undefined];
  const t = ctx.tape;
  const x = shapeOf(ctx, 0);
  const axis = normalizeAxis((ctx.node.attrs.axis as number | undefined) ?? 0, x.length);
  const pieces = ctx.node.outputs.map((o, i) => ctx.dy[i] ?? t.zeros(t.shape(o), ctx.name(`zeros${i}`)));
  return [concat(t, pieces, axis, ctx.name("dx"))];
};

const concatRule: VjpRule = (ctx) => {
  const t = ctx.tape;
  const g = grad(ctx);
  const shapes = ctx.node.inputs.map((_, i) => shapeOf(ctx, i));
  const axis = normalizeAxis((ctx.node.attrs.axis as number | undefined) ?? 0, shapes[0]!.length);
  const sizes = shapes.map((s) => s[axis]!);
  const parts = t.node(
    "Split",
    [g, t.intList(ctx.name("sizes"), sizes)],
    sizes.map((_, i) => ctx.name(`dx${i}`)),
    { axis: attr.int(axis) },
  );
  return parts.map((p, i) => (ctx.needs(i) ? p : undefined));
};

const slice: VjpRule = (ctx) => {
  if (!ctx.needs(0)) return [undefined];
  const t = ctx.tape;
  const x = shapeOf(ctx, 0);
  const starts = t.ints(ctx.node.inputs[1])!;
  const ends = t.ints(ctx.node.inputs[2])!;
  const axes = (t.ints(ctx.node.inputs[3]) ?? starts.map((_, i) => i)).map((a) => normalizeAxis(a, x.length));
  const steps = t.ints(ctx.node.inputs[4]) ?? starts.map(() => 1);
  if (steps.some((s) => s !== 1)) throw new Error(`internal: the Slice VJP takes unit steps (${ctx.node.name})`);
  const pads = new Array<number>(2 * x.length).fill(0);
  axes.forEach((axis, i) => {
    const [s, e] = sliceRange(x[axis]!, starts[i]!, ends[i]!, 1);
    pads[axis] = s;
    pads[x.length + axis] = x[axis]! - e;
  });
  return [t.op("Pad", [grad(ctx), t.intList(ctx.name("pads"), pads)], ctx.name("dx"), { mode: attr.string("constant") })];
};

/** Gather with constant indices: each input slab gets the cotangent of the outputs that took it. */
const gather: VjpRule = (ctx) => {
  if (!ctx.needs(0)) return [undefined];
  const t = ctx.tape;
  const x = shapeOf(ctx, 0);
  const axis = normalizeAxis((ctx.node.attrs.axis as number | undefined) ?? 0, x.length);
  const size = x[axis]!;
  const values = t.ints(ctx.node.inputs[1]);
  if (!values) throw new Error(`internal: Gather ${ctx.node.name} has non-constant indices`);
  const indices = values.map((v) => (v < 0 ? v + size : v));
  const g = grad(ctx);
  if (t.shape(ctx.node.inputs[1]!).length === 0) {
    const lifted = t.op("Unsqueeze", [g, t.intList(ctx.name("axis"), [axis])], ctx.name("lifted"));
    return [padAxis(t, lifted, axis, indices[0]!, size - 1 - indices[0]!, ctx.name("dx"))];
  }
  const slabShape = (length: number) => x.map((d, i) => (i === axis ? length : d));
  const pieces: string[] = [];
  let zeros = 0;
  const flushZeros = () => {
    if (zeros > 0) pieces.push(t.zeros(slabShape(zeros), ctx.name(`zeros${pieces.length}`)));
    zeros = 0;
  };
  for (let position = 0; position < size; ) {
    const takers = indices.flatMap((v, k) => (v === position ? [k] : []));
    if (takers.length === 0) {
      zeros++;
      position++;
      continue;
    }
    flushZeros();
    if (takers.length > 1) {
      const parts = takers.map((k) => sliceAxis(t, g, axis, k, k + 1, ctx.name(`take${position}_${k}`)));
      pieces.push(t.op("Sum", parts, ctx.name(`slab${position}`)));
      position++;
      continue;
    }
    // A run of positions each taken once, by consecutive outputs: one slice.
    const first = takers[0]!;
    let length = 1;
    while (
      position + length < size &&
      first + length < indices.length &&
      indices[first + length] === position + length &&
      indices.filter((v) => v === position + length).length === 1
    )
      length++;
    pieces.push(sliceAxis(t, g, axis, first, first + length, ctx.name(`run${position}`)));
    position += length;
  }
  flushZeros();
  return [concat(t, pieces, axis, ctx.name("dx"))];
};

const pad: VjpRule = (ctx) => {
  if (!ctx.needs(0)) return [undefined];
  const t = ctx.tape;
  const x = shapeOf(ctx, 0);
  const pads = t.ints(ctx.node.inputs[1])!;
  if (pads.some((p) => p < 0)) throw new Error(`internal: the Pad VJP takes non-negative pads (${ctx.node.name})`);
  const starts = x.map((_, i) => pads[i]!);
  const ends = x.map((d, i) => pads[i]! + d);
  const axes = x.map((_, i) => i);
  return [
    t.op("Slice", [grad(ctx), t.intList(ctx.name("starts"), starts), t.intList(ctx.name("ends"), ends), t.intList(ctx.name("axes"), axes)], ctx.name("dx")),
  ];
};

const softmax: VjpRule = (ctx) => {
  if (!ctx.needs(0)) return [undefined];
  const t = ctx.tape;
  const y = output(ctx);
  const axis = normalizeAxis((ctx.node.attrs.axis as number | undefined) ?? -1, t.shape(y).length);
  const g = grad(ctx);
  const dot = t.reduceSum(t.mul(g, y, ctx.name("gy")), [axis], true, ctx.name("dot"));
  return [t.mul(y, t.op("Sub", [g, dot], ctx.name("centred")), ctx.name("dx"))];
};

const logSoftmax: VjpRule = (ctx) => {
  if (!ctx.needs(0)) return [undefined];
  const t = ctx.tape;
  const y = output(ctx);
  const axis = normalizeAxis((ctx.node.attrs.axis as number | undefined) ?? -1, t.shape(y).length);
  const g = grad(ctx);
  const total = t.reduceSum(g, [axis], true, ctx.name("total"));
  return [t.op("Sub", [g, t.mul(t.op("Exp", [y], ctx.name("probabilities")), total, ctx.name("spread"))], ctx.name("dx"))];
};

const VJP_RULES: Readonly<Record<string, VjpRule>> = {
  Identity: (ctx) => [ctx.needs(0) ? grad(ctx) : undefined],
  Neg: unary((ctx, g) => ctx.tape.neg(g, ctx.name("dx"))),
  Relu: unary((ctx, g, _x, y) =>
    ctx.tape.op("Where", [ctx.tape.op("Greater", [y, ctx.tape.scalar(0)], ctx.name("active")), g, ctx.tape.scalar(0)], ctx.name("dx")),
  ),
  Sigmoid: unary((ctx, g, _x, y) => {
    const t = ctx.tape;
    return t.mul(g, t.mul(y, t.op("Sub", [t.scalar(1), y], ctx.name("one_minus_y")), ctx.name("slope")), ctx.name("dx"));
  }),
  Tanh: unary((ctx, g, _x, y) => {
    const t = ctx.tape;
    return t.mul(g, t.op("Sub", [t.scalar(1), t.mul(y, y, ctx.name("y2"))], ctx.name("slope")), ctx.name("dx"));
  }),
  Exp: unary((ctx, g, _x, y) => ctx.tape.mul(g, y, ctx.name("dx"))),
  // d softplus(x) / dx = sigmoid(x), from the input: 1 - exp(-y) loses every digit where y is tiny.
  Softplus: unary((ctx, g, x) => ctx.tape.mul(g, ctx.tape.op("Sigmoid", [x], ctx.name("slope")), ctx.name("dx"))),
  Log: unary((ctx, g, x) => ctx.tape.op("Div", [g, x], ctx.name("dx"))),
  Sqrt: unary((ctx, g, _x, y) => ctx.tape.mul(ctx.tape.op("Div", [g, y], ctx.name("g_y")), ctx.tape.scalar(0.5), ctx.name("dx"))),
  Reciprocal: unary((ctx, g, _x, y) => ctx.tape.neg(ctx.tape.mul(g, ctx.tape.mul(y, y, ctx.name("y2")), ctx.name("gy2")), ctx.name("dx"))),
  Add: (ctx) => [toInput(ctx, 0, () => grad(ctx), "da"), toInput(ctx, 1, () => grad(ctx), "db")],
  Sub: (ctx) => {
    const db = toInput(ctx, 1, () => grad(ctx), "db_pos");
    return [toInput(ctx, 0, () => grad(ctx), "da"), db && ctx.tape.neg(db, ctx.name("db"))];
  },
  Mul: (ctx) => [
    toInput(ctx, 0, () => ctx.tape.mul(grad(ctx), input(ctx, 1), ctx.name("gb")), "da"),
    toInput(ctx, 1, () => ctx.tape.mul(grad(ctx), input(ctx, 0), ctx.name("ga")), "db"),
  ],
  Div: (ctx) => {
    const t = ctx.tape;
    return [
      toInput(ctx, 0, () => t.op("Div", [grad(ctx), input(ctx, 1)], ctx.name("g_b")), "da"),
      toInput(ctx, 1, () => t.neg(t.op("Div", [t.mul(grad(ctx), output(ctx), ctx.name("gy")), input(ctx, 1)], ctx.name("gy_b")), ctx.name("neg")), "db"),
    ];
  },
  Pow: (ctx) => {
    const t = ctx.tape;
    return [
      toInput(
        ctx,
        0,
        () =>
          t.mul(
            t.mul(grad(ctx), input(ctx, 1), ctx.name("g_exponent")),
            t.op("Pow", [input(ctx, 0), t.op("Sub", [input(ctx, 1), t.scalar(1)], ctx.name("exponent_1"))], ctx.name("power")),
            ctx.name("ga"),
          ),
        "da",
      ),
      toInput(ctx, 1, () => t.mul(t.mul(grad(ctx), output(ctx), ctx.name("gy")), t.op("Log", [input(ctx, 0)], ctx.name("log_base")), ctx.name("gb")), "db"),
    ];
  },
  Sum: (ctx) => ctx.node.inputs.map((_, i) => toInput(ctx, i, () => grad(ctx), `d${i}`)),
  Max: extremum("GreaterOrEqual"),
  Min: extremum("LessOrEqual"),
  HardSigmoid: unary((ctx, g, x) => {
    // y = clip(alpha x + beta, 0, 1): slope alpha strictly inside the band, 0 outside.
    const t = ctx.tape;
    const alpha = (ctx.node.attrs.alpha as number | undefined) ?? 0.2;
    const beta = (ctx.node.attrs.beta as number | undefined) ?? 0.5;
    const z = t.add(t.mul(x, t.scalar(alpha), ctx.name("scaled")), t.scalar(beta), ctx.name("z"));
    const inside = t.op("And", [t.op("Greater", [z, t.scalar(0)], ctx.name("above")), t.op("Less", [z, t.scalar(1)], ctx.name("below"))], ctx.name("inside"));
    return t.op("Where", [inside, t.mul(g, t.scalar(alpha), ctx.name("g_alpha")), t.scalar(0)], ctx.name("dx"));
  }),
  Erf: unary((ctx, g, x) => {
    const t = ctx.tape;
    const gaussian = t.op("Exp", [t.neg(t.mul(x, x, ctx.name("x2")), ctx.name("minus_x2"))], ctx.name("gaussian"));
    return t.mul(g, t.mul(gaussian, t.scalar(2 / Math.sqrt(Math.PI)), ctx.name("slope")), ctx.name("dx"));
  }),
  Where: (ctx) => {
    const t = ctx.tape;
    const zero = t.scalar(0);
    return [
      undefined,
      toInput(ctx, 1, () => t.op("Where", [input(ctx, 0), grad(ctx), zero], ctx.name("ga")), "da"),
      toInput(ctx, 2, () => t.op("Where", [input(ctx, 0), zero, grad(ctx)], ctx.name("gb")), "db"),
    ];
  },
  Expand: (ctx) => [toInput(ctx, 0, () => grad(ctx), "dx"), undefined],
  Conv: conv,
  MaxPool: maxPool,
  AveragePool: averagePool,
  BatchNormalization: batchNormalization,
  LRN: lrn,
  ReduceMean: (ctx) => {
    if (!ctx.needs(0)) return [undefined];
    const axes = reductionAxes(ctx, false);
    const count = product(axes.map((a) => shapeOf(ctx, 0)[a]!));
    return [spread(ctx, axes, keepdimsOf(ctx.node), 1 / count)];
  },
  ReduceSum: (ctx) => [ctx.needs(0) ? spread(ctx, reductionAxes(ctx, true), keepdimsOf(ctx.node), 1) : undefined, undefined],
  ReduceMax: (ctx) => {
    if (!ctx.needs(0)) return [undefined];
    const t = ctx.tape;
    const x = shapeOf(ctx, 0);
    const kept = keptShape(x, reductionAxes(ctx, false));
    // Like tfjs's gradient of max: every position equal to the maximum gets the cotangent.
    const maximum = t.reshape(output(ctx), kept, ctx.name("max_kept"));
    const mask = t.op("Cast", [t.op("Equal", [input(ctx, 0), maximum], ctx.name("is_max"))], ctx.name("mask"), { to: attr.int(1) });
    return [t.mul(mask, t.reshape(grad(ctx), kept, ctx.name("g_kept")), ctx.name("dx"))];
  },
  MatMul: matMul,
  Gemm: gemm,
  Reshape: (ctx) => [...reshapeBack(ctx), undefined],
  Flatten: reshapeBack,
  Squeeze: (ctx) => [...reshapeBack(ctx), undefined],
  Unsqueeze: (ctx) => [...reshapeBack(ctx), undefined],
  Transpose: (ctx) => {
    if (!ctx.needs(0)) return [undefined];
    const perm = (ctx.node.attrs.perm as readonly number[] | undefined) ?? shapeOf(ctx, 0).map((_, i, s) => s.length - 1 - i);
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [ctx.tape.transpose(grad(ctx), inverse, ctx.name("dx"))];
  },
  Concat: concatRule,
  Split: (ctx) => [...split(ctx), undefined],
  Slice: (ctx) => [...slice(ctx), undefined, undefined, undefined, undefined],
  Gather: (ctx) => [...gather(ctx), undefined],
  Pad: (ctx) => [...pad(ctx), undefined, undefined],
  Softmax: softmax,
  LogSoftmax: logSoftmax,
};

/** Operators whose outputs carry no gradient (integer or boolean results, shapes). */
export const NON_DIFFERENTIABLE: ReadonlySet<string> = new Set([
  "ArgMax",
  "Equal",
  "Greater",
  "GreaterOrEqual",
  "Less",
  "LessOrEqual",
  "Not",
  "And",
  "Shape",
  "ConstantOfShape",
  "Cast",
]);

/** The VJP rule of an ONNX operator, or undefined when none exists. */
export function vjpRule(op: string): VjpRule | undefined {
  return Object.hasOwn(VJP_RULES, op) ? VJP_RULES[op] : undefined;
}

/** Operators with a VJP rule (for documentation and tests). */
export const DIFFERENTIABLE_OPS: readonly string[] = Object.keys(VJP_RULES);

/** Outputs of an operator that carry a gradient (MaxPool's indices do not). */
export function differentiableOutputs(node: NodeView): readonly string[] {
  if (NON_DIFFERENTIABLE.has(node.op)) return [];
  if (node.op === "MaxPool") return node.outputs.slice(0, 1);
  return node.outputs.filter((o) => o !== "");
}
