/**
 * Static shape inference for the ONNX operators (opset 17) that vnet's forward emitters and the
 * backward pass use: one rule per operator, from the input shapes, the attributes and the values
 * of constant inputs (shapes, axes, pads, indices). An operator without a rule gives no shapes,
 * which only matters if a gradient has to flow through it.
 */
import type { AttrValue, NodeView, Shape } from "./tape.js";
import { broadcastShapes as catalogueBroadcast } from "../../../ops/catalogue.js";

/** Two shapes broadcast NumPy-style (the catalogue's rule); shapes that do not broadcast are a bug in the rule asking. */
function broadcastShapes(a: Shape, b: Shape): number[] {
  const out = catalogueBroadcast([a, b]);
  if (!out) throw new Error(`internal: shapes [${a.join(", ")}] and [${b.join(", ")}] do not broadcast`);
  return [...out];
}

type ShapeRule = (
  inputs: readonly (Shape | undefined)[],
  attrs: Readonly<Record<string, AttrValue>>,
  constant: (i: number) => number[] | undefined,
  node: NodeView,
) => (Shape | undefined)[];

const num = (attrs: Readonly<Record<string, AttrValue>>, key: string, fallback: number): number =>
  attrs[key] === undefined ? fallback : (attrs[key] as number);
const list = (attrs: Readonly<Record<string, AttrValue>>, key: string): readonly number[] | undefined => attrs[key] as readonly number[] | undefined;
const product = (values: readonly number[]) => values.reduce((a, b) => a * b, 1);
const normalizeAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

const same: ShapeRule = (inputs) => [inputs[0]];

function broadcastAll(inputs: readonly (Shape | undefined)[]): Shape | undefined {
  if (inputs.some((s) => !s)) return undefined;
  return (inputs as Shape[]).reduce((a, b) => broadcastShapes(a, b));
}

const broadcast: ShapeRule = (inputs) => [broadcastAll(inputs)];

/** Output size of a window over `size` (ONNX's floor rule). */
function windowOut(size: number, kernel: number, stride: number, dilation: number, before: number, after: number): number {
  return Math.floor((size + before + after - (dilation * (kernel - 1) + 1)) / stride) + 1;
}

function windowShape(x: Shape, kernel: readonly number[], attrs: Readonly<Record<string, AttrValue>>, channels: number): Shape {
  const dims = kernel.length;
  const strides = list(attrs, "strides") ?? new Array<number>(dims).fill(1);
  const dilations = list(attrs, "dilations") ?? new Array<number>(dims).fill(1);
  const pads = list(attrs, "pads") ?? new Array<number>(2 * dims).fill(0);
  const spatial = kernel.map((k, i) => windowOut(x[2 + i]!, k, strides[i]!, dilations[i]!, pads[i]!, pads[dims + i]!));
  return [x[0]!, channels, ...spatial];
}

function reduced(x: Shape, axes: readonly number[], keepdims: boolean): Shape {
  const normalized = axes.map((a) => normalizeAxis(a, x.length));
  if (keepdims) return x.map((d, i) => (normalized.includes(i) ? 1 : d));
  return x.filter((_, i) => !normalized.includes(i));
}

const reduceWithAttribute: ShapeRule = (inputs, attrs) => {
  const x = inputs[0];
  if (!x) return [undefined];
  const axes = list(attrs, "axes") ?? x.map((_, i) => i);
  return [reduced(x, axes, num(attrs, "keepdims", 1) === 1)];
};

const reduceWithInput: ShapeRule = (inputs, attrs, constant) => {
  const x = inputs[0];
  if (!x) return [undefined];
  const axes = constant(1) ?? x.map((_, i) => i);
  return [reduced(x, axes, num(attrs, "keepdims", 1) === 1)];
};

function matmulShape(a: Shape, b: Shape): Shape {
  if (a.length < 2 || b.length < 2) throw new Error("internal: MatMul of a vector is not used by vnet");
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
  return [...batch, a[a.length - 2]!, b[b.length - 1]!];
}

function reshapeShape(x: Shape, target: readonly number[]): Shape {
  const out = target.map((d, i) => (d === 0 ? x[i]! : d));
  const unknown = out.indexOf(-1);
  if (unknown >= 0) {
    const known = product(out.filter((d) => d !== -1));
    out[unknown] = product(x) / known;
  }
  return out;
}

