/**
 * Score fusion of two-stream networks: the weighted mean of the streams' class scores, after a
 * softmax ("softmax", Simonyan & Zisserman) or on the raw logits ("logits"). With "softmax" the
 * output is a probability distribution; with "logits" it stays a logit vector.
 */
import * as tf from "@tensorflow/tfjs";
import { type ConfigDict, type LayerArgs, type Shape } from "./common.js";

export interface VnetScoreFusionArgs extends LayerArgs {
  average: "softmax" | "logits";
  /** One weight per stream; equal weights when absent. (Not `weights`: Keras uses that for initial weights.) */
  streamWeights?: number[] | null;
}

export class VnetScoreFusion extends tf.layers.Layer {
  static className = "VnetScoreFusion";
  private readonly average: "softmax" | "logits";
  private readonly streamWeights: number[] | null;

  constructor(args: VnetScoreFusionArgs) {
    super(args);
    this.average = args.average;
    this.streamWeights = args.streamWeights ?? null;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const streams = inputs as tf.Tensor[];
      const raw = this.streamWeights ?? streams.map(() => 1);
      const total = raw.reduce((a, b) => a + b, 0);
      const scores = streams.map((s, i) => tf.mul(this.average === "softmax" ? tf.softmax(s, -1) : s, raw[i]! / total));
      return tf.addN(scores);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (inputShape as Shape[])[0]!;
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), average: this.average, streamWeights: this.streamWeights };
  }
}

tf.serialization.registerClass(VnetScoreFusion);
