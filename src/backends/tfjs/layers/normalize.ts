/**
 * Per-channel normalisation, (x / scale - mean) / std. A stream's normalisation (`stream`) reads
 * the raw clip, whose values in [0, 1] stand for 8-bit pixels, and computes (x * 255 / scale -
 * mean) / std; a model layer's divides its input by `scale` itself.
 */
import * as tf from "@tensorflow/tfjs";
import { type ConfigDict, type LayerArgs, type Shape, singleShape, singleTensor } from "./common.js";

export interface VnetNormalizeArgs extends LayerArgs {
  mean: number[];
  std: number[];
  scale: number;
  /** A stream's normalisation of pixels held in [0, 1]. */
  stream?: boolean;
}

export class VnetNormalize extends tf.layers.Layer {
  static className = "VnetNormalize";
  private readonly args: VnetNormalizeArgs;

  constructor(args: VnetNormalizeArgs) {
    super(args);
    this.args = args;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const { mean, std, scale, stream } = this.args;
      const x = singleTensor(inputs);
      const scaled = stream ? tf.mul(x, 255 / scale) : tf.div(x, scale);
      return tf.div(tf.sub(scaled, tf.tensor1d(mean)), tf.tensor1d(std));
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override getConfig(): ConfigDict {
    const { mean, std, scale, stream } = this.args;
    return { ...super.getConfig(), mean, std, scale, stream: stream === true };
  }
}

tf.serialization.registerClass(VnetNormalize);
