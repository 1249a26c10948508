/**
 * Window geometry of convolutions and pools, computed once for the checker, the IR passes and
 * every backend: per-axis expansion of arguments, padding ("same", "valid", explicit ints, or the
 * `pad_before` / `pad_after` lists the IR's explicit-padding pass writes), output sizes with
 * PyTorch's ceil-mode rule, and the channel window of local response normalisation. The
 * catalogue's shape rules report user errors on top of these numbers; the backends trust them.
 */
import type { Args, ArgValue, Shape } from "./values.js";

/** Expands an int or list argument to one value per axis. */
export function perAxis(value: ArgValue | undefined, length: number, fallback: number): number[] {
  if (value === undefined || value === null) return Array(length).fill(fallback);
  if (typeof value === "number") return Array(length).fill(value);
  if (Array.isArray(value)) return value.map((v) => Number(v));
  return Array(length).fill(fallback);
}

export interface ResolvedPadding {
  /** Padding before and after, per axis. */
  readonly before: number[];
  readonly after: number[];
}

/**
 * Resolves padding: explicit ints pad both sides (PyTorch style); "same" pads so that
 * out = ceil(in / stride), putting the odd pixel after (TensorFlow style); "valid" pads nothing.
 */
export function resolvePadding(
  pad: ArgValue | undefined,
  inSize: readonly number[],
  kernel: readonly number[],
  stride: readonly number[],
  dilation: readonly number[],
): ResolvedPadding {
  const n = inSize.length;
  if (pad === "same") {
    const before: number[] = [];
    const after: number[] = [];
    for (let i = 0; i < n; i++) {
      const effective = (kernel[i]! - 1) * dilation[i]! + 1;
      const out = Math.ceil(inSize[i]! / stride[i]!);
      const total = Math.max(0, (out - 1) * stride[i]! + effective - inSize[i]!);
      before.push(Math.floor(total / 2));
      after.push(total - Math.floor(total / 2));
    }
    return { before, after };
  }
  const p = pad === "valid" ? Array(n).fill(0) : perAxis(pad, n, 0);
  return { before: p, after: p };
}

export interface WindowGeometry {
  readonly kernel: readonly number[];
  readonly stride: readonly number[];
  readonly dilation: readonly number[];
  /** Padding before each spatial axis. */
  readonly before: readonly number[];
  /** Padding after each spatial axis, including what ceil mode adds. */
  readonly after: readonly number[];
  /** Output size per spatial axis (below 1 when the window does not fit). */
  readonly out: readonly number[];
}

/** Number of spatial axes an operator's window covers (the leading axes of its input). */
export function windowDims(op: string): 1 | 2 | 3 {
  return op.endsWith("3d") ? 3 : op.endsWith("1d") ? 1 : 2;
}

/**
 * Resolves a conv or pool window over the leading `dims` axes of `input` (the rest, channels,
 * are ignored). Pools default their stride to the kernel. Besides the catalogue's padding values,
 * `pad = "explicit"` takes the `pad_before` and `pad_after` lists. With `ceil`, PyTorch's rule
 * applies: the last window must start inside the input or its left padding; the windows that
 * rounding up adds are padded on the right, so `after` always makes a "valid" window produce
 * exactly `out` outputs.
 */
export function resolveWindow(input: Shape, args: Args, dims: number, pool: boolean): WindowGeometry {
  const spatial = input.slice(0, dims);
  const kernel = perAxis(args.kernel, dims, 1);
  const stride = perAxis(args.stride ?? (pool ? args.kernel : 1), dims, 1);
  const dilation = perAxis(args.dilation, dims, 1);
  const pad =
    args.pad === "explicit"
      ? { before: args.pad_before as number[], after: args.pad_after as number[] }
      : resolvePadding(args.pad, spatial, kernel, stride, dilation);
  const before = [...pad.before];
  const after = [...pad.after];
  const out: number[] = [];
  for (let i = 0; i < dims; i++) {
    const size = spatial[i]!;
    const effective = dilation[i]! * (kernel[i]! - 1) + 1;
    const span = size + before[i]! + after[i]! - effective;
    let o = (args.ceil === true ? Math.ceil(span / stride[i]!) : Math.floor(span / stride[i]!)) + 1;
    if (args.ceil === true && (o - 1) * stride[i]! >= size + before[i]!) o--;
    const needed = (o - 1) * stride[i]! + effective - (size + before[i]!);
    after[i] = Math.max(after[i]!, needed);
    out.push(o);
  }
  return { kernel, stride, dilation, before, after, out };
}

/** True when explicit padding equals what TensorFlow's "same" would pad for this window. */
export function isSamePadding(input: readonly number[], g: WindowGeometry): boolean {
  const same = resolvePadding("same", input, g.kernel, g.stride, g.dilation);
  return same.before.every((b, i) => b === g.before[i] && same.after[i] === g.after[i]);
}

/** True when the window pads nothing on any axis. */
export function isUnpadded(g: WindowGeometry): boolean {
  return g.before.every((b) => b === 0) && g.after.every((a) => a === 0);
}

/**
 * Local response normalisation's channel window as a [C, C] 0/1 matrix, row = input channel j,
 * column = output channel c: output c sums the squares of channels c - floor(size / 2) through
 * c + floor((size - 1) / 2), as PyTorch places the window (so even sizes work), channels past the
 * edges counting as zeros. A matrix product of squared activations with it gives the window sums.
 */
export function lrnBand(channels: number, size: number): Float32Array {
  const band = new Float32Array(channels * channels);
  for (let j = 0; j < channels; j++) {
    for (let c = Math.max(0, j - Math.floor((size - 1) / 2)); c <= Math.min(channels - 1, j + Math.floor(size / 2)); c++) band[j * channels + c] = 1;
  }
  return band;
}
