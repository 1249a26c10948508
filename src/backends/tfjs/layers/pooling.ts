/**
 * Pools tfjs-layers lacks: average pooling with explicit padding left out of the average (the
 * catalogue's rule, also TensorFlow's for "same"), and pooling over whole axes, which global
 * pooling (over every position, of sequences, images or clips: tfjs has no GlobalAveragePooling3D)
 * and temporal pooling (over time) both are.
 */
import * as tf from "@tensorflow/tfjs";
import { type ConfigDict, type LayerArgs, type Shape, singleShape, singleTensor, windowOutput } from "./common.js";

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
        rank === 2
          ? tf.avgPool(t as tf.Tensor4D, poolSize as [number, number], strides as [number, number], "valid")
          : tf.avgPool3d(t as tf.Tensor5D, poolSize as [number, number, number], strides as [number, number, number], "valid");
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
    return [
      shape[0]!,
      ...windowOutput(shape.slice(1, 1 + rank), { kernel: poolSize, stride: strides, pad: "explicit", pad_before: before, pad_after: after }, rank, true),
      shape[shape.length - 1]!,
    ];
  }

  override getConfig(): ConfigDict {
    const { rank, poolSize, strides, before, after } = this.args;
    return { ...super.getConfig(), rank, poolSize, strides, before, after };
  }
}

export interface VnetAxisPoolArgs extends LayerArgs {
  mode: "mean" | "max";
  /** "positions": every axis but batch and channels, [N, ..., C] -> [N, C]; "time": axis 1, [N, T, ...] -> [N, ...]. */
  over: "positions" | "time";
}

/** Mean or max over axes: global pooling (`global_avg_pool`, `global_max_pool`) and `temporal_pool`. */
export class VnetAxisPool extends tf.layers.Layer {
  static className = "VnetAxisPool";
  private readonly mode: "mean" | "max";
  private readonly over: "positions" | "time";

  constructor(args: VnetAxisPoolArgs) {
    super(args);
    this.mode = args.mode;
    this.over = args.over;
  }

  private axes(rank: number): number[] {
    return this.over === "time" ? [1] : Array.from({ length: rank - 2 }, (_, i) => i + 1);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = singleTensor(inputs);
    return this.mode === "max" ? tf.max(x, this.axes(x.rank)) : tf.mean(x, this.axes(x.rank));
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape);
    const removed = new Set(this.axes(shape.length));
    return shape.filter((_, i) => !removed.has(i));
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), mode: this.mode, over: this.over };
  }
}

tf.serialization.registerClass(VnetAvgPool);
tf.serialization.registerClass(VnetAxisPool);
