/**
 * Window geometry of convolutions and pools, resolved to explicit numbers: kernel, stride,
 * dilation, and the padding before and after each spatial axis, with ceil-mode rounding turned into
 * extra padding after. The padding rules are the catalogue's (`resolvePadding`); this module only
 * makes them explicit so that the passes and every backend agree on them.
 */
import { perAxis, resolvePadding, type Args } from "../ops/catalogue.js";
import type { Shape } from "../ops/values.js";

export interface WindowGeometry {
  readonly kernel: readonly number[];
  readonly stride: readonly number[];
  readonly dilation: readonly number[];
  /** Padding before each spatial axis. */
  readonly before: readonly number[];
  /** Padding after each spatial axis, including what ceil mode adds. */
  readonly after: readonly number[];
  /** Output size per spatial axis. */
  readonly out: readonly number[];
}

/** Number of spatial axes an operator's window covers (the leading axes of its input). */
export function windowDims(op: string): 1 | 2 | 3 {
  return op.endsWith("3d") ? 3 : op.endsWith("1d") ? 1 : 2;
}

/**
 * Resolves a conv or pool window over the leading `dims` axes of `input`. Pools default their
 * stride to the kernel. Besides the catalogue's padding values, `pad = "explicit"` takes the
 * `pad_before` and `pad_after` lists that the `explicit-padding` pass writes. With `ceil`, the PyTorch rule applies: the last window must start inside
 * the input or its left padding; the windows that rounding up adds are padded on the right.
 */
export function resolveWindow(input: Shape, args: Args, dims: number, pool: boolean): WindowGeometry {
  const spatial = input.slice(0, dims);
  const kernel = perAxis(args.kernel, dims, 1);
  const stride = perAxis(args.stride ?? (pool ? args.kernel : 1), dims, 1);
  const dilation = perAxis(args.dilation, dims, 1);
  const pad = args.pad === "explicit" ? { before: args.pad_before as number[], after: args.pad_after as number[] } : resolvePadding(args.pad, spatial, kernel, stride, dilation);
  const before = [...pad.before];
  const after = [...pad.after];
  const out: number[] = [];
  for (let i = 0; i < dims; i++) {
    const size = spatial[i]!;
    const effective = dilation[i]! * (kernel[i]! - 1) + 1;
    const span = size + before[i]! + after[i]! - effective;
    let o = (args.ceil === true ? Math.ceil(span / stride[i]!) : Math.floor(span / stride[i]!)) + 1;
    if (args.ceil === true && (o - 1) * stride[i]! >= size + before[i]!) o--;
    // Padding that makes a "valid" window produce exactly `o` outputs.
    const needed = (o - 1) * stride[i]! + effective - (size + before[i]!);
    after[i] = Math.max(after[i]!, needed);
    out.push(o);
  }
  return { kernel, stride, dilation, before, after, out };
}

/** Output sizes of a window with no padding ("valid"). */
export function validOutput(input: readonly number[], kernel: readonly number[], stride: readonly number[], dilation: readonly number[]): number[] {
  return input.map((size, i) => Math.floor((size - dilation[i]! * (kernel[i]! - 1) - 1) / stride[i]!) + 1);
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
