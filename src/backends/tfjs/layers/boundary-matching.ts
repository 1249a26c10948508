/**
 * BMN's boundary-matching layer: [N, T, C] -> [N, S, D, T, C] as one matrix product with the
 * fixed sampling mask of src/ops/boundary-matching.ts (transposed to [S x D x T, T]), which is
 * computed once per geometry and kept out of the saved weights.
 */
import * as tf from "@tensorflow/tfjs";
import { boundaryMatchingMask, type BoundaryMatching } from "../../../ops/boundary-matching.js";
import { type ConfigDict, type LayerArgs, type Shape, singleShape, singleTensor } from "./common.js";

export interface VnetBoundaryMatchingArgs extends LayerArgs {
  samples: number;
  perBin: number;
  boundaryRatio: number;
  durations: number;
}

/** The transposed masks [S x D x T, T], by geometry: shared by every layer and model that needs one. */
const MASKS = new Map<string, tf.Tensor2D>();

function transposedMask(bm: BoundaryMatching): tf.Tensor2D {
  const key = JSON.stringify(bm);
  let mask = MASKS.get(key);
  if (!mask) {
    const { positions: T, samples: S, durations: D } = bm;
    mask = tf.tidy(() => tf.transpose(tf.tensor2d(boundaryMatchingMask(bm), [T, S * D * T])) as tf.Tensor2D);
    tf.keep(mask);
    MASKS.set(key, mask);
  }
  return mask;
}

export class VnetBoundaryMatching extends tf.layers.Layer {
  static className = "VnetBoundaryMatching";
  private readonly args: VnetBoundaryMatchingArgs;

  constructor(args: VnetBoundaryMatchingArgs) {
    super(args);
    this.args = args;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs) as tf.Tensor3D;
      const [n, t, c] = x.shape;
      const { samples: S, perBin, boundaryRatio, durations: D } = this.args;
      const mask = transposedMask({ positions: t, durations: D, samples: S, perBin, boundaryRatio });
      // [T, N x C]: every sequence's positions as the rows the mask mixes.
      const columns = tf.reshape(tf.transpose(x, [1, 0, 2]), [t, n * c]);
      // [S x D x T, N, C] -> [N, S x D x T, C] as a rank-3 transpose (wasm moves rank-5 tensors element by element).
      const sampled = tf.transpose(tf.reshape(tf.matMul(mask, columns), [S * D * t, n, c]), [1, 0, 2]);
      return tf.reshape(sampled, [n, S, D, t, c]);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, t, c] = singleShape(inputShape);
    return [n!, this.args.samples, this.args.durations, t!, c!];
  }

  override getConfig(): ConfigDict {
    const { samples, perBin, boundaryRatio, durations } = this.args;
    return { ...super.getConfig(), samples, perBin, boundaryRatio, durations };
  }
}

tf.serialization.registerClass(VnetBoundaryMatching);
