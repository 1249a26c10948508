/**
 * RoIAlign as a tfjs layer: `[features [N, H, W, C], boxes [K, 5]] -> [K, PH, PW, C]`. The
 * boxes are data (read once per call); the sampling map of src/ops/roi-align.ts (torchvision's
 * bilinear sampling) becomes a sampling matrix [K * PH * PW, N * H * W] (each bin's bilinear
 * weights, averaged over its samples) multiplied by the map's positions [N * H * W, C]: a matMul,
 * differentiable in the features with a matMul as its gradient. (A gather and a segment sum
 * compute the same, but tfjs's CPU segment sum, also the gather's gradient, loops over every
 * segment: training the tiny detector spent 24 s of 25 in it per step.) tf.image.cropAndResize
 * samples differently: one bilinear sample per output cell, no bin averaging.
 */
import * as tf from "@tensorflow/tfjs";
import { roiAlignMatrix, type RoiAlignGeometry } from "../../../ops/roi-align.js";
import type { ConfigDict, LayerArgs, Shape } from "./common.js";

export interface VnetRoiAlignArgs extends LayerArgs, RoiAlignGeometry {}

export class VnetRoiAlign extends tf.layers.Layer {
  static className = "VnetRoiAlign";
  private readonly geometry: RoiAlignGeometry;

  constructor(args: VnetRoiAlignArgs) {
    super(args);
    const { resolution, spatialScale, samplingRatio, aligned } = args;
    this.geometry = { resolution: [resolution[0], resolution[1]], spatialScale, samplingRatio, aligned };
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [features, boxes] = inputs as [tf.Tensor4D, tf.Tensor2D];
      const [n, h, w, c] = features.shape;
      const [ph, pw] = this.geometry.resolution;
      const k = boxes.shape[0];
      if (k === 0) return tf.mul(tf.zeros([k, ph, pw, c]), tf.sum(features));
      const columns = n * h * w;
      const matrix = roiAlignMatrix(boxes.dataSync(), { batch: n, height: h, width: w }, this.geometry);
      const bins = tf.matMul(tf.tensor2d(matrix, [k * ph * pw, columns]), tf.reshape(features, [columns, c]));
      return tf.reshape(bins, [k, ph, pw, c]);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [features, boxes] = inputShape as Shape[];
    return [boxes![0] ?? null, this.geometry.resolution[0], this.geometry.resolution[1], features![3]!];
  }

  override getConfig(): ConfigDict {
    const { resolution, spatialScale, samplingRatio, aligned } = this.geometry;
    return { ...super.getConfig(), resolution: [...resolution], spatialScale, samplingRatio, aligned };
  }
}

tf.serialization.registerClass(VnetRoiAlign);
