/**
 * The gradients of an ONNX Conv (any number of spatial axes, strides, dilations, asymmetric pads,
 * groups) as subgraphs of standard ONNX operators, in formulations that ONNX Runtime's CPU kernels
 * run fast. Each formulation is exact; which one is fastest depends on the configuration, and
 * `chooseInputGradient` / `chooseWeightGradient` encode what `bench/conv-grad.ts` measured beside
 * PyTorch. Everything is built for static shapes (a training step is built for one batch size).
 *
 * Input gradient dX ([N, Ci, I...] from dY [N, Co, O...] and W [Co, Ci/g, k...]):
 * - "phase-conv": for every phase r of the stride (s^D of them; one when the stride is 1) the
 *   positions i = s*q + r of dX receive only the taps j with j*d - pad - r divisible by s, at dY
 *   offsets that step evenly: a stride-1 Conv of dY with that sub-kernel of the flipped,
 *   transposed W. At stride 1 this is the Conv with the flipped, transposed kernel; strided, it is
 *   s^D small Convs (together the forward's MACs) interleaved by Concats. Taps that only ever meet
 *   padding (a 3x3x3 kernel over one frame) are left out.
 * - "conv-transpose": ConvTranspose, the textbook form: no kernel to rearrange, but ONNX Runtime's
 *   col2im after its GEMM is slow unless dY has few positions.
 * Weight gradient dW ([Co, Ci/g, k...] from X [N, Ci, S...] and dY):
 * - "folded-conv": one Conv that correlates X with dY over batch and positions, with X's input
 *   channels folded into its last spatial axis (channels-last, [1, g*N, S..., S_D*Ci/g]) and dY as
 *   the kernel ([Co, N, O...], dilated by the stride, the last axis by stride * Ci/g). The Conv's
 *   output positions are then (tap, input channel) pairs, so ONNX Runtime's im2col copies long
 *   contiguous rows in cache-sized panels and its GEMM has a good shape (Co x k*Ci x N*O), where
 *   the two formulations below either materialise every tap's shifted copy of X or leave the GEMM
 *   only the k^D taps as columns.
 * - "swap-conv": Conv of X and dY with batch and channels exchanged (groups 1 only).
 * - "im2col-matmul": one strided Slice of X per tap, concatenated, and one MatMul with dY; for a
 *   1x1 kernel that is X itself and one MatMul.
 * Bias gradient: ReduceSum of dY over batch and positions.
 */
import { resolveWindow, type WindowGeometry } from "../../../ops/geometry.js";
import { attr, type Attribute, type GraphBuilder } from "../builder.js";

/**
 * A Conv's static configuration in ONNX's channels-first terms: its window's geometry as the IR
 * resolves it (kernel, stride, dilation, padding before and after, output sizes per spatial axis)
 * with the batch, channels and groups. `convConfig` makes one from a Conv node.
 */
export interface ConvConfig extends WindowGeometry {
  readonly batch: number;
  readonly inChannels: number;
  readonly outChannels: number;
  /** Input sizes of the spatial axes (the D axes after batch and channels). */
  readonly input: readonly number[];
  readonly groups: number;
}

export type InputGradientFormulation = "phase-conv" | "conv-transpose";
export type WeightGradientFormulation = "folded-conv" | "swap-conv" | "im2col-matmul";

export const INPUT_GRADIENT_FORMULATIONS: readonly InputGradientFormulation[] = ["phase-conv", "conv-transpose"];
export const WEIGHT_GRADIENT_FORMULATIONS: readonly WeightGradientFormulation[] = ["folded-conv", "swap-conv", "im2col-matmul"];

const product = (values: readonly number[]) => values.reduce((a, b) => a * b, 1);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** A Conv node's attributes as ONNX defines them (absent ones take ONNX's defaults). */
export interface ConvAttributes {
  readonly kernel_shape?: readonly number[];
  readonly strides?: readonly number[];
  readonly dilations?: readonly number[];
  readonly pads?: readonly number[];
  readonly group?: number;
}

/**
 * The configuration of a Conv node from its attributes and the static shapes of its input X
 * [N, Ci, S...] and kernel W [Co, Ci/g, k...]. Throws on a configuration that is not a valid Conv
 * (a bug in the caller: the forward graph was built from checked shapes).
 */
