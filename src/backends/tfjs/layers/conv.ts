/**
 * Grouped and dilated convolutions that tfjs-layers lacks: tfjs has no `groups` at all, no
 * gradient for a dilated conv3d, and no conv2d with both a stride and a dilation. Groups split the
 * channels and run one conv per group (AlexNet's conv2/4/5 in CaffeNet-style specs). A dilated
 * kernel is expanded with zeros between its taps before an ordinary convolution, which keeps it
 * differentiable and free of tfjs's dilation restrictions. On the cpu and wasm backends a 2D conv
 * computes its filter gradient as a convolution (`conv2dFilterGradAsConv`): tfjs's own
 * Conv2DBackpropFilter kernel is some 25 times slower than the forward conv on cpu, and the wasm
 * backend has none at all. Padding is "same" or "valid": the IR's
 * explicit-padding pass has put any other padding into a VnetPad before this layer.
 */
import * as tf from "@tensorflow/tfjs";
import { resolvePadding, resolveWindow } from "../../../ops/geometry.js";
import { type ConfigDict, type Shape, type VnetLayerArgs, makeInitializer, singleShape, singleTensor, windowOutput } from "./common.js";

export interface VnetConvArgs extends VnetLayerArgs {
  rank: 1 | 2 | 3;
  filters: number;
  kernelSize: number[];
  strides: number[];
  padding: "same" | "valid";
  dilationRate: number[];
  groups: number;
  useBias: boolean;
}

export class VnetConv extends tf.layers.Layer {
  static className = "VnetConv";
  private readonly args: VnetConvArgs;
  private kernel!: tf.LayerVariable;
  private bias?: tf.LayerVariable;

  constructor(args: VnetConvArgs) {
    super(args);
    this.args = args;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    const cin = shape[shape.length - 1] as number;
    const { kernelSize, groups, filters, seed, zeroInit } = this.args;
    this.kernel = this.addWeight("kernel", [...kernelSize, cin / groups, filters], "float32", makeInitializer("conv", seed, zeroInit));
    if (this.args.useBias) this.bias = this.addWeight("bias", [filters], "float32", makeInitializer("zeros", undefined));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const { rank, groups, strides, padding, dilationRate } = this.args;
      let kernel = this.kernel.read();
      if (dilationRate.some((d) => d > 1)) kernel = dilate(kernel, dilationRate);
      const xs = groups > 1 ? tf.split(x, groups, x.rank - 1) : [x];
      const ks = groups > 1 ? tf.split(kernel, groups, kernel.rank - 1) : [kernel];
      const outs = xs.map((part, g) =>
        rank === 1
          ? conv1dAsConv2d(part as tf.Tensor3D, ks[g] as tf.Tensor3D, strides[0]!, padding)
          : rank === 2
            ? conv2dFilterGradAsConv(part as tf.Tensor4D, ks[g] as tf.Tensor4D, strides as [number, number], padding)
            : conv3dAsConv2d(part as tf.Tensor5D, ks[g] as tf.Tensor5D, strides as [number, number, number], padding),
      );
      const y = outs.length > 1 ? tf.concat(outs, x.rank - 1) : outs[0]!;
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape);
    const { rank, kernelSize, strides, padding, dilationRate, filters } = this.args;
    return [
      shape[0]!,
      ...windowOutput(shape.slice(1, 1 + rank), { kernel: kernelSize, stride: strides, dilation: dilationRate, pad: padding }, rank, false),
      filters,
    ];
  }

  override getConfig(): ConfigDict {
    const { rank, filters, kernelSize, strides, padding, dilationRate, groups, useBias, seed } = this.args;
    return { ...super.getConfig(), rank, filters, kernelSize, strides, padding, dilationRate, groups, useBias, ...(seed !== undefined ? { seed } : {}) };
  }
}

/** Backends whose Conv2DBackpropFilter is missing (wasm) or far slower than their forward conv (cpu). */
const FILTER_GRAD_AS_CONV = new Set(["cpu", "wasm"]);

