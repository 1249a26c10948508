/**
 * Convolutional recurrent layers over a sequence of feature maps [N, T, H, W, C], with "same"
 * padding, the state starting at zero, and gates whose products are 2D convolutions:
 * - ConvGRU (Ballas et al. 2016), which tfjs lacks; gates as tfjs's GRU (Keras "reset before"),
 *   ordered z, r, h in the weights:
 *     z = sigmoid(Wz * x + Uz * h + bz),  r = sigmoid(Wr * x + Ur * h + br)
 *     h~ = tanh(Wh * x + Uh * (r . h) + bh),  h' = z . h + (1 - z) . h~
 * - ConvLSTM (Shi et al. 2015), computing exactly what tfjs's ConvLSTM2D computes with sigmoid
 *   gates (gates i, f, c, o), but through `conv2dFilterGradAsConv`: tfjs's cell trains some ten times
 *   slower on the cpu backend. The forget-gate bias starts at 1 (Keras's unit_forget_bias).
 * Weights: kernel [kh, kw, C, gates*F], recurrent_kernel [kh, kw, F, gates*F], bias [gates*F].
 */
import * as tf from "@tensorflow/tfjs";
import { type ConfigDict, type Shape, type VnetLayerArgs, makeInitializer, singleShape, singleTensor } from "./common.js";
import { conv2dFilterGradAsConv } from "./conv.js";

export interface VnetConvRecurrentArgs extends VnetLayerArgs {
  filters: number;
  kernelSize: [number, number];
  returnSequences: boolean;
}

type Step = (inputTerms: tf.Tensor4D[], state: tf.Tensor4D[], recurrent: (h: tf.Tensor4D, gate: number) => tf.Tensor4D) => tf.Tensor4D[];

abstract class VnetConvRecurrent extends tf.layers.Layer {
  protected readonly args: VnetConvRecurrentArgs;
  protected abstract readonly gates: number;
  /** Number of state tensors ([h] for a GRU, [h, c] for an LSTM); the output is the first. */
  protected abstract readonly stateCount: number;
  protected abstract readonly step: Step;
  private kernel!: tf.LayerVariable;
  private recurrentKernel!: tf.LayerVariable;
  private bias!: tf.LayerVariable;

  constructor(args: VnetConvRecurrentArgs) {
    super(args);
    this.args = args;
  }

  /** The initial bias when it is not all zeros. */
  protected initialBias(): tf.Tensor | undefined {
    return undefined;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    const channels = shape[shape.length - 1] as number;
    const { filters, kernelSize, seed, zeroInit } = this.args;
    const [kh, kw] = kernelSize;
    const width = this.gates * filters;
    this.kernel = this.addWeight("kernel", [kh, kw, channels, width], "float32", makeInitializer("recurrent", seed, zeroInit));
    this.recurrentKernel = this.addWeight(
      "recurrent_kernel",
      [kh, kw, filters, width],
      "float32",
      makeInitializer("recurrent", seed === undefined ? undefined : seed + 1, zeroInit),
    );
    this.bias = this.addWeight("bias", [width], "float32", makeInitializer("zeros", undefined));
    const bias = zeroInit ? undefined : this.initialBias();
    if (bias) this.bias.write(bias);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs) as tf.Tensor5D;
      const f = this.args.filters;
      const [n, t, h, w, c] = x.shape;
      const recurrentKernels = tf.split(this.recurrentKernel.read(), this.gates, 3) as tf.Tensor4D[];
      // Input-to-state convolutions for every step at once, as [N*T, H, W, gates*F], plus bias.
      const steps = tf.reshape(x, [n * t, h, w, c]) as tf.Tensor4D;
      const inputConv = tf.add(conv2dFilterGradAsConv(steps, this.kernel.read() as tf.Tensor4D, [1, 1], "same"), this.bias.read());
      const perStep = tf.unstack(tf.reshape(inputConv, [n, t, h, w, this.gates * f]), 1) as tf.Tensor4D[];
      const recurrent = (state: tf.Tensor4D, gate: number) => conv2dFilterGradAsConv(state, recurrentKernels[gate]!, [1, 1], "same");
      let state = Array.from({ length: this.stateCount }, () => tf.zeros([n, h, w, f]) as tf.Tensor4D);
      const outputs: tf.Tensor4D[] = [];
      for (const terms of perStep) {
        state = this.step(tf.split(terms, this.gates, 3) as tf.Tensor4D[], state, recurrent);
        outputs.push(state[0]!);
      }
      return this.args.returnSequences ? tf.stack(outputs, 1) : state[0]!;
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

export class VnetConvGru2d extends VnetConvRecurrent {
  static className = "VnetConvGru2d";
  protected readonly gates = 3;
  protected readonly stateCount = 1;
  protected readonly step: Step = ([xz, xr, xh], [state], recurrent) => {
    const z = tf.sigmoid(tf.add(xz!, recurrent(state!, 0)));
    const r = tf.sigmoid(tf.add(xr!, recurrent(state!, 1)));
    const candidate = tf.tanh(tf.add(xh!, recurrent(tf.mul(r, state!) as tf.Tensor4D, 2)));
    return [tf.add(tf.mul(z, state!), tf.mul(tf.sub(1, z), candidate)) as tf.Tensor4D];
  };
}

export class VnetConvLstm2d extends VnetConvRecurrent {
  static className = "VnetConvLstm2d";
  protected readonly gates = 4;
  protected readonly stateCount = 2;
  protected readonly step: Step = ([xi, xf, xc, xo], [h, c], recurrent) => {
    const i = tf.sigmoid(tf.add(xi!, recurrent(h!, 0)));
    const f = tf.sigmoid(tf.add(xf!, recurrent(h!, 1)));
    const cell = tf.add(tf.mul(f, c!), tf.mul(i, tf.tanh(tf.add(xc!, recurrent(h!, 2))))) as tf.Tensor4D;
    const o = tf.sigmoid(tf.add(xo!, recurrent(h!, 3)));
    return [tf.mul(o, tf.tanh(cell)) as tf.Tensor4D, cell];
  };

  protected override initialBias(): tf.Tensor {
    const f = this.args.filters;
    return tf.concat([tf.zeros([f]), tf.ones([f]), tf.zeros([2 * f])]);
  }
}

tf.serialization.registerClass(VnetConvGru2d);
tf.serialization.registerClass(VnetConvLstm2d);
