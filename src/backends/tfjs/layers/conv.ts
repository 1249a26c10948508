/**
 * Grouped and dilated convolutions that tfjs-layers lacks: tfjs has no `groups` at all, no
 * gradient for a dilated conv3d, and no conv2d with both a stride and a dilation. Groups split the
 * channels and run one conv per group (AlexNet's conv2/4/5 in CaffeNet-style specs). A dilated
 * kernel is expanded with zeros between its taps before an ordinary convolution, which keeps it
 * differentiable and free of tfjs's dilation restrictions. Padding is "same" or "valid": the IR's
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
      const dilateKernel = dilationRate.some((d) => d > 1);
      if (dilateKernel) kernel = dilate(kernel, dilationRate);
      const xs = groups > 1 ? tf.split(x, groups, x.rank - 1) : [x];
      const ks = groups > 1 ? tf.split(kernel, groups, kernel.rank - 1) : [kernel];
      const outs = xs.map((part, g) =>
        rank === 2
          ? tf.conv2d(part as tf.Tensor4D, ks[g] as tf.Tensor4D, strides as [number, number], padding, "NHWC", 1)
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
