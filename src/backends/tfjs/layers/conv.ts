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
import { type ConfigDict, type Shape, type VnetLayerArgs, makeInitializer, singleShape, singleTensor } from "./common.js";

export interface VnetConvArgs extends VnetLayerArgs {
  rank: 2 | 3;
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
        rank === 2
          ? conv2dFilterGradAsConv(part as tf.Tensor4D, ks[g] as tf.Tensor4D, strides as [number, number], padding)
          : conv3dGradsAsConv(part as tf.Tensor5D, ks[g] as tf.Tensor5D, strides as [number, number, number], padding),
      );
      const y = outs.length > 1 ? tf.concat(outs, x.rank - 1) : outs[0]!;
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape);
    const { rank, kernelSize, strides, padding, dilationRate, filters } = this.args;
    const spatial = shape.slice(1, 1 + rank).map((size, i) => {
      if (size === null) return null;
      if (padding === "same") return Math.ceil(size / strides[i]!);
      return Math.floor((size - dilationRate[i]! * (kernelSize[i]! - 1) - 1) / strides[i]!) + 1;
    });
    return [shape[0]!, ...spatial, filters];
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
        const [oh, ow] = [dy4.shape[1], dy4.shape[2]];
        const padded = tf.pad(xs, [[0, 0], samePads(padding, xs.shape[1], kh, strides[0], oh), samePads(padding, xs.shape[2], kw, strides[1], ow), [0, 0]]);
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

/** Padding before and after one axis of a "same" (TF rule) or "valid" window. */
function samePads(padding: "same" | "valid", size: number, kernel: number, stride: number, out: number): [number, number] {
  if (padding === "valid") return [0, 0];
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * tf.conv3d, with both gradients computed by forward convolutions on the wasm backend, whose
 * Conv3DBackpropInputV2 gives wrong input gradients under "same" padding and whose
 * Conv3DBackpropFilterV2 is wrong for strided convs (tfjs-backend-wasm 4.22; a test compares with
 * the cpu backend). With pads (pb, pa), kernel k, stride s, input n and output o per axis:
 * - dW = the input, padded and seen as [Cin, T, H, W, N], convolved with dy seen as an
 *   [ot, oh, ow, N, Cout] filter dilated by the stride, cropped to the kernel;
 * - dX = dy with s - 1 zeros between its entries, padded by k - 1 - pb before and
 *   n + pb - (o - 1)s - 1 after, convolved with the kernel flipped in space and time, in/out swapped.
 */
export function conv3dGradsAsConv(x: tf.Tensor5D, kernel: tf.Tensor5D, strides: [number, number, number], padding: "same" | "valid"): tf.Tensor5D {
  if (tf.getBackend() !== "wasm") return tf.conv3d(x, kernel, strides, padding);
  const conv = tf.customGrad((input, filter, save) => {
    const [xIn, w] = [input as tf.Tensor5D, filter as tf.Tensor5D];
    (save as (tensors: tf.Tensor[]) => void)([xIn, w]);
    return {
      value: tf.conv3d(xIn, w, strides, padding),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor5D, tf.Tensor5D];
        const dy5 = dy as tf.Tensor5D;
        const kernelSize = ws.shape.slice(0, 3);
        const pads = [0, 1, 2].map((a) => samePads(padding, xs.shape[a + 1]!, kernelSize[a]!, strides[a]!, dy5.shape[a + 1]!));
        const padded = tf.pad(xs, [[0, 0], ...pads, [0, 0]]);
        const byChannel = tf.transpose(padded, [4, 1, 2, 3, 0]) as tf.Tensor5D;
        const dyFilter = tf.transpose(dy5, [1, 2, 3, 0, 4]) as tf.Tensor5D;
        const full = tf.conv3d(byChannel, dyFilter, 1, "valid", "NDHWC", strides);
        const dw = tf.transpose(tf.slice(full, [0, 0, 0, 0, 0], [-1, ...kernelSize, -1]), [1, 2, 3, 0, 4]);
        let spread = dilate(dy5, strides, 1);
        const around = [0, 1, 2].map((a) => [kernelSize[a]! - 1 - pads[a]![0], xs.shape[a + 1]! + pads[a]![0] - (dy5.shape[a + 1]! - 1) * strides[a]! - 1] as [number, number]);
        // A stride that leaves input entries unused makes the trailing amount negative: crop instead.
        spread = tf.pad(spread, [[0, 0], ...around.map(([b, a]) => [b, Math.max(a, 0)] as [number, number]), [0, 0]]);
        spread = tf.slice(spread, 0, spread.shape.map((size, i) => (i >= 1 && i <= 3 ? size + Math.min(around[i - 1]![1], 0) : size)));
        const flipped = tf.transpose(tf.reverse(ws, [0, 1, 2]), [0, 1, 2, 4, 3]) as tf.Tensor5D;
        const dx = tf.conv3d(spread as tf.Tensor5D, flipped, 1, "valid");
        return [dx, dw];
      },
    };
  });
  return conv(x, kernel) as tf.Tensor5D;
}

/** Inserts d - 1 zeros between the entries along each axis from `firstAxis` on (a kernel's spatial axes by default). */
function dilate<T extends tf.Tensor>(tensor: T, dilation: readonly number[], firstAxis = 0): T {
  let k: tf.Tensor = tensor;
  dilation.forEach((d, i) => {
    const axis = firstAxis + i;
    if (d <= 1) return;
    const size = k.shape[axis]!;
    // Stack each tap with d - 1 zero slices, interleave, and drop the trailing zeros.
    const zeros = tf.zerosLike(k);
    const parts = [k, ...Array.from({ length: d - 1 }, () => zeros)];
    const stacked = tf.stack(parts, axis + 1);
    const shape = [...k.shape];
    shape[axis] = size * d;
    k = tf.slice(tf.reshape(stacked, shape), 0, shape.map((s, i) => (i === axis ? (size - 1) * d + 1 : s)));
  });
  return k as T;
}

tf.serialization.registerClass(VnetConv);
