/**
 * Batch normalisation over the last (channel) axis of a tensor of any rank: tfjs-layers'
 * BatchNormalization stops at rank 4, and video nets normalise [N, T, H, W, C] clips.
 * Semantics are PyTorch's BatchNorm3d, so weights and statistics carry over:
 * - training normalises with the batch mean and biased variance;
 * - the moving variance is updated with the unbiased variance (n / (n - 1));
 * - `momentum` is Keras's (weight of the old value): PyTorch momentum m is Keras 1 - m;
 * - a layer that is not trainable (frozen) always uses its moving statistics.
 */
import * as tf from "@tensorflow/tfjs";
import { type ConfigDict, type Kwargs, type Shape, type VnetLayerArgs, isTraining, makeInitializer, singleShape, singleTensor } from "./common.js";

export interface VnetBatchNormArgs extends VnetLayerArgs {
  epsilon: number;
  /** Keras convention: moving = momentum * moving + (1 - momentum) * batch. */
  momentum: number;
  /** Start with a zero scale (a residual branch that begins as the identity). */
  zeroGamma?: boolean;
}

export class VnetBatchNorm extends tf.layers.Layer {
  static className = "VnetBatchNorm";
  private readonly epsilon: number;
  private readonly momentum: number;
  private readonly zeroGamma: boolean;
  private readonly zeroInit: boolean;
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;
  private movingMean!: tf.LayerVariable;
  private movingVariance!: tf.LayerVariable;

  constructor(args: VnetBatchNormArgs) {
    super(args);
    this.epsilon = args.epsilon;
    this.momentum = args.momentum;
    this.zeroGamma = args.zeroGamma === true;
    this.zeroInit = args.zeroInit === true;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    const channels = [shape[shape.length - 1] as number];
    this.gamma = this.addWeight("gamma", channels, "float32", makeInitializer(this.zeroGamma ? "zeros" : "ones", undefined, this.zeroInit));
    this.beta = this.addWeight("beta", channels, "float32", makeInitializer("zeros", undefined));
    this.movingMean = this.addWeight("moving_mean", channels, "float32", makeInitializer("zeros", undefined), undefined, false);
    this.movingVariance = this.addWeight("moving_variance", channels, "float32", makeInitializer("ones", undefined, this.zeroInit), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const axes = x.shape.map((_, i) => i).slice(0, -1);
      if (!isTraining(kwargs) || !this.trainable) {
        return normalize(x, this.movingMean.read(), this.movingVariance.read(), this.gamma.read(), this.beta.read(), this.epsilon);
      }
      const { mean, variance } = tf.moments(x, axes);
      const count = x.size / (x.shape[x.shape.length - 1] as number);
      const unbiased = count > 1 ? tf.mul(variance, count / (count - 1)) : variance;
      const update = (variable: tf.LayerVariable, value: tf.Tensor) =>
        tf.tidy(() => {
          variable.write(tf.add(tf.mul(variable.read(), this.momentum), tf.mul(value, 1 - this.momentum)));
        });
      update(this.movingMean, mean);
      update(this.movingVariance, unbiased);
      return normalize(x, mean, variance, this.gamma.read(), this.beta.read(), this.epsilon);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon, momentum: this.momentum, zeroGamma: this.zeroGamma };
  }
}

/** (x - mean) / sqrt(var + eps) * gamma + beta, broadcast over the last axis. */
function normalize(x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, epsilon)));
  return tf.add(tf.mul(tf.sub(x, mean), scale), beta);
}

tf.serialization.registerClass(VnetBatchNorm);
