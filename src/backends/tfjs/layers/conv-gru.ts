/**
 * Convolutional GRU (Ballas et al. 2016) over a sequence of feature maps [N, T, H, W, C]; tfjs has
 * ConvLSTM2D but no ConvGRU2D. Gates follow tfjs's GRU (Keras "reset before"), with convolutions in
 * place of matrix products, "same" padding and gates ordered z, r, h in the weights:
 *   z = sigmoid(Wz * x + Uz * h + bz),  r = sigmoid(Wr * x + Ur * h + br)
 *   h~ = tanh(Wh * x + Uh * (r . h) + bh),  h' = z . h + (1 - z) . h~
 * Weights: kernel [kh, kw, C, 3F], recurrent_kernel [kh, kw, F, 3F], bias [3F]; the state starts at zero.
 */
import * as tf from "@tensorflow/tfjs";
import { type ConfigDict, type Shape, type VnetLayerArgs, makeInitializer, singleShape, singleTensor } from "./common.js";

export interface VnetConvGru2dArgs extends VnetLayerArgs {
  filters: number;
  kernelSize: [number, number];
  returnSequences: boolean;
}

export class VnetConvGru2d extends tf.layers.Layer {
  static className = "VnetConvGru2d";
  private readonly args: VnetConvGru2dArgs;
  private kernel!: tf.LayerVariable;
  private recurrentKernel!: tf.LayerVariable;
  private bias!: tf.LayerVariable;

  constructor(args: VnetConvGru2dArgs) {
    super(args);
    this.args = args;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    const channels = shape[shape.length - 1] as number;
    const { filters, kernelSize, seed, zeroInit } = this.args;
    const [kh, kw] = kernelSize;
    this.kernel = this.addWeight("kernel", [kh, kw, channels, 3 * filters], "float32", makeInitializer("recurrent", seed, zeroInit));
    this.recurrentKernel = this.addWeight("recurrent_kernel", [kh, kw, filters, 3 * filters], "float32", makeInitializer("recurrent", seed === undefined ? undefined : seed + 1, zeroInit));
    this.bias = this.addWeight("bias", [3 * filters], "float32", makeInitializer("zeros", undefined));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs) as tf.Tensor5D;
      const f = this.args.filters;
      const [n, t, h, w] = x.shape;
      const [wz, wr, wh] = tf.split(this.kernel.read(), 3, 3) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const [uz, ur, uh] = tf.split(this.recurrentKernel.read(), 3, 3) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const [bz, br, bh] = tf.split(this.bias.read(), 3);
      const conv = (input: tf.Tensor4D, kernel: tf.Tensor4D) => tf.conv2d(input, kernel, 1, "same");
      // Input-to-state convolutions for all steps at once: [N*T, H, W, C].
      const steps = tf.reshape(x, [n * t, h, w, x.shape[4]]) as tf.Tensor4D;
      const along = (k: tf.Tensor4D, b: tf.Tensor) => tf.unstack(tf.reshape(tf.add(conv(steps, k), b), [n, t, h, w, f]), 1) as tf.Tensor4D[];
      const xz = along(wz, bz!);
      const xr = along(wr, br!);
      const xh = along(wh, bh!);
      let state = tf.zeros([n, h, w, f]) as tf.Tensor4D;
      const outputs: tf.Tensor4D[] = [];
      for (let step = 0; step < t; step++) {
        const z = tf.sigmoid(tf.add(xz[step]!, conv(state, uz)));
        const r = tf.sigmoid(tf.add(xr[step]!, conv(state, ur)));
        const candidate = tf.tanh(tf.add(xh[step]!, conv(tf.mul(r, state) as tf.Tensor4D, uh)));
        state = tf.add(tf.mul(z, state), tf.mul(tf.sub(1, z), candidate)) as tf.Tensor4D;
        outputs.push(state);
      }
      return this.args.returnSequences ? tf.stack(outputs, 1) : state;
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, t, h, w] = singleShape(inputShape);
    return this.args.returnSequences ? [n!, t!, h!, w!, this.args.filters] : [n!, h!, w!, this.args.filters];
  }

  override getConfig(): ConfigDict {
    const { filters, kernelSize, returnSequences, seed } = this.args;
    return { ...super.getConfig(), filters, kernelSize, returnSequences, ...(seed !== undefined ? { seed } : {}) };
  }
}

tf.serialization.registerClass(VnetConvGru2d);
