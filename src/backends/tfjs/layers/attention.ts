/**
 * The attention core of a non-local block (Wang et al. 2018, as PySlowFast computes it):
 * queries, keys and values are flattened over positions, affinities = query . key^T, normalised by
 * `mode`, and the output at each query position is the affinity-weighted sum of the values.
 * - "embedded_gaussian": softmax(affinity / sqrt(query channels)) (PySlowFast's "softmax");
 * - "dot": affinity / number of keys (PySlowFast's "dot_product");
 * - "gaussian": softmax(affinity), with the input itself as query and key.
 * The projections, pooling, output conv, batch norm and residual are ordinary layers around it.
 */
import * as tf from "@tensorflow/tfjs";
import { type ConfigDict, type LayerArgs, type Shape } from "./common.js";

export interface VnetNonLocalAttentionArgs extends LayerArgs {
  mode: "embedded_gaussian" | "dot" | "gaussian";
}

export class VnetNonLocalAttention extends tf.layers.Layer {
  static className = "VnetNonLocalAttention";
  private readonly mode: VnetNonLocalAttentionArgs["mode"];

  constructor(args: VnetNonLocalAttentionArgs) {
    super(args);
    this.mode = args.mode;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [query, key, value] = inputs as tf.Tensor[];
      const flat = (t: tf.Tensor) => tf.reshape(t, [t.shape[0]!, -1, t.shape[t.rank - 1]!]) as tf.Tensor3D;
      const q = flat(query!);
      const k = flat(key!);
      const v = flat(value!);
      let affinity = tf.matMul(q, k, false, true);
      if (this.mode === "dot") affinity = tf.div(affinity, k.shape[1]!);
      else {
        if (this.mode === "embedded_gaussian") affinity = tf.mul(affinity, 1 / Math.sqrt(q.shape[2]!));
        affinity = tf.softmax(affinity, -1);
      }
      const out = tf.matMul(affinity as tf.Tensor3D, v);
      return tf.reshape(out, [...query!.shape.slice(0, -1), v.shape[2]!]);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [query, , value] = inputShape as Shape[];
    return [...query!.slice(0, -1), value![value!.length - 1]!];
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), mode: this.mode };
  }
}

tf.serialization.registerClass(VnetNonLocalAttention);