export function convConfig(attributes: ConvAttributes, x: readonly number[], w: readonly number[]): ConvConfig {
  const d = x.length - 2;
  const ones = new Array<number>(d).fill(1);
  const pads = attributes.pads ?? new Array<number>(2 * d).fill(0);
  const input = x.slice(2);
  const kernel = attributes.kernel_shape ?? w.slice(2);
  const stride = attributes.strides ?? ones;
  const dilation = attributes.dilations ?? ones;
  const before = pads.slice(0, d);
  const after = pads.slice(d);
  const groups = attributes.group ?? 1;
  const lists = [kernel, stride, dilation, before, after];
  const out = lists.every((l) => l.length === d)
    ? [...resolveWindow(input, { kernel, stride, dilation, pad: "explicit", pad_before: before, pad_after: after }, d, false).out]
    : [];
  const problem =
    d < 1 || lists.some((l) => l.length !== d)
      ? "per-axis lists do not match the input's spatial axes"
      : x[1]! % groups !== 0 || w[0]! % groups !== 0 || w[1]! !== x[1]! / groups
        ? "channels do not match the groups"
        : out.some((o) => o < 1)
          ? "the window does not fit the padded input"
          : undefined;
  if (problem)
    throw new Error(
      `internal: Conv gradient of an invalid configuration (${problem}): attributes ${JSON.stringify(attributes)}, X [${x.join(", ")}], W [${w.join(", ")}]`,
    );
  return { batch: x[0]!, inChannels: x[1]!, outChannels: w[0]!, input, kernel, stride, dilation, before, after, out, groups };
}

/** The ONNX attributes of the forward Conv itself. */
export function convNodeAttributes(conv: ConvConfig): Record<string, Attribute> {
  return {
    kernel_shape: attr.ints(conv.kernel),
    strides: attr.ints(conv.stride),
    dilations: attr.ints(conv.dilation),
    pads: attr.ints([...conv.before, ...conv.after]),
    group: attr.int(conv.groups),
  };
}

/** Small node helpers over a GraphBuilder; tensor names derive from `base`. */
class Nodes {
  constructor(
    readonly graph: GraphBuilder,
    readonly base: string,
  ) {}

  ints(part: string, values: readonly number[]): string {
    return this.graph.intConstant(`${this.base}/${part}`, [values.length], values);
  }

  op(op: string, inputs: readonly string[], part: string, attributes: Parameters<GraphBuilder["op"]>[3] = {}): string {
    return this.graph.op(op, inputs, `${this.base}/${part}`, attributes);
  }

  reshape(x: string, shape: readonly number[], part: string): string {
    return this.op("Reshape", [x, this.ints(`${part}_shape`, shape)], part);
  }

  /**
   * `x` of shape `dims` with its axes permuted; a Reshape (no copy) when only axes of size 1 move
   * (dY's batch and channels at batch 1, a depthwise kernel's two channel axes).
   */
  transpose(x: string, dims: readonly number[], perm: readonly number[], part: string): string {
    if (perm.every((p, i) => p === i)) return x;
    const moving = perm.filter((p) => dims[p] !== 1);
    if (moving.every((p, i) => i === 0 || moving[i - 1]! < p))
      return this.reshape(
        x,
        perm.map((p) => dims[p]!),
        part,
      );
    return this.op("Transpose", [x], part, { perm: attr.ints(perm) });
  }

  slice(x: string, axes: readonly number[], starts: readonly number[], ends: readonly number[], steps: readonly number[], part: string): string {
    return this.op(
      "Slice",
      [x, this.ints(`${part}_starts`, starts), this.ints(`${part}_ends`, ends), this.ints(`${part}_axes`, axes), this.ints(`${part}_steps`, steps)],
      part,
    );
  }

  /** Pads (negative values crop) `x` of rank `rank` on the axes from `first` on. */
  pad(x: string, rank: number, first: number, before: readonly number[], after: readonly number[], part: string): string {
    if (before.every((b) => b === 0) && after.every((a) => a === 0)) return x;
    const full = (values: readonly number[]) => range(rank).map((i) => (i < first ? 0 : values[i - first]!));
    return this.op("Pad", [x, this.ints(`${part}_pads`, [...full(before), ...full(after)])], part);
  }

  concat(xs: readonly string[], axis: number, part: string): string {
    return xs.length === 1 ? xs[0]! : this.op("Concat", xs, part, { axis: attr.int(axis) });
  }

