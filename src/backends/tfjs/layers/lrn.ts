/**
 * Local response normalisation across channels, on tensors of any rank, in the catalogue's
 * convention (Caffe, PyTorch, ONNX): b = a / (k + alpha / size * sum of a^2 over the window)^beta,
 * with the window [c - floor(size / 2), c + floor((size - 1) / 2)] as PyTorch places it (so even
 * sizes work too) and channels beyond the edges counted as zeros. tfjs's own op sums alpha, takes
 * rank-4 tensors and centred (odd) windows: odd sizes use it on a reshaped tensor with alpha / size
 * (its kernels are the fast ones), even sizes sum the window with the catalogue's band matrix
 * (`lrnBand`, which the ONNX backend uses too).
 */
import * as tf from "@tensorflow/tfjs";
import { lrnBand } from "../../../ops/geometry.js";
import { type ConfigDict, type LayerArgs, type Shape, singleShape, singleTensor } from "./common.js";

export interface VnetLrnArgs extends LayerArgs {
  size: number;
  alpha: number;
  beta: number;
  k: number;
}

export class VnetLrn extends tf.layers.Layer {
  static className = "VnetLrn";
  private readonly args: VnetLrnArgs;

  constructor(args: VnetLrnArgs) {
    super(args);
    this.args = args;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const { size, alpha, beta, k } = this.args;
      const channels = x.shape[x.rank - 1]!;
      if (size % 2 === 1) {
        const flat = tf.reshape(x, [-1, 1, 1, channels]) as tf.Tensor4D;
        return tf.reshape(tf.localResponseNormalization(flat, (size - 1) / 2, k, alpha / size, beta), x.shape);
      }
      const sum = tf.reshape(tf.matMul(tf.reshape(tf.square(x), [-1, channels]), tf.tensor2d(lrnBand(channels, size), [channels, channels])), x.shape);
      return tf.div(x, tf.pow(tf.add(tf.mul(sum, alpha / size), k), beta));
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override getConfig(): ConfigDict {
    const { size, alpha, beta, k } = this.args;
    return { ...super.getConfig(), size, alpha, beta, k };
  }
}

tf.serialization.registerClass(VnetLrn);
