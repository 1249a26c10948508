/**
 * The gradients of ONNX's Conv, in standard ONNX operators (what the stock ONNX Runtime CPU build
 * runs): the Conv VJP rule calls these three functions, so a faster formulation replaces one of
 * them without touching the rule. For a forward Conv y = conv(x, w) with strides s, dilations d,
 * pads (before b, after a) and `group` groups:
 * - input gradient, stride 1: a Conv of dy with the kernel flipped in space and its in/out axes
 *   swapped per group, pads d(k - 1) - b before and d(k - 1) - a after (falls back to the
 *   ConvTranspose below when a pad would be negative);
 * - input gradient, strided: ConvTranspose of dy with the forward kernel, the forward pads, and the
 *   output padding that gives back x's size;
 * - weight gradient: the "Conv trick": batch and channels of x swapped (per group), dy's batch and
 *   channels swapped used as the kernel, forward dilations as strides and forward strides as
 *   dilations, cropped to the kernel size; dw[o, i, k] = sum_{n, p} dy[n, o, p] x[n, i, p s + k d - b];
 * - bias gradient: dy summed over every axis but channels.
 */
import { attr } from "../builder.js";
import type { NodeView, Shape, Tape } from "./tape.js";

/** A forward Conv's window, resolved. */
export interface ConvGeometry {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  readonly before: readonly number[];
  readonly after: readonly number[];
  readonly group: number;
}

/** The geometry of a Conv node with the given weight shape [O, I / group, k...]. */
export function convGeometry(node: NodeView, weight: Shape): ConvGeometry {
  const kernel = weight.slice(2);
  const dims = kernel.length;
  const ones = new Array<number>(dims).fill(1);
  const pads = (node.attrs.pads as readonly number[] | undefined) ?? new Array<number>(2 * dims).fill(0);
  return {
    kernel,
    strides: (node.attrs.strides as readonly number[] | undefined) ?? ones,
    dilations: (node.attrs.dilations as readonly number[] | undefined) ?? ones,
    before: pads.slice(0, dims),
    after: pads.slice(dims),
    group: (node.attrs.group as number | undefined) ?? 1,
  };
}

const spatialAxes = (dims: number) => Array.from({ length: dims }, (_, i) => i + 2);

/** w [O, I / g, k...] as [I, O / g, k...] flipped in space: the kernel of the stride-1 input gradient. */
function flippedTransposedKernel(tape: Tape, w: string, g: ConvGeometry, base: string): string {
  const [o, ig, ...k] = tape.shape(w) as [number, number, ...number[]];
  const dims = k.length;
  const rest = spatialAxes(dims);
  let swapped: string;
  if (g.group === 1) swapped = tape.transpose(w, [1, 0, ...rest], `${base}/kernel_t`);
  else {
    const grouped = tape.reshape(w, [g.group, o / g.group, ig, ...k], `${base}/kernel_groups`);
    const t = tape.transpose(grouped, [0, 2, 1, ...rest.map((a) => a + 1)], `${base}/kernel_groups_t`);
    swapped = tape.reshape(t, [ig * g.group, o / g.group, ...k], `${base}/kernel_t`);
  }
  const starts = tape.intList(`${base}/flip_starts`, new Array<number>(dims).fill(-1));
  const ends = tape.intList(`${base}/flip_ends`, k.map((size) => -(size + 1)));
  const axes = tape.intList(`${base}/flip_axes`, rest);
  const steps = tape.intList(`${base}/flip_steps`, new Array<number>(dims).fill(-1));
  return tape.op("Slice", [swapped, starts, ends, axes, steps], `${base}/kernel_flipped`);
}