  zeros(shape: readonly number[], part: string): string {
    return this.op("Expand", [this.graph.floatConstant(`${this.base}/${part}_zero`, [], [0]), this.ints(`${part}_shape`, shape)], part);
  }
}

/**
 * W [Co, Ci/g, k...] as the input gradient's Conv over dY wants it, before any flip: [Ci, Co/g,
 * taps] (the transpose within each group, the kernel's positions flattened).
 */
function transposedKernel(n: Nodes, conv: ConvConfig, w: string): string {
  const g = conv.groups;
  const taps = product(conv.kernel);
  if (g === 1)
    return n.reshape(
      n.transpose(w, [conv.outChannels, conv.inChannels, ...conv.kernel], [1, 0, ...range(conv.kernel.length).map((i) => i + 2)], "w_t"),
      [conv.inChannels, conv.outChannels, taps],
      "w_t_flat",
    );
  const grouped = n.reshape(w, [g, conv.outChannels / g, conv.inChannels / g, taps], "w_grouped");
  return n.reshape(
    n.transpose(grouped, [g, conv.outChannels / g, conv.inChannels / g, taps], [0, 2, 1, 3], "w_grouped_t"),
    [conv.inChannels, conv.outChannels / g, taps],
    "w_t_flat",
  );
}

/** One phase of one axis of the strided input gradient: which taps reach it and where in dY. */
interface AxisPhase {
  /** Taps j (descending, i.e. the flipped kernel) whose contributions land on this phase. */
  readonly taps: readonly number[];
  /** dY offset of the first of `taps` (dY[q + offset] meets tap taps[0]). */
  readonly offset: number;
  /** dY step between consecutive taps of `taps` (the sub-kernel's dilation). */
  readonly step: number;
}

function axisPhase(conv: ConvConfig, axis: number, phase: number): AxisPhase {
  const s = conv.stride[axis]!;
  const d = conv.dilation[axis]!;
  const p = conv.before[axis]!;
  const lastOutput = conv.out[axis]! - 1;
  // Taps of this phase that reach the input at all (the others only ever meet padding).
  const taps = range(conv.kernel[axis]!)
    .filter((j) => (((j * d - p - phase) % s) + s) % s === 0 && j * d - p < conv.input[axis]! && lastOutput * s + j * d - p >= 0)
    .reverse();
  const offsetOf = (j: number) => (phase + p - j * d) / s;
  return { taps, offset: taps.length ? offsetOf(taps[0]!) : 0, step: taps.length > 1 ? offsetOf(taps[1]!) - offsetOf(taps[0]!) : 1 };
}

/**
 * The flipped sub-kernels of the phases, [Ci, Co/g, taps...] each, from the transposed kernel
 * [Ci, Co/g, k_1 * ... * k_D]: one MatMul with a 0/1 matrix that orders the taps phase by phase
 * (ONNX Runtime's Slice with negative steps copies element by element; the small GEMM reads the
 * kernel once), then a Split into the phases.
 */
function subKernels(n: Nodes, conv: ConvConfig, kernelT: string, phases: readonly (readonly AxisPhase[])[]): string[] {
  const d = conv.kernel.length;
  const taps = product(conv.kernel);
  const flat = (js: readonly number[]) => js.reduce((i, j, a) => i * conv.kernel[a]! + j, 0);
  const columns = phases.map((phase) => {
    const sizes = phase.map((p) => p.taps.length);
    return range(product(sizes)).map((u) => flat(range(d).map((a) => phase[a]!.taps[Math.floor(u / product(sizes.slice(a + 1))) % sizes[a]!]!)));
  });
  const order = columns.flat();
  let picked = kernelT;
  if (order.length !== taps || order.some((c, u) => c !== u)) {
    const selection = new Float32Array(taps * order.length);
    order.forEach((c, u) => (selection[c * order.length + u] = 1));
    picked = n.op("MatMul", [kernelT, n.graph.floatConstant(`${n.base}/tap_order`, [taps, order.length], selection)], "w_flipped");
  }
  const parts =
    phases.length === 1
      ? [picked]
      : n.graph.node(
          "Split",
          [
            picked,
            n.ints(
              "phase_taps",
              columns.map((c) => c.length),
            ),
          ],
          phases.map((_, i) => `${n.base}/w_phase${i}`),
          { axis: attr.int(2) },
        );
  return parts.map((part, i) => n.reshape(part, [conv.inChannels, conv.outChannels / conv.groups, ...phases[i]!.map((p) => p.taps.length)], `w_sub${i}`));
}

