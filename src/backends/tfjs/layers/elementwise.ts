/**
 * Elementwise layers tfjs lacks or defines differently: the broadcasting product of gates
 * (squeeze-excitation), PyTorch's hard sigmoid and hard swish (tfjs's `hardSigmoid` is Keras's
 * 0.2x + 0.5), and channel or frame slices. None has weights.
 */
import * as tf from "@tensorflow/tfjs";
import { broadcastShapes } from "../../../ops/catalogue.js";
import { type ConfigDict, type LayerArgs, type Shape, singleShape, singleTensor } from "./common.js";

/**
 * The product of its inputs, broadcast as the catalogue's `mul` says: shapes aligned on the last
 * (channel) axis, a shorter one gaining size-1 axes right after the batch.
 */
export class VnetMultiply extends tf.layers.Layer {
  static className = "VnetMultiply";

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const tensors = inputs as tf.Tensor[];
      const rank = Math.max(...tensors.map((t) => t.rank));
      const aligned = tensors.map((t) => (t.rank === rank ? t : tf.reshape(t, [-1, ...Array<number>(rank - t.rank).fill(1), ...t.shape.slice(1)])));
      return aligned.slice(1).reduce((product, t) => tf.mul(product, t), aligned[0]!);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shapes = inputShape as Shape[];
    const out = broadcastShapes(shapes.map((s) => s.slice(1).map((d) => d ?? 1)));
    if (!out) throw new Error(`internal: VnetMultiply inputs do not broadcast: ${JSON.stringify(shapes)}`);
    return [shapes[0]![0] ?? null, ...out];
  }
}

export type HardActivation = "hard_sigmoid" | "hard_swish";

export interface VnetHardActivationArgs extends LayerArgs {
  kind: HardActivation;
}

/** PyTorch's Hardsigmoid relu6(x + 3) / 6 and Hardswish x * relu6(x + 3) / 6. */
export class VnetHardActivation extends tf.layers.Layer {
  static className = "VnetHardActivation";
  private readonly kind: HardActivation;

  constructor(args: VnetHardActivationArgs) {
    super(args);
    this.kind = args.kind;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const gate = tf.div(tf.relu6(tf.add(x, 3)), 6);
      return this.kind === "hard_swish" ? tf.mul(x, gate) : gate;
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), kind: this.kind };
  }
}

export interface VnetSliceArgs extends LayerArgs {
  /** Axis of the input tensor, batch included (1 = the IR's first axis). */
  axis: number;
  start: number;
  end: number;
}

/** Keeps indices [start, end) of one axis. */
export class VnetSlice extends tf.layers.Layer {
  static className = "VnetSlice";
  private readonly axis: number;
  private readonly start: number;
  private readonly end: number;

  constructor(args: VnetSliceArgs) {
    super(args);
    this.axis = args.axis;
    this.start = args.start;
    this.end = args.end;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = singleTensor(inputs);
    const begin = x.shape.map((_, i) => (i === this.axis ? this.start : 0));
    const size = x.shape.map((_, i) => (i === this.axis ? this.end - this.start : -1));
    return tf.slice(x, begin, size);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = [...singleShape(inputShape)];
    shape[this.axis] = this.end - this.start;
    return shape;
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), axis: this.axis, start: this.start, end: this.end };
  }
}

tf.serialization.registerClass(VnetMultiply);
tf.serialization.registerClass(VnetHardActivation);
tf.serialization.registerClass(VnetSlice);