/** dL/dx of a Conv, shaped like x. */
export function convInputGradient(tape: Tape, dy: string, w: string, xShape: Shape, g: ConvGeometry, base: string): string {
  const dims = g.kernel.length;
  const before = g.kernel.map((k, i) => g.dilations[i]! * (k - 1) - g.before[i]!);
  const after = g.kernel.map((k, i) => g.dilations[i]! * (k - 1) - g.after[i]!);
  const yShape = tape.shape(dy);
  if (g.strides.every((s) => s === 1) && [...before, ...after].every((p) => p >= 0)) {
    const kernel = flippedTransposedKernel(tape, w, g, base);
    const dx = tape.op("Conv", [dy, kernel], base, { pads: attr.ints([...before, ...after]), dilations: attr.ints(g.dilations), group: attr.int(g.group), kernel_shape: attr.ints(g.kernel) });
    // Extra padding after (more than the window needs) leaves positions no output saw: zero gradient.
    return fitTo(tape, dx, xShape, base);
  }
  const outputPadding = g.kernel.map((k, i) => xShape[2 + i]! - (g.strides[i]! * (yShape[2 + i]! - 1) + g.dilations[i]! * (k - 1) + 1 - g.before[i]! - g.after[i]!));
  void dims;
  return tape.op("ConvTranspose", [dy, w], base, {
    strides: attr.ints(g.strides),
    dilations: attr.ints(g.dilations),
    pads: attr.ints([...g.before, ...g.after]),
    group: attr.int(g.group),
    kernel_shape: attr.ints(g.kernel),
    output_padding: attr.ints(outputPadding),
  });
}

/** Crops or zero-pads the spatial axes of `value` to `shape` (only the end of each axis changes). */
function fitTo(tape: Tape, value: string, shape: Shape, base: string): string {
  const have = tape.shape(value);
  if (have.join() === shape.join()) return value;
  const axes = spatialAxes(shape.length - 2);
  const crop = axes.filter((a) => have[a]! > shape[a]!);
  let out = value;
  if (crop.length) {
    out = tape.op("Slice", [out, tape.intList(`${base}/crop_starts`, crop.map(() => 0)), tape.intList(`${base}/crop_ends`, crop.map((a) => shape[a]!)), tape.intList(`${base}/crop_axes`, crop)], `${base}/cropped`);
  }
  const now = tape.shape(out);
  if (axes.some((a) => now[a]! < shape[a]!)) {
    const pads = [...now.map(() => 0), ...now.map((d, a) => shape[a]! - d)];
    out = tape.op("Pad", [out, tape.intList(`${base}/fill_pads`, pads)], `${base}/filled`, { mode: attr.string("constant") });
  }
  return out;
}

/** dL/dw of a Conv, shaped like w [O, I / g, k...]. */
export function convWeightGradient(tape: Tape, x: string, dy: string, wShape: Shape, g: ConvGeometry, base: string): string {
  const [n, c, ...spatial] = tape.shape(x) as [number, number, ...number[]];
  const dims = spatial.length;
  const rest = spatialAxes(dims);
  let columns: string;
  if (g.group === 1) columns = tape.transpose(x, [1, 0, ...rest], `${base}/x_t`);
  else {
    const grouped = tape.reshape(x, [n, g.group, c / g.group, ...spatial], `${base}/x_groups`);
    const t = tape.transpose(grouped, [2, 1, 0, ...rest.map((a) => a + 1)], `${base}/x_groups_t`);
    columns = tape.reshape(t, [c / g.group, g.group * n, ...spatial], `${base}/x_t`);
  }
  const kernel = tape.transpose(dy, [1, 0, ...rest], `${base}/dy_t`);
  const yShape = tape.shape(dy);
  const product = tape.op("Conv", [columns, kernel], `${base}/conv`, {
    strides: attr.ints(g.dilations),
    dilations: attr.ints(g.strides),
    pads: attr.ints([...g.before, ...g.after]),
    group: attr.int(g.group),
    kernel_shape: attr.ints(yShape.slice(2)),
  });
  const cropped = fitTo(tape, product, [c / g.group, wShape[0]!, ...g.kernel], `${base}/conv`);
  return tape.transpose(cropped, [1, 0, ...rest], base);
}

/** dL/db of a Conv's bias: dy summed over batch and space. */
export function convBiasGradient(tape: Tape, dy: string, base: string): string {
  const rank = tape.shape(dy).length;
  return tape.reduceSum(dy, [0, ...spatialAxes(rank - 2)], false, base);
}
