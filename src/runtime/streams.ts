/**
 * The data pipeline of a spec: computes each model input (a raw clip or a `stream`) from a batch
 * of raw clips and the optical flow the data loader computed (src/data/flow.ts), with the same
 * frame selection as the backends (`src/ir/temporal.ts`). Raw clips hold values in [0, 1];
 * `normalize(scale = 255)` expects 8-bit pixel values, so the pipeline multiplies by 255 first.
 * A 2D network (an `image(...)` input) sees one frame of each clip: a random one when a generator
 * is given (training), the middle one otherwise.
 */
import * as tf from "@tensorflow/tfjs";
import { frameIndex, subsampleIndices } from "../ir/temporal.js";
import { flowStreams, type FlowStream } from "../data/flow.js";
import { FRAMES_FOR_IMAGES } from "../data/sampling.js";
import { mergeViews, type ClipGeometry, type LoadedViews } from "../data/views.js";
import type { CheckedNetwork, Layer } from "../semantics/network.js";
import { isBoxesInput } from "../semantics/rows.js";

/** The raw inputs the data pipeline fills from videos (a detector's boxes come with the keyframes). */
function rawInputs(network: CheckedNetwork) {
  const byId = new Map(network.layers.map((l) => [l.id, l]));
  return network.inputs.filter((i) => i.kind === "input" && !isBoxesInput(byId.get(i.layer)!));
}

/** Why a network's streams cannot be computed here (undefined when they can). */
export function unsupportedStream(network: CheckedNetwork): string | undefined {
  const raw = rawInputs(network);
  if (raw.length !== 1) return `the data pipeline feeds one raw input; ${network.name} has ${raw.length}`;
  const shape = raw[0]!.shape;
  if (shape.length !== 4 && shape.length !== 3) return `the data pipeline feeds video clips [T, H, W, C] or frames [H, W, C]; input \`${raw[0]!.name}\` is [${shape.join(", ")}]`;
  if (shape[shape.length - 1] !== 3) return `the data pipeline feeds RGB clips; input \`${raw[0]!.name}\` has ${shape[shape.length - 1]} channels`;
  try {
    flowStreams(network);
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

/** The raw clips' shape [T, H, W, C]; an image input [H, W, C] reads frames of FRAMES_FOR_IMAGES-frame clips. */
export function rawClipShape(network: CheckedNetwork): readonly number[] {
  const shape = rawInputs(network)[0]!.shape;
  return shape.length === 3 ? [FRAMES_FOR_IMAGES, ...shape] : shape;
}

/**
 * The frame a 2D network sees of each of `n` clips of `time` frames, as indices into the clips'
 * frames (clip k's frames are k * time ... k * time + time - 1): uniformly random with `random`
 * (one draw per clip, in order), else the middle one. Every engine picks frames with this.
 */
export function framePicks(n: number, time: number, random?: () => number): number[] {
  return Array.from({ length: n }, (_, k) => k * time + (random ? Math.floor(random() * time) : frameIndex(time, {})));
}

/** One frame of each clip [N, T, H, W, C] -> [N, H, W, C]: uniformly random with `random`, else the middle one. */
function framesOf(clips: tf.Tensor, random?: () => number): tf.Tensor {
  const [n, time] = clips.shape as [number, number];
  return tf.gather(tf.reshape(clips, [n * time, ...clips.shape.slice(2)]), framePicks(n, time, random));
}

/**
 * The model inputs for a batch of loaded views (each task's views, concatenated): the raw clips
 * [N, T, H, W, C] and each flow stream's fields, through the network's stream layers.
 */
export function viewInputs(network: CheckedNetwork, parts: readonly LoadedViews[], geometry: ClipGeometry, flows: readonly FlowStream[], random?: () => number): tf.Tensor[] {
  const merged = mergeViews(parts);
  const n = merged.views;
  return tf.tidy(() => {
    const clips = tf.tensor(merged.clips, [n, geometry.frames, geometry.height, geometry.width, geometry.channels]);
    const fields = new Map(
      flows.map((stream, i) => {
        const pairs = stream.positions.length - 1;
        const shape = stream.stack ? [n, geometry.height, geometry.width, 2 * pairs] : [n, pairs, geometry.height, geometry.width, 2];
        return [stream.layer, tf.tensor(merged.flows[i]!, shape)] as const;
      }),
    );
    return computeModelInputs(network, clips, { flows: fields, ...(random ? { random } : {}) });
  });
}

/**
 * The model inputs for a batch of raw clips [N, T, H, W, C] (or images [N, H, W, C] for a 2D
 * network), in the order of the model's inputs (the network's model inputs, as `buildIr` lists
 * them). `flows` holds the fields of each `optical_flow` layer (by layer id; computed by the data
 * loader), `provided` model inputs computed elsewhere (by input name), `random` picks a 2D
 * network's frames.
 */
export function computeModelInputs(
  network: CheckedNetwork,
  clips: tf.Tensor,
  options: { flows?: ReadonlyMap<number, tf.Tensor>; provided?: ReadonlyMap<string, tf.Tensor>; random?: () => number } = {},
): tf.Tensor[] {
  const { flows = new Map<number, tf.Tensor>(), provided = new Map<string, tf.Tensor>(), random } = options;
  const byId = new Map(network.layers.map((l) => [l.id, l]));
  const evaluate = (layer: Layer): tf.Tensor => {
    // An image network fed clips sees one frame of each; fed images (rank 4), it sees them as they are.
    if (layer.op === "input") return layer.shape.length === 3 && clips.rank === 5 ? framesOf(clips, random) : clips;
    if (layer.op === "optical_flow") {
      const field = flows.get(layer.id);
      if (!field) throw new Error(`stream layer ${layer.name} needs optical flow, which the views were loaded without`);
      return field;
    }
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