/**
 * dX by stride phases: per phase a stride-1 Conv of dY with the flipped sub-kernel that reaches
 * it (phases no tap reaches are zero), every phase ceil(I / s) long, then the phases interleaved
 * into dX axis by axis with Concats along new axes (contiguous blocks; ONNX Runtime's Transpose
 * of the stacked phases moves single elements) and the excess cut off.
 */
function phaseConvInputGradient(n: Nodes, conv: ConvConfig, dy: string, w: string): string {
  const d = conv.input.length;
  const out = conv.out;
  const kernelT = transposedKernel(n, conv, w);
  const counts = conv.stride;
  const phasesPerAxis = range(d).map((a) => range(counts[a]!).map((r) => axisPhase(conv, a, r)));
  const total = product(counts);
  const qMax = range(d).map((a) => Math.ceil(conv.input[a]! / counts[a]!));
  const phaseOf = (index: number) => range(d).map((a) => Math.floor(index / product(counts.slice(a + 1))) % counts[a]!);
  const reached = range(total).filter((index) => phaseOf(index).every((r, a) => phasesPerAxis[a]![r]!.taps.length > 0));
  const kernels = subKernels(
    n,
    conv,
    kernelT,
    reached.map((index) => phaseOf(index).map((r, a) => phasesPerAxis[a]![r]!)),
  );
  let values = range(total).map((index) => {
    const rs = phaseOf(index);
    const tag = total === 1 ? "" : `_p${rs.join("")}`;
    if (!reached.includes(index)) return n.zeros([conv.batch, conv.inChannels, ...qMax], `zeros${tag}`);
    const phases = rs.map((r, a) => phasesPerAxis[a]![r]!);
    // dX_r[q] = sum_u K[u] dY[q + offset + u * step] for q < ceil(I / s) (positions past the input
    // are cut off at the end): pads -offset before, whatever gives that many outputs after;
    // negative pads crop dY first.
    const before = phases.map((p) => -p.offset);
    const after = phases.map((p, a) => qMax[a]! - out[a]! - before[a]! + p.step * (p.taps.length - 1));
    const cropped = n.pad(
      dy,
      d + 2,
      2,
      before.map((b) => Math.min(b, 0)),
      after.map((x) => Math.min(x, 0)),
      `dy_cropped${tag}`,
    );
    return n.op("Conv", [cropped, kernels[reached.indexOf(index)]!], `phase${tag}`, {
      kernel_shape: attr.ints(phases.map((p) => p.taps.length)),
      dilations: attr.ints(phases.map((p) => p.step)),
      pads: attr.ints([...before.map((b) => Math.max(b, 0)), ...after.map((x) => Math.max(x, 0))]),
      group: attr.int(conv.groups),
    });
  });
  // Interleave the innermost axis first: consecutive groups of s_a values differ only in r_a.
  const dims = [conv.batch, conv.inChannels, ...qMax];
  for (let a = d - 1; a >= 0; a--) {
    const s = counts[a]!;
    if (s === 1) continue;
    const axis = a + 3;
    const merged = dims.map((x, i) => (i === a + 2 ? x * s : x));
    values = range(values.length / s).map((group) => {
      const parts = values
        .slice(group * s, group * s + s)
        .map((v, r) => n.op("Unsqueeze", [v, n.ints(`axis${a}_${group}_${r}`, [axis])], `unsqueezed${a}_${group}_${r}`));
      return n.reshape(n.concat(parts, axis, `interleave${a}_${group}`), merged, `interleaved${a}_${group}`);
    });
    dims[a + 2] = merged[a + 2]!;
  }
  const interleaved = values[0]!;
  return dims.slice(2).some((x, a) => x > conv.input[a]!)
    ? n.slice(
        interleaved,
        range(d).map((a) => a + 2),
        new Array<number>(d).fill(0),
        conv.input,
        new Array<number>(d).fill(1),
        "trimmed",
      )
    : interleaved;
}