/** Start and end of a slice on one axis of size `size`, clamped as ONNX clamps them (positive steps). */
export function sliceRange(size: number, start: number, end: number, step: number): [number, number] {
  const clamp = (v: number, low: number, high: number) => Math.min(Math.max(v, low), high);
  const s = start < 0 ? start + size : start;
  const e = end < 0 ? end + size : end;
  if (step > 0) return [clamp(s, 0, size), clamp(e, 0, size)];
  return [clamp(s, -1, size - 1), clamp(e, -1, size - 1)];
}

const RULES: Readonly<Record<string, ShapeRule>> = {
  Identity: same,
  Relu: same,
  Sigmoid: same,
  Tanh: same,
  Exp: same,
  Softplus: same,
  Log: same,
  Sqrt: same,
  Reciprocal: same,
  Neg: same,
  Abs: same,
  Erf: same,
  HardSigmoid: same,
  Cast: same,
  Not: same,
  Softmax: same,
  LogSoftmax: same,
  LRN: same,
  BatchNormalization: same,
  Add: broadcast,
  Sub: broadcast,
  Mul: broadcast,
  Div: broadcast,
  Pow: broadcast,
  Sum: broadcast,
  Max: broadcast,
  Min: broadcast,
  Equal: broadcast,
  Greater: broadcast,
  Less: broadcast,
  GreaterOrEqual: broadcast,
  LessOrEqual: broadcast,
  And: broadcast,
  Where: broadcast,
  Conv: (inputs, attrs) => {
    const [x, w] = inputs;
    if (!x || !w) return [undefined];
    return [windowShape(x, w.slice(2), attrs, w[0]!)];
  },
  ConvTranspose: (inputs, attrs) => {
    const [x, w] = inputs;
    if (!x || !w) return [undefined];
    const kernel = w.slice(2);
    const dims = kernel.length;
    const strides = list(attrs, "strides") ?? new Array<number>(dims).fill(1);
    const dilations = list(attrs, "dilations") ?? new Array<number>(dims).fill(1);
    const pads = list(attrs, "pads") ?? new Array<number>(2 * dims).fill(0);
    const extra = list(attrs, "output_padding") ?? new Array<number>(dims).fill(0);
    const spatial = kernel.map((k, i) => strides[i]! * (x[2 + i]! - 1) + extra[i]! + dilations[i]! * (k - 1) + 1 - pads[i]! - pads[dims + i]!);
    return [[x[0]!, w[1]! * num(attrs, "group", 1), ...spatial]];
  },
  MaxPool: (inputs, attrs) => {
    const x = inputs[0];
    if (!x) return [undefined, undefined];
    const out = windowShape(x, list(attrs, "kernel_shape")!, attrs, x[1]!);
    return [out, out];
  },
  AveragePool: (inputs, attrs) => {
    const x = inputs[0];
    return [x ? windowShape(x, list(attrs, "kernel_shape")!, attrs, x[1]!) : undefined];
  },
  ReduceMean: reduceWithAttribute,
  ReduceMax: reduceWithAttribute,
  ReduceSumSquare: reduceWithAttribute,
  ReduceSum: reduceWithInput,
  ArgMax: (inputs, attrs) => {
    const x = inputs[0];
    return [x ? reduced(x, [num(attrs, "axis", 0)], num(attrs, "keepdims", 1) === 1) : undefined];
  },
  MatMul: (inputs) => {
    const [a, b] = inputs;
    return [a && b ? matmulShape(a, b) : undefined];
  },
  Gemm: (inputs, attrs) => {
    const [a, b] = inputs;
    if (!a || !b) return [undefined];
    const m = num(attrs, "transA", 0) ? a[1]! : a[0]!;
    const n = num(attrs, "transB", 0) ? b[0]! : b[1]!;
    return [[m, n]];
  },
  Flatten: (inputs, attrs) => {
    const x = inputs[0];
    if (!x) return [undefined];
    const axis = normalizeAxis(num(attrs, "axis", 1), x.length);
    return [[product(x.slice(0, axis)), product(x.slice(axis))]];
  },
  Reshape: (inputs, _attrs, constant) => {
    const x = inputs[0];
    const target = constant(1);
    return [x && target ? reshapeShape(x, target) : undefined];
  },
  Transpose: (inputs, attrs) => {
    const x = inputs[0];
    if (!x) return [undefined];
    const perm = list(attrs, "perm") ?? x.map((_, i) => x.length - 1 - i);
    return [perm.map((p) => x[p]!)];
  },
  Squeeze: (inputs, _attrs, constant) => {
    const x = inputs[0];
    if (!x) return [undefined];
    const axes = (constant(1) ?? x.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normalizeAxis(a, x.length));
    return [x.filter((_, i) => !axes.includes(i))];
  },
  Unsqueeze: (inputs, _attrs, constant) => {
    const x = inputs[0];
    const axes = constant(1);
    if (!x || !axes) return [undefined];
    const rank = x.length + axes.length;
    const normalized = axes.map((a) => normalizeAxis(a, rank));
    const out: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) out.push(normalized.includes(i) ? 1 : x[k++]!);
    return [out];
  },
  Concat: (inputs, attrs) => {
    if (inputs.some((s) => !s)) return [undefined];
    const shapes = inputs as Shape[];
    const axis = normalizeAxis(num(attrs, "axis", 0), shapes[0]!.length);
    const out = [...shapes[0]!];
    out[axis] = shapes.reduce((n, s) => n + s[axis]!, 0);
    return [out];
  },
  Split: (inputs, attrs, constant, node) => {
    const x = inputs[0];
    if (!x) return node.outputs.map(() => undefined);
    const axis = normalizeAxis(num(attrs, "axis", 0), x.length);
    const sizes = constant(1) ?? node.outputs.map(() => x[axis]! / node.outputs.length);
    return sizes.map((size) => x.map((d, i) => (i === axis ? size : d)));
  },
  Slice: (inputs, _attrs, constant) => {
    const x = inputs[0];
    const starts = constant(1);
    const ends = constant(2);
    if (!x || !starts || !ends) return [undefined];
    const axes = (constant(3) ?? starts.map((_, i) => i)).map((a) => normalizeAxis(a, x.length));
    const steps = constant(4) ?? starts.map(() => 1);
    const out = [...x];
    axes.forEach((axis, i) => {
      const step = steps[i]!;
      const [s, e] = sliceRange(x[axis]!, starts[i]!, ends[i]!, step);
      out[axis] = Math.max(0, Math.ceil((e - s) / step));
    });
    return [out];
  },
  Gather: (inputs, attrs, constant) => {
    const x = inputs[0];
    const indices = inputs[1];
    if (!x || !indices) return [undefined];
    void constant;
    const axis = normalizeAxis(num(attrs, "axis", 0), x.length);
    return [[...x.slice(0, axis), ...indices, ...x.slice(axis + 1)]];
  },
  Pad: (inputs, _attrs, constant) => {
    const x = inputs[0];
    const pads = constant(1);
    if (!x || !pads) return [undefined];
    return [x.map((d, i) => d + pads[i]! + pads[x.length + i]!)];
  },
  Expand: (inputs, _attrs, constant) => {
    const x = inputs[0];
    const shape = constant(1);
    return [x && shape ? broadcastShapes(x, shape) : undefined];
  },
  ConstantOfShape: (_inputs, _attrs, constant) => [constant(0)],
  ScatterElements: (inputs) => [inputs[0]],
  LSTM: (inputs, attrs) => {
    const x = inputs[0];
    if (!x) return [undefined, undefined, undefined];
    const hidden = num(attrs, "hidden_size", 0);
    return [
      [x[0]!, 1, x[1]!, hidden],
      [1, x[1]!, hidden],
      [1, x[1]!, hidden],
    ];
  },
  GRU: (inputs, attrs) => {
    const x = inputs[0];
    if (!x) return [undefined, undefined];
    const hidden = num(attrs, "hidden_size", 0);
    return [
      [x[0]!, 1, x[1]!, hidden],
      [1, x[1]!, hidden],
    ];
  },
};

/** The output shapes of a node (undefined entries where unknown; undefined when the operator has no rule). */
export function inferShapes(
  node: NodeView,
  inputs: readonly (Shape | undefined)[],
  constant: (i: number) => number[] | undefined,
): (Shape | undefined)[] | undefined {
  const rule = RULES[node.op];
  return rule ? rule(inputs, node.attrs, constant, node) : undefined;
}