/**
 * tf.conv2d, with the filter gradient computed as a convolution on the cpu and wasm backends:
 * dW[a, b, ci, co] = sum over n, i, j of xPadded[n, i*s + a, j*s + b, ci] * dy[n, i, j, co], which is
 * a conv of xPadded seen as [Cin, H, W, N] with dy seen as an [oh, ow, N, Cout] filter dilated by
 * the stride. The input gradient keeps tfjs's kernel, which is fast enough.
 */
export function conv2dFilterGradAsConv(x: tf.Tensor4D, kernel: tf.Tensor4D, strides: [number, number], padding: "same" | "valid"): tf.Tensor4D {
  if (!FILTER_GRAD_AS_CONV.has(tf.getBackend())) return tf.conv2d(x, kernel, strides, padding);
  const conv = tf.customGrad((input, filter, save) => {
    const [xIn, w] = [input as tf.Tensor4D, filter as tf.Tensor4D];
    (save as (tensors: tf.Tensor[]) => void)([xIn, w]);
    return {
      value: tf.conv2d(xIn, w, strides, padding),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dy4 = dy as tf.Tensor4D;
        const dx = tf.conv2dTranspose(dy4, ws, xs.shape, strides, padding);
        const [kh, kw] = ws.shape;
        const { before, after } = resolvePadding(padding, [xs.shape[1], xs.shape[2]], [kh, kw], strides, [1, 1]);
        const padded = tf.pad(xs, [
          [0, 0],
          [before[0]!, after[0]!],
          [before[1]!, after[1]!],
          [0, 0],
        ]);
        const byChannel = tf.transpose(padded, [3, 1, 2, 0]) as tf.Tensor4D;
        const dyFilter = tf.transpose(dy4, [1, 2, 0, 3]) as tf.Tensor4D;
        const full = tf.conv2d(byChannel, dyFilter, 1, "valid", "NHWC", strides);
        const dw = tf.transpose(tf.slice(full, [0, 0, 0, 0], [-1, kh, kw, -1]), [1, 2, 0, 3]);
        return [dx, dw];
      },
    };
  });
  return conv(x, kernel) as tf.Tensor4D;
}

/**
 * A 1D convolution of [N, T, C] sequences as a 2D convolution of [N, T, 1, C] maps (a [k, 1]
 * kernel), so that it shares the 2D path's fast filter gradient on cpu and wasm.
 */
export function conv1dAsConv2d(x: tf.Tensor3D, kernel: tf.Tensor3D, stride: number, padding: "same" | "valid"): tf.Tensor3D {
  const [n, t, c] = x.shape;
  const [k, cin, filters] = kernel.shape;
  const y = conv2dFilterGradAsConv(tf.reshape(x, [n, t, 1, c]) as tf.Tensor4D, tf.reshape(kernel, [k, 1, cin, filters]) as tf.Tensor4D, [stride, 1], padding);
  return tf.reshape(y, [n, y.shape[1], filters]) as tf.Tensor3D;
}

/**
 * tf.conv3d, computed on the wasm backend as a sum over the kernel's temporal taps of 2D
 * convolutions on frames (time folded into the batch): y[t] = sum over a of conv2d(x[t*st + a], w[a]).
 * wasm's conv2d runs through XNNPACK while its conv3d is a naive loop, and its Conv3D gradients
 * are wrong under "same" padding and strides (tfjs-backend-wasm 4.22; test/wasm.test.ts compares
 * with the cpu backend); autodiff through the 2D convs (`conv2dFilterGradAsConv`) and slices is
 * exact. On the cpu backend tfjs's own conv3d is faster than this path (bench/tfjs-latency.ts).
 */