function convTransposeInputGradient(n: Nodes, conv: ConvConfig, dy: string, w: string): string {
  const out = conv.out;
  const full = out.map((o, a) => conv.stride[a]! * (o - 1) + conv.dilation[a]! * (conv.kernel[a]! - 1) + 1 - conv.before[a]! - conv.after[a]!);
  return n.op("ConvTranspose", [dy, w], "conv_transpose", {
    ...convNodeAttributes(conv),
    output_padding: attr.ints(full.map((f, a) => conv.input[a]! - f)),
  });
}

/**
 * Emits dX of a Conv with configuration `conv` ([N, Ci, I...]) from `dy` ([N, Co, O...]) and the
 * forward's kernel `w` ([Co, Ci/g, k...]); returns its tensor name. `name` prefixes the new tensors.
 */
export function emitConvInputGradient(
  graph: GraphBuilder,
  conv: ConvConfig,
  dy: string,
  w: string,
  name: string,
  formulation: InputGradientFormulation = chooseInputGradient(conv),
): string {
  const n = new Nodes(graph, name);
  return formulation === "conv-transpose" ? convTransposeInputGradient(n, conv, dy, w) : phaseConvInputGradient(n, conv, dy, w);
}

/**
 * dW by the folded Conv: X channels-last with the group's input channels folded into the last
 * spatial axis, dY as the kernel; the output's positions are (tap, input channel).
 */
function foldedConvWeightGradient(n: Nodes, conv: ConvConfig, x: string, dy: string): string {
  const d = conv.input.length;
  const g = conv.groups;
  const cig = conv.inChannels / g;
  const N = conv.batch;
  const out = conv.out;
  const last = d - 1;
  // Only the part of X the forward read: extra rows at the end would become extra taps of the
  // Conv below, computed and thrown away (a strided Conv that ignores its last rows).
  const input = range(d).map((a) =>
    Math.min(conv.input[a]!, (out[a]! - 1) * conv.stride[a]! + (conv.kernel[a]! - 1) * conv.dilation[a]! - conv.before[a]! + 1),
  );
  const read = input.some((size, a) => size < conv.input[a]!)
    ? n.slice(
        x,
        range(d).map((a) => a + 2),
        new Array<number>(d).fill(0),
        input,
        new Array<number>(d).fill(1),
        "x_read",
      )
    : x;
  // X [N, Ci, S...] -> [N, g, Ci/g, S...] -> [g, N, S..., Ci/g] -> [1, g*N, S_1, ..., S_D * Ci/g].
  const grouped = g === 1 ? read : n.reshape(read, [N, g, cig, ...input], "x_grouped");
  const channelsLast =
    g === 1
      ? n.transpose(read, [N, cig, ...input], [0, ...range(d).map((i) => i + 2), 1], "x_channels_last")
      : n.transpose(grouped, [N, g, cig, ...input], [1, 0, ...range(d).map((i) => i + 3), 2], "x_channels_last");
  const folded = n.reshape(channelsLast, [1, g * N, ...input.slice(0, last), input[last]! * cig], "x_folded");
  // dY [N, Co, O...] -> [Co, N, O...]: the kernel, whose group gi reads the channels (gi, n).
  const kernel = n.transpose(dy, [N, conv.outChannels, ...out], [1, 0, ...range(d).map((i) => i + 2)], "dy_kernel");
  // Along axes before the last, the Conv's output index is the tap: stride = dilation, dilation =
  // stride. Along the folded axis it is tap * dilation * Ci/g + input channel.
  const needed = range(d).map((a) => (a < last ? conv.kernel[a]! : ((conv.kernel[a]! - 1) * conv.dilation[a]! + 1) * cig));
  const scale = range(d).map((a) => (a < last ? 1 : cig));
  const size = range(d).map((a) => (a < last ? input[a]! : input[a]! * cig));
  const strides = range(d).map((a) => (a < last ? conv.dilation[a]! : 1));
  const dilations = range(d).map((a) => conv.stride[a]! * scale[a]!);
  const before = range(d).map((a) => conv.before[a]! * scale[a]!);
  // The smallest padding after that still yields every needed output (at most the forward's: it
  // may never have read its last padded positions).
  const after = range(d).map((a) => {
    const span = dilations[a]! * (out[a]! - 1) + 1;
    return Math.max(0, (needed[a]! - 1) * strides[a]! + span - size[a]! - before[a]!);
  });
  let result = n.op("Conv", [folded, kernel], "correlation", {
    kernel_shape: attr.ints(out),
    strides: attr.ints(strides),
    dilations: attr.ints(dilations),
    pads: attr.ints([...before, ...after]),
    group: attr.int(g),
  });
  const produced = range(d).map((a) => Math.floor((size[a]! + before[a]! + after[a]! - dilations[a]! * (out[a]! - 1) - 1) / strides[a]!) + 1);
  if (produced.some((p, a) => p !== needed[a]))
    result = n.slice(
      result,
      range(d).map((a) => a + 2),
      new Array<number>(d).fill(0),
      needed,
      new Array<number>(d).fill(1),
      "correlation_trimmed",
    );
  // [1, Co, k_1, ..., ((k_D - 1) d_D + 1) * Ci/g] -> [Co, k_1, ..., (k_D - 1) d_D + 1, Ci/g] (-> every
  // d_D-th tap) -> [Co, Ci/g, k...].
  const span = (conv.kernel[last]! - 1) * conv.dilation[last]! + 1;
  let unfolded = n.reshape(result, [conv.outChannels, ...conv.kernel.slice(0, last), span, cig], "taps");
  if (conv.dilation[last]! > 1) unfolded = n.slice(unfolded, [d], [0], [span], [conv.dilation[last]!], "taps_dilated");
  return n.transpose(unfolded, [conv.outChannels, ...conv.kernel, cig], [0, d + 1, ...range(d).map((i) => i + 1)], "dw");
}

