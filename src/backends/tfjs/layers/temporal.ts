/**
 * Layers that move the time axis: frame stacking for early fusion, frame selection (temporal
 * subsampling, one frame), and folding time into the batch for per-frame bodies. None has weights.
 */
import * as tf from "@tensorflow/tfjs";
import { type ConfigDict, type LayerArgs, type Shape, singleShape, singleTensor } from "./common.js";

/** [N, T, H, W, C] -> [N, H, W, T*C], frame-major: channels t0c0, t0c1, ..., t1c0, ... */
export class VnetStackFrames extends tf.layers.Layer {
  static className = "VnetStackFrames";

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const [, t, h, w, c] = x.shape as number[];
      return tf.reshape(tf.transpose(x, [0, 2, 3, 1, 4]), [-1, h!, w!, t! * c!]);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, t, h, w, c] = singleShape(inputShape);
    return [n!, h!, w!, t === null || c === null ? null : t! * c!];
  }
}

export interface VnetSelectFramesArgs extends LayerArgs {
  /** Frames to keep, in order (`src/ops/temporal.ts` computes them). */
  indices: number[];
  /** False for a single frame whose time axis is dropped ([N, T, ...] -> [N, ...]). */
  keepTime: boolean;
}

/** Keeps the given frames of the time axis (axis 1): `subsample`, and `frame` without the time axis. */
export class VnetSelectFrames extends tf.layers.Layer {
  static className = "VnetSelectFrames";
  private readonly indices: number[];
  private readonly keepTime: boolean;

  constructor(args: VnetSelectFramesArgs) {
    super(args);
    this.indices = args.indices;
    this.keepTime = args.keepTime;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    // Slices, not a gather: their gradient (a pad) exists on every backend, gather's
    // (UnsortedSegmentSum) not on wasm. Of a [N, T, rest] view: wasm slices tensors of rank 5 element by element.
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const [n, t, ...rest] = x.shape;
      const inner = rest.reduce((a, b) => a * b, 1);
      const flat = tf.reshape(x, [n!, t!, inner]);
      const frames = this.indices.map((i) => tf.slice(flat, [0, i, 0], [n!, 1, inner]));
      const kept = frames.length === 1 ? frames[0]! : tf.concat(frames, 1);
      return tf.reshape(kept, [n!, ...(this.keepTime ? [this.indices.length] : []), ...rest]);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape);
    return [shape[0]!, ...(this.keepTime ? [this.indices.length] : []), ...shape.slice(2)];
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), indices: this.indices, keepTime: this.keepTime };
  }
}

/** [N, T, ...] -> [N*T, ...]: every frame becomes an example for the per-frame layers that follow. */
export class VnetFoldTime extends tf.layers.Layer {
  static className = "VnetFoldTime";

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = singleTensor(inputs);
    return tf.reshape(x, [-1, ...x.shape.slice(2)]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape);
    return [null, ...shape.slice(2)];
  }
}

export interface VnetUnfoldTimeArgs extends LayerArgs {
  frames: number;
}

/** [N*T, ...] -> [N, T, ...], undoing VnetFoldTime. */
export class VnetUnfoldTime extends tf.layers.Layer {
  static className = "VnetUnfoldTime";
  private readonly frames: number;

  constructor(args: VnetUnfoldTimeArgs) {
    super(args);
    this.frames = args.frames;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = singleTensor(inputs);
    return tf.reshape(x, [-1, this.frames, ...x.shape.slice(1)]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape);
    return [null, this.frames, ...shape.slice(1)];
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), frames: this.frames };
  }
}

export interface VnetTemporalShiftArgs extends LayerArgs {
  /** Frames are folded into the batch (inside per_frame); otherwise axis 1 is time. */
  timeInBatch: boolean;
  segments: number;
  /** Channels moved each way (see the catalogue's `temporalShiftPlan`). */
  moved: number;
}

/**
 * TSM's temporal shift: within each group of `segments` consecutive frames, channels [0, moved)
 * take the next frame's values and [moved, 2 * moved) the previous frame's, zero past the ends.
 */
export class VnetTemporalShift extends tf.layers.Layer {
  static className = "VnetTemporalShift";
  private readonly timeInBatch: boolean;
  private readonly segments: number;
  private readonly moved: number;

  constructor(args: VnetTemporalShiftArgs) {
    super(args);
    this.timeInBatch = args.timeInBatch;
    this.segments = args.segments;
    this.moved = args.moved;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const s = this.segments;
      const channels = x.shape.at(-1)!;
      const perFrame = x.shape.slice(this.timeInBatch ? 1 : 2).reduce((a, b) => a * b, 1);
      // Time outermost, [segments, groups, values of a frame], so that shifting by a frame copies
      // contiguous blocks: slicing or padding a middle or last axis is slow in tfjs's cpu and
      // wasm kernels (rank 5 especially), which made this layer dominate TSM's training step.
      const byTime = tf.transpose(tf.reshape(x, [-1, s, perFrame]), [1, 0, 2]);
      const groups = byTime.shape[1]!;
      const zero = tf.zeros([1, groups, perFrame]);
      const next = tf.concat([tf.slice(byTime, [1, 0, 0], [s - 1, -1, -1]), zero], 0);
      const previous = tf.concat([zero, tf.slice(byTime, [0, 0, 0], [s - 1, -1, -1])], 0);
      const mask = (from: number, to: number) => tf.tensor1d(Array.from({ length: channels }, (_, c) => (c >= from && c < to ? 1 : 0)));
      const byChannel = (t: tf.Tensor) => tf.reshape(t, [-1, channels]);
      const m = this.moved;
      const shifted = tf.addN([
        tf.mul(byChannel(next), mask(0, m)),
        tf.mul(byChannel(previous), mask(m, 2 * m)),
        tf.mul(byChannel(byTime), mask(2 * m, channels)),
      ]);
      return tf.reshape(
        tf.transpose(tf.reshape(shifted, [s, groups, perFrame]), [1, 0, 2]),
        x.shape.map((d, i) => (i === 0 ? -1 : d)),
      );
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), timeInBatch: this.timeInBatch, segments: this.segments, moved: this.moved };
  }
}

for (const cls of [VnetStackFrames, VnetSelectFrames, VnetFoldTime, VnetUnfoldTime, VnetTemporalShift]) tf.serialization.registerClass(cls);
