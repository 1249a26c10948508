/**
 * Temporal Grad-CAM (Selvaraju et al. 2017) as PySlowFast's `GradCAM._calculate_localization_map`
 * and MMAction2's `GradCAM` compute it, on a trained tfjs model, with tfjs's autodiff:
 * 1. forward the views; the score is each view's class score before any softmax (MMAction2:
 *    "use score before softmax"): the logits, the input of a final softmax, or, for a softmax
 *    score fusion (two-stream), the sum of the fused streams' logits, so each stream's map
 *    explains its own tower; only an output that is a distribution of another kind is scored by
 *    its log-probability;
 * 2. the gradient of the summed scores with respect to each target feature map A [V, T, H, W, C]
 *    (per-frame maps of a `per_frame` body are [V*T, H, W, C], unfolded; 2D maps have T = 1);
 * 3. weights = the gradients averaged over H x W, per time step and channel;
 * 4. map = ReLU(sum over channels of weights * A), [V, T, H, W];
 * 5. trilinear upsampling (align_corners = False) to the stream's frames (its time steps; one for
 *    a stream without a time axis) and size, then min-max normalisation per view (upsample.ts).
 * The model is run node by node over the lowered IR (each IR node is the tfjs layer of its name),
 * so the gradient flows from the score back to the target maps through every path, the other
 * tensors held fixed: what PySlowFast's backward hooks on the target layers record.
 */
import * as tf from "@tensorflow/tfjs";
import type { IrGraph, IrNode } from "../../ir/graph.js";
import { outputScores } from "../../ir/scores.js";
import type { CamTarget, StreamFrames } from "./targets.js";
import { normalizeMinMax, trilinear } from "./upsample.js";

/** One view's localisation map of one target, normalised to [0, 1]. */
export interface CamMap {
  readonly target: CamTarget;
  /** [steps, H, W]: `steps` = the stream's time steps (1 for an image or a flow stack). */
  readonly values: Float32Array;
  readonly steps: number;
  readonly height: number;
  readonly width: number;
}

export interface CamResult {
  /** Per view, one map per target. */
  readonly maps: readonly (readonly CamMap[])[];
  /** Per view, the class scores the network output (its raw output rows). */
  readonly outputs: readonly Float32Array[];
}

/** Which node values are scored, and how: summed as they are, or as log-probabilities. */
interface ScoreSource {
  readonly nodes: readonly number[];
  readonly log: boolean;
}

/** The pre-softmax class scores of a graph's output (see the file comment). */
export function scoreSource(graph: IrGraph): ScoreSource {
  const output = graph.nodes.find((n) => n.id === graph.outputs[0])!;
  const scores = outputScores(graph);
  if (scores.kind === "logits") return { nodes: [output.id], log: false };
  if (scores.softmaxInput !== undefined) return { nodes: [scores.softmaxInput], log: false };
  // A softmax score fusion: the fused streams' logits.
  if (output.op === "score_fusion") return { nodes: [...output.inputs], log: false };
  return { nodes: [output.id], log: true };
}

/** Applies one IR node's tfjs layer to its input values (inference mode). */
function applyNode(model: tf.LayersModel, node: IrNode, values: ReadonlyMap<number, tf.Tensor>): tf.Tensor {
  const inputs = node.inputs.map((id) => values.get(id)!);
  const layer = model.getLayer(node.name);
  return layer.apply(inputs.length === 1 ? inputs[0]! : inputs, { training: false }) as tf.Tensor;
}

/** The nodes downstream of `from` (themselves excluded), in graph order. */
function downstream(graph: IrGraph, from: readonly number[]): IrNode[] {
  const reached = new Set(from);
  const out: IrNode[] = [];
  for (const node of graph.nodes) {
    if (reached.has(node.id)) continue;
    if (node.inputs.some((i) => reached.has(i))) {
      reached.add(node.id);
      out.push(node);
    }
  }
  return out;
}

/** A target's map as [V, T, H, W, C] (per-frame maps unfolded). */
function asClipMaps(tensor: tf.Tensor, target: CamTarget, views: number): tf.Tensor5D {
  const s = tensor.shape;
  if (target.layout === "NTHWC") return tensor as tf.Tensor5D;
  if (target.layout === "NHWC") return tf.reshape(tensor, [views, 1, s[1]!, s[2]!, s[3]!]);
  return tf.reshape(tensor, [views, target.steps, s[1]!, s[2]!, s[3]!]);
}

/**
 * Grad-CAM maps of a batch of views. `inputs` are the model's inputs in graph-input order (as
 * `graphFeeds` of src/runtime/streams.ts makes them), `classes` the class to explain per view, `frames` each
 * target's stream frames.
 */
export function gradCam(
  model: tf.LayersModel,
  graph: IrGraph,
  inputs: readonly tf.Tensor[],
  targets: readonly CamTarget[],
  classes: readonly number[],
  frames: readonly StreamFrames[],
): CamResult {
  const views = inputs[0]!.shape[0]!;
  const source = scoreSource(graph);
  const ids = targets.map((t) => t.node.id);
  const raw = tf.tidy(() => {
    const values = new Map<number, tf.Tensor>();
    graph.inputs.forEach((input, i) => values.set(input.node, inputs[i]!));
    for (const node of graph.nodes) if (node.op !== "input") values.set(node.id, applyNode(model, node, values));
    const output = values.get(graph.outputs[0]!)!;
    const later = downstream(graph, ids);
    const onehot = tf.oneHot(tf.tensor1d([...classes], "int32"), output.shape[output.shape.length - 1]!);
    // The summed class scores as a function of the target maps; everything not downstream of
    // them is a constant of the forward pass.
    const score = (...maps: tf.Tensor[]) => {
      const local = new Map(values);
      ids.forEach((id, k) => local.set(id, maps[k]!));
      for (const node of later) local.set(node.id, applyNode(model, node, local));
      const parts = source.nodes.map((id) => {
        const scores = local.get(id)!;
        return tf.sum(tf.mul(source.log ? tf.log(tf.add(scores, 1e-12)) : scores, onehot));
      });
      return tf.addN(parts) as tf.Scalar;
    };
    const grads = tf.grads(score)(ids.map((id) => values.get(id)!));
    const cams = targets.map((target, k) => {
      const a = asClipMaps(values.get(target.node.id)!, target, views);
      const g = asClipMaps(grads[k]!, target, views);
      const weights = tf.mean(g, [2, 3], true);
      return tf.relu(tf.sum(tf.mul(weights, a), 4));
    });
    return { cams, output };
  });
  const outputData = raw.output.dataSync() as Float32Array;
  const classCount = raw.output.shape[raw.output.shape.length - 1]!;
  const outputs = Array.from({ length: views }, (_, v) => outputData.slice(v * classCount, (v + 1) * classCount));
  const maps = Array.from({ length: views }, () => [] as CamMap[]);
  raw.cams.forEach((cam, k) => {
    const [, t, h, w] = cam.shape as [number, number, number, number];
    const data = cam.dataSync() as Float32Array;
    const stream = frames[k]!;
    // PySlowFast upsamples to the pathway's own frames; a stream without a time axis has one.
    const steps = stream.hasTime ? stream.frames.length : 1;
    const [height, width] = stream.size;
    for (let v = 0; v < views; v++) {
      const volume = data.subarray(v * t * h * w, (v + 1) * t * h * w);
      const values = normalizeMinMax(trilinear(volume, [t, h, w], [steps, height, width]));
      maps[v]!.push({ target: targets[k]!, values, steps, height, width });
    }
  });
  tf.dispose([...raw.cams, raw.output]);
  return { maps, outputs };
}
