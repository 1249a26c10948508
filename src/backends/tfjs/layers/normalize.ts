/**
 * Per-channel normalisation inside a model, (x / scale - mean) / std, for specs that normalise
 * after a model layer rather than in a stream (a stream's normalize runs in the data pipeline).
 */
import * as tf from "@tensorflow/tfjs";
import { type ConfigDict, type LayerArgs, type Shape, singleShape, singleTensor } from "./common.js";

export interface VnetNormalizeArgs extends LayerArgs {
  mean: number[];
  std: number[];
  scale: number;
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
      const { mean, std, scale } = this.args;
      return tf.div(tf.sub(tf.div(singleTensor(inputs), scale), tf.tensor1d(mean)), tf.tensor1d(std));
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override getConfig(): ConfigDict {
    const { mean, std, scale } = this.args;
    return { ...super.getConfig(), mean, std, scale };
  }
}

tf.serialization.registerClass(VnetNormalize);