export function conv3dAsConv2d(x: tf.Tensor5D, kernel: tf.Tensor5D, strides: [number, number, number], padding: "same" | "valid"): tf.Tensor5D {
  if (tf.getBackend() !== "wasm") return tf.conv3d(x, kernel, strides, padding);
  const [n, t, h, w, c] = x.shape;
  const [kt, kh, kw, , filters] = kernel.shape;
  const { before, after, out } = resolveWindow([t, h, w], { kernel: [kt, kh, kw], stride: strides, pad: padding }, 3, false);
  const pads = before.map((b, a) => [b, after[a]!] as [number, number]);
  const [ot, oh, ow] = out as [number, number, number];
  const padded = pads.some(([b, a]) => b > 0 || a > 0) ? tf.pad(x, [[0, 0], ...pads, [0, 0]]) : x;
  const [, , hp, wp] = padded.shape;
  const taps = Array.from({ length: kt }, (_, a) => {
    // The frames tap `a` sees for every output frame, folded into the batch.
    const frames = everyNth(padded, a, ot, strides[0]);
    const tap = tf.reshape(tf.slice(kernel, [a, 0, 0, 0, 0], [1, kh, kw, c, filters]), [kh, kw, c, filters]) as tf.Tensor4D;
    return conv2dFilterGradAsConv(tf.reshape(frames, [n * ot, hp, wp, c]) as tf.Tensor4D, tap, [strides[1], strides[2]], "valid");
  });
  const sum = taps.length === 1 ? taps[0]! : tf.addN(taps);
  return tf.reshape(sum, [n, ot, oh, ow, filters]) as tf.Tensor5D;
}

/**
 * Frames start, start + step, ... (count of them) of [N, T, ...] clips, differentiably (tfjs has no
 * gradient for stridedSlice): a slice of count * step frames (zero-padded past the end, where only
 * skipped frames fall), reshaped to [N, count, step, ...], keeping the first of each step. It
 * slices a [N, T, rest] view: wasm slices and pads tensors of rank 5 element by element, some 25
 * times slower.
 */
function everyNth(clips: tf.Tensor, start: number, count: number, step: number): tf.Tensor {
  const [n, t, ...rest] = clips.shape as number[];
  const inner = rest.reduce((a, b) => a * b, 1);
  const flat = tf.reshape(clips, [n!, t!, inner]);
  if (step === 1) return tf.reshape(tf.slice(flat, [0, start, 0], [n!, count, inner]), [n!, count, ...rest]);
  const available = Math.min(count * step, t! - start);
  let span = tf.slice(flat, [0, start, 0], [n!, available, inner]);
  if (available < count * step)
    span = tf.pad(span, [
      [0, 0],
      [0, count * step - available],
      [0, 0],
    ]);
  const grouped = tf.reshape(span, [n!, count, step, inner]);
  return tf.reshape(tf.slice(grouped, [0, 0, 0, 0], [n!, count, 1, inner]), [n!, count, ...rest]);
}

/**
 * Inserts d - 1 zeros between the taps of a [...spatial, in, out] kernel along each spatial axis,
 * as one product with a 0/1 placement matrix [dilated taps, taps]: exact, differentiable, and
 * free of strided slices (tfjs's cpu and wasm backends copy a slice of a rank-5 tensor element by
 * element: seven seconds for one dilated 3x3 conv of res5 at 512 channels, against 0.15 s here).
 */
function dilate(kernel: tf.Tensor, dilation: readonly number[]): tf.Tensor {
  const spatial = kernel.shape.slice(0, dilation.length);
  const dilated = spatial.map((k, axis) => (k - 1) * dilation[axis]! + 1);
  const taps = spatial.reduce((a, b) => a * b, 1);
  const rows = dilated.reduce((a, b) => a * b, 1);
  const placement = new Float32Array(rows * taps);
  for (let tap = 0; tap < taps; tap++) {
    // The tap's index along each axis, last axis fastest, placed at index x dilation.
    let rest = tap;
    let row = 0;
    let step = 1;
    for (let axis = spatial.length - 1; axis >= 0; axis--) {
      row += (rest % spatial[axis]!) * dilation[axis]! * step;
      rest = Math.floor(rest / spatial[axis]!);
      step *= dilated[axis]!;
    }
    placement[row * taps + tap] = 1;
  }
  const channels = kernel.shape.slice(dilation.length);
  const flat = tf.reshape(kernel, [taps, channels.reduce((a, b) => a * b, 1)]);
  return tf.reshape(tf.matMul(tf.tensor2d(placement, [rows, taps]), flat), [...dilated, ...channels]);
}

tf.serialization.registerClass(VnetConv);