/** dW as the Conv of X and dY with batch and channels exchanged (groups 1). */
function swapConvWeightGradient(n: Nodes, conv: ConvConfig, x: string, dy: string): string {
  if (conv.groups !== 1) throw new Error("internal: the swap-conv weight gradient takes groups = 1");
  const d = conv.input.length;
  const out = conv.out;
  const swap = [1, 0, ...range(d).map((i) => i + 2)];
  const after = range(d).map((a) => {
    const span = conv.stride[a]! * (out[a]! - 1) + 1;
    return Math.max(0, (conv.kernel[a]! - 1) * conv.dilation[a]! + span - conv.input[a]! - conv.before[a]!);
  });
  const swapped = (v: string, dims: readonly number[], part: string) => n.transpose(v, dims, swap, part);
  let result = n.op(
    "Conv",
    [swapped(x, [conv.batch, conv.inChannels, ...conv.input], "x_swapped"), swapped(dy, [conv.batch, conv.outChannels, ...out], "dy_swapped")],
    "correlation",
    {
      kernel_shape: attr.ints(out),
      strides: attr.ints(conv.dilation),
      dilations: attr.ints(conv.stride),
      pads: attr.ints([...conv.before, ...after]),
    },
  );
  const produced = range(d).map(
    (a) => Math.floor((conv.input[a]! + conv.before[a]! + after[a]! - conv.stride[a]! * (out[a]! - 1) - 1) / conv.dilation[a]!) + 1,
  );
  if (produced.some((p, a) => p !== conv.kernel[a]))
    result = n.slice(
      result,
      range(d).map((a) => a + 2),
      new Array<number>(d).fill(0),
      conv.kernel,
      new Array<number>(d).fill(1),
      "correlation_trimmed",
    );
  return swapped(result, [conv.inChannels, conv.outChannels, ...conv.kernel], "dw");
}

