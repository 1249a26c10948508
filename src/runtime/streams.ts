/**
 * The data pipeline of a spec: computes each model input (a raw clip or a `stream`) from a batch
 * of raw clips, with the same frame selection as the backends (`src/ir/temporal.ts`). Raw clips
 * hold values in [0, 1]; `normalize(scale = 255)` expects 8-bit pixel values, so the pipeline
 * multiplies by 255 first.
 */
import * as tf from "@tensorflow/tfjs";
import { frameIndex, subsampleIndices } from "../ir/temporal.js";
import type { CheckedNetwork, Layer } from "../semantics/network.js";

/** Why a network's streams cannot be computed here (undefined when they can). */
export function unsupportedStream(network: CheckedNetwork): string | undefined {
  const flow = network.layers.find((l) => l.stream && l.op === "optical_flow");
  if (flow) return `stream \`${flow.name}\` needs optical flow, which vnet's data pipeline does not compute yet; two-stream specs cannot be trained or evaluated`;
  const raw = network.inputs.filter((i) => i.kind === "input");
  if (raw.length !== 1) return `the data pipeline feeds one raw input; ${network.name} has ${raw.length}`;
  if (raw[0]!.shape.length !== 4) return `the data pipeline feeds video clips [T, H, W, C]; input \`${raw[0]!.name}\` is [${raw[0]!.shape.join(", ")}]`;
  return undefined;
}

/** The raw clip input's shape [T, H, W, C]. */
export function rawClipShape(network: CheckedNetwork): readonly number[] {
  return network.inputs.find((i) => i.kind === "input")!.shape;
}

/**
 * The model inputs for a batch of raw clips [N, T, H, W, C], in the order of the model's inputs
 * (the network's model inputs, as `buildIr` lists them). `provided` holds streams computed
 * elsewhere, by name (optical flow, until this pipeline computes it).
 */
export function computeModelInputs(network: CheckedNetwork, clips: tf.Tensor, provided: ReadonlyMap<string, tf.Tensor> = new Map()): tf.Tensor[] {
  const byId = new Map(network.layers.map((l) => [l.id, l]));
  const evaluate = (layer: Layer): tf.Tensor => {
    if (layer.op === "input") return clips;
    const input = evaluate(byId.get(layer.inputs[0]!)!);
    const time = input.shape[1]!;
    switch (layer.op) {
      case "subsample":
        return tf.gather(input, subsampleIndices(time, layer.args), 1);
      case "frame":
        return tf.squeeze(tf.gather(input, [frameIndex(time, layer.args)], 1), [1]);
      case "normalize": {
        const scale = (layer.args.scale as number | undefined) ?? 255;
        const mean = tf.tensor1d(layer.args.mean as number[]);
        const std = tf.tensor1d(layer.args.std as number[]);
        return tf.div(tf.sub(tf.mul(input, 255 / scale), mean), std);
      }
      default:
        throw new Error(`the data pipeline cannot compute \`${layer.op}\` (stream layer ${layer.name})`);
    }
  };
  return tf.tidy(() => network.inputs.filter((i) => i.modelInput).map((i) => provided.get(i.name) ?? evaluate(byId.get(i.layer)!)));
}
