/**
 * Local response normalisation across channels, on tensors of any rank, in the catalogue's
 * convention (Caffe, PyTorch, ONNX): b = a / (k + alpha / size * sum of a^2 over the window)^beta,
 * with the window [c - floor(size / 2), c + floor((size - 1) / 2)] as PyTorch places it (so even
 * sizes work too) and channels beyond the edges counted as zeros. tfjs's own op takes a summed
 * alpha, odd windows and rank-4 tensors only, so the window sum is computed here from slices.
 */
import * as tf from "@tensorflow/tfjs";
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
      const paddings = x.shape.map((): [number, number] => [0, 0]);
      paddings[x.rank - 1] = [Math.floor(size / 2), Math.floor((size - 1) / 2)];
      const squares = tf.pad(tf.square(x), paddings);
      const begin = x.shape.map(() => 0);
      const extent = [...x.shape.slice(0, -1), channels];
      let sum = tf.slice(squares, begin, extent);
      for (let j = 1; j < size; j++) {
        begin[x.rank - 1] = j;
        sum = tf.add(sum, tf.slice(squares, begin, extent));
      }
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
