/**
 * Grouped and dilated convolutions that tfjs-layers lacks: tfjs has no `groups` at all, no
 * gradient for a dilated conv3d, and no conv2d with both a stride and a dilation. Groups split the
 * channels and run one conv per group (AlexNet's conv2/4/5 in CaffeNet-style specs). A dilated
 * kernel is expanded with zeros between its taps before an ordinary convolution, which keeps it
 * differentiable and free of tfjs's dilation restrictions. On the cpu backend a 2D conv computes
 * its filter gradient as a convolution (`conv2dCpuFriendly`): tfjs's own Conv2DBackpropFilter
 * kernel there is some 25 times slower than the forward conv. Padding is "same" or "valid": the IR's
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
          ? conv2dCpuFriendly(part as tf.Tensor4D, ks[g] as tf.Tensor4D, strides as [number, number], padding)
          : tf.conv3d(part as tf.Tensor5D, ks[g] as tf.Tensor5D, strides as [number, number, number], padding, "NDHWC", [1, 1, 1]),
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

/**
 * tf.conv2d, with the filter gradient computed as a convolution on the cpu backend:
 * dW[a, b, ci, co] = sum over n, i, j of xPadded[n, i*s + a, j*s + b, ci] * dy[n, i, j, co], which is
 * a conv of xPadded seen as [Cin, H, W, N] with dy seen as an [oh, ow, N, Cout] filter dilated by
 * the stride. The input gradient keeps tfjs's kernel, which is fast enough.
 */
export function conv2dCpuFriendly(x: tf.Tensor4D, kernel: tf.Tensor4D, strides: [number, number], padding: "same" | "valid"): tf.Tensor4D {
  if (tf.getBackend() !== "cpu") return tf.conv2d(x, kernel, strides, padding);
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
        const padFor = (size: number, k: number, s: number, out: number): [number, number] => {
          if (padding === "valid") return [0, 0];
          const total = Math.max((out - 1) * s + k - size, 0);
          return [Math.floor(total / 2), total - Math.floor(total / 2)];
        };
        const padded = tf.pad(xs, [[0, 0], padFor(xs.shape[1], kh, strides[0], oh), padFor(xs.shape[2], kw, strides[1], ow), [0, 0]]);
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

/** Inserts d - 1 zeros between the taps of a [...spatial, in, out] kernel along each spatial axis. */
function dilate(kernel: tf.Tensor, dilation: readonly number[]): tf.Tensor {
  let k = kernel;
  dilation.forEach((d, axis) => {
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
  return k;
}

tf.serialization.registerClass(VnetConv);
