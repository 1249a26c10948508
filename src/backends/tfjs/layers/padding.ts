/**
 * Constant padding of the spatial axes of an image [N, H, W, C] or a clip [N, T, H, W, C], before
 * and after each axis separately (tfjs has ZeroPadding2D only, and convs that take only "same" or
 * "valid"). `value` is 0 for convs and -Infinity for max pools, so padding never wins the max.
 */
import * as tf from "@tensorflow/tfjs";
import { type ConfigDict, type LayerArgs, type Shape, singleShape, singleTensor } from "./common.js";

export interface VnetPadArgs extends LayerArgs {
  /** Padding before each spatial axis (time, height, width or height, width). */
  before: number[];
  after: number[];
  /** The constant: a number, or "-inf". */
  value: number | "-inf";
}

export class VnetPad extends tf.layers.Layer {
  static className = "VnetPad";
  private readonly before: number[];
  private readonly after: number[];
  private readonly value: number | "-inf";

  constructor(args: VnetPadArgs) {
    super(args);
    this.before = args.before;
    this.after = args.after;
    this.value = args.value;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = singleTensor(inputs);
    const paddings: [number, number][] = x.shape.map((_, axis) => {
      const spatial = axis - 1;
      return spatial >= 0 && spatial < this.before.length ? [this.before[spatial]!, this.after[spatial]!] : [0, 0];
    });
    return tf.pad(x, paddings, this.value === "-inf" ? -Infinity : this.value);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape);
    return shape.map((d, axis) => {
      const spatial = axis - 1;
      return d !== null && spatial >= 0 && spatial < this.before.length ? d + this.before[spatial]! + this.after[spatial]! : d;
    });
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), before: this.before, after: this.after, value: this.value };
  }
}

tf.serialization.registerClass(VnetPad);
