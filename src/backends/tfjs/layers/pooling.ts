/**
 * Pools tfjs-layers lacks: average pooling with explicit padding left out of the average (the
 * catalogue's rule, also TensorFlow's for "same"), global pooling of clips (no
 * GlobalAveragePooling3D in tfjs), and pooling over the time axis.
 */
import * as tf from "@tensorflow/tfjs";
import { type ConfigDict, type LayerArgs, type Shape, singleShape, singleTensor } from "./common.js";

export interface VnetAvgPoolArgs extends LayerArgs {
  rank: 2 | 3;
  poolSize: number[];
  strides: number[];
  before: number[];
  after: number[];
}

/** Average pool over zero-padded input, divided by the number of real (unpadded) inputs per window. */
export class VnetAvgPool extends tf.layers.Layer {
  static className = "VnetAvgPool";
  private readonly args: VnetAvgPoolArgs;

  constructor(args: VnetAvgPoolArgs) {
    super(args);
    this.args = args;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const { rank, poolSize, strides, before, after } = this.args;
      const paddings: [number, number][] = [[0, 0], ...before.map((b, i): [number, number] => [b, after[i]!]), [0, 0]];
      const pool = (t: tf.Tensor) =>
        rank === 2 ? tf.avgPool(t as tf.Tensor4D, poolSize as [number, number], strides as [number, number], "valid") : tf.avgPool3d(t as tf.Tensor5D, poolSize as [number, number, number], strides as [number, number, number], "valid");
      const sums = pool(tf.pad(x, paddings));
      // The fraction of each window that lies on the input, one value per output position.
      const ones = tf.ones([1, ...x.shape.slice(1, 1 + rank), 1]);
      const coverage = pool(tf.pad(ones, paddings));
      return tf.div(sums, coverage);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape);
    const { rank, poolSize, strides, before, after } = this.args;
    const spatial = shape.slice(1, 1 + rank).map((size, i) => (size === null ? null : Math.floor((size + before[i]! + after[i]! - poolSize[i]!) / strides[i]!) + 1));
    return [shape[0]!, ...spatial, shape[shape.length - 1]!];
  }

  override getConfig(): ConfigDict {
    const { rank, poolSize, strides, before, after } = this.args;
    return { ...super.getConfig(), rank, poolSize, strides, before, after };
  }
}

export interface VnetReduceArgs extends LayerArgs {
  mode: "mean" | "max";
}

/** Mean or max over every axis but batch and channels: [N, ..., C] -> [N, C]. */
export class VnetGlobalPool extends tf.layers.Layer {
  static className = "VnetGlobalPool";
  private readonly mode: "mean" | "max";

  constructor(args: VnetReduceArgs) {
    super(args);
    this.mode = args.mode;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = singleTensor(inputs);
    const axes = x.shape.map((_, i) => i).slice(1, -1);
    return this.mode === "max" ? tf.max(x, axes) : tf.mean(x, axes);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape);
    return [shape[0]!, shape[shape.length - 1]!];
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), mode: this.mode };
  }
}

/** Mean or max over the time axis: [N, T, ...] -> [N, ...]. */
export class VnetTemporalPool extends tf.layers.Layer {
  static className = "VnetTemporalPool";
  private readonly mode: "mean" | "max";

  constructor(args: VnetReduceArgs) {
    super(args);
    this.mode = args.mode;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = singleTensor(inputs);
    return this.mode === "max" ? tf.max(x, 1) : tf.mean(x, 1);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape);
    return [shape[0]!, ...shape.slice(2)];
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), mode: this.mode };
  }
}

tf.serialization.registerClass(VnetAvgPool);
tf.serialization.registerClass(VnetGlobalPool);
tf.serialization.registerClass(VnetTemporalPool);