/** dW as im2col: one strided Slice of the padded X per tap, stacked, then one MatMul with dY. */
function im2colWeightGradient(n: Nodes, conv: ConvConfig, x: string, dy: string): string {
  const d = conv.input.length;
  const g = conv.groups;
  const cig = conv.inChannels / g;
  const cog = conv.outChannels / g;
  const out = conv.out;
  const positions = product(out);
  const taps = product(conv.kernel);
  const padded = n.pad(x, d + 2, 2, conv.before, conv.after, "x_padded");
  // A 1x1 kernel at stride 1 without padding: X is its own im2col.
  const whole = taps === 1 && out.every((o, a) => o === conv.input[a]! + conv.before[a]! + conv.after[a]!);
  const columns = range(taps).map((t) => {
    if (whole) return n.reshape(padded, [conv.batch, g, cig, 1, positions], `column_${t}`);
    const j = range(d).map((a) => Math.floor(t / product(conv.kernel.slice(a + 1))) % conv.kernel[a]!);
    const starts = j.map((ja, a) => ja * conv.dilation[a]!);
    const tap = n.slice(
      padded,
      range(d).map((a) => a + 2),
      starts,
      starts.map((s, a) => s + conv.stride[a]! * (out[a]! - 1) + 1),
      conv.stride,
      `tap_${t}`,
    );
    return n.reshape(tap, [conv.batch, g, cig, 1, positions], `column_${t}`);
  });
  // [N, g, Ci/g, taps, P] -> [N, g, P, Ci/g * taps]; dY [N, g, Co/g, P]; product summed over N.
  const stacked = n.concat(columns, 3, "columns");
  const columnsT = n.transpose(
    n.reshape(stacked, [conv.batch, g, cig * taps, positions], "columns_flat"),
    [conv.batch, g, cig * taps, positions],
    [0, 1, 3, 2],
    "columns_t",
  );
  const product_ = n.op("MatMul", [n.reshape(dy, [conv.batch, g, cog, positions], "dy_flat"), columnsT], "per_example");
  const summed = n.op("ReduceSum", [product_, n.ints("batch_axis", [0])], "summed", { keepdims: attr.int(0) });
  return n.reshape(summed, [conv.outChannels, cig, ...conv.kernel], "dw");
}

/**
 * Emits dW of a Conv with configuration `conv` ([Co, Ci/g, k...]) from the forward's input `x`
 * ([N, Ci, S...]) and `dy` ([N, Co, O...]); returns its tensor name.
 */
export function emitConvWeightGradient(
  graph: GraphBuilder,
  conv: ConvConfig,
  x: string,
  dy: string,
  name: string,
  formulation: WeightGradientFormulation = chooseWeightGradient(conv),
): string {
  const n = new Nodes(graph, name);
  switch (formulation) {
    case "folded-conv":
      return foldedConvWeightGradient(n, conv, x, dy);
    case "swap-conv":
      return swapConvWeightGradient(n, conv, x, dy);
    case "im2col-matmul":
      return im2colWeightGradient(n, conv, x, dy);
  }
}

/** Emits the bias gradient [Co]: dY summed over batch and positions. */
export function emitConvBiasGradient(graph: GraphBuilder, conv: ConvConfig, dy: string, name: string): string {
  const n = new Nodes(graph, name);
  return n.op("ReduceSum", [dy, n.ints("axes", [0, ...range(conv.input.length).map((i) => i + 2)])], "db", { keepdims: attr.int(0) });
}

/** The formulations of dX that apply to a Conv (all of them apply to every Conv). */
export function inputGradientFormulations(_conv: ConvConfig): InputGradientFormulation[] {
  return [...INPUT_GRADIENT_FORMULATIONS];
}

/** The formulations of dW that apply to `conv`. */
export function weightGradientFormulations(conv: ConvConfig): WeightGradientFormulation[] {
  return WEIGHT_GRADIENT_FORMULATIONS.filter((f) => f !== "swap-conv" || conv.groups === 1);
}

/**
 * The dX formulation for `conv` on ONNX Runtime's CPU provider, from bench/conv-grad.ts: the
 * phase Convs, except for a strided Conv with few output positions per output channel, where the
 * flip and transpose of the kernel that the phase Convs need costs more than ConvTranspose's
 * col2im (ConvTranspose reads the kernel as it is).
 */
export function chooseInputGradient(conv: ConvConfig): InputGradientFormulation {
  const strided = conv.stride.some((s) => s > 1);
  const positions = conv.batch * product(conv.out);
  return strided && positions <= 3 * (conv.outChannels / conv.groups) ? "conv-transpose" : "phase-conv";
}

/**
 * The dW formulation for `conv` on ONNX Runtime's CPU provider, from bench/conv-grad.ts: the
 * folded Conv, except for 1x1 kernels, whose im2col is X itself (one MatMul with dY), and stride-1
 * depthwise Convs, where nothing folds (one input channel per group) and the folded Conv's
 * per-group GEMMs have a single row.
 */
export function chooseWeightGradient(conv: ConvConfig): WeightGradientFormulation {
  const pointwise = conv.kernel.every((k) => k === 1);
  const depthwise = conv.groups > 1 && conv.inChannels === conv.groups;
  return pointwise || (depthwise && conv.stride.every((s) => s === 1)) ? "im2col-matmul" : "folded-conv";
}
