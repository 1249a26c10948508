/**
 * Grad-CAM of one video: its test views (the spec's test protocol through the data pipeline, or
 * one chosen view), the class to explain (given, or the video's prediction with the protocol's
 * view averaging), and a map per target feature map and view. What `vnet gradcam` and
 * `vnet report` draw.
 */
import * as tf from "@tensorflow/tfjs";
import { flowStreams } from "../../data/flow.js";
import { testViews, type FrameSource, type LoadedViews } from "../../data/views.js";
import type { IrGraph } from "../../ir/graph.js";
import { outputScores } from "../../ir/scores.js";
import { averageViews, scoresFromOutput } from "../../runtime/scores.js";
import { graphFeeds } from "../../runtime/streams.js";
import { gradCam, type CamMap } from "./compute.js";
import { defaultTargets, namedTargets, streamFrames, type CamTarget, type StreamFrames } from "./targets.js";

export interface ExplainOptions {
  /** IR node names of the maps to explain (default: the last spatio-temporal map per stream). */
  readonly layers?: readonly string[];
  /** The class to explain (default: the prediction). */
  readonly classIndex?: number;
  /** Only this test view (0-based, clip-major then crop). */
  readonly view?: number;
  /** Views per forward and backward pass (default 4). */
  readonly batch?: number;
  /** Probe and flow cache directory. */
  readonly cacheDir?: string;
}

export interface ExplainedView {
  /** The clip the network saw, [T, H, W, 3] in [0, 1] (after resizing, cropping, flipping). */
  readonly clip: Float32Array;
  readonly maps: readonly CamMap[];
  /** Top-1 class of this view alone. */
  readonly predicted: number;
}

export interface Explanation {
  readonly network: string;
  readonly targets: readonly CamTarget[];
  /** Per target: the raw clip frames its stream shows. */
  readonly frames: readonly StreamFrames[];
  /** [T, H, W, 3] of each view's clip. */
  readonly clipShape: readonly [number, number, number, number];
  readonly views: readonly ExplainedView[];
  /** Indices of the views within the protocol's. */
  readonly viewIndices: readonly number[];
  /** The protocol's view count. */
  readonly protocolViews: number;
  /** The explained class. */
  readonly classIndex: number;
  /** The video's prediction (views averaged as the protocol says) and its scores. */
  readonly predicted: number;
  readonly scores: Float32Array;
  readonly scoreKind: string;
}

/** Why `--layer` names cannot be explained, as an Error with a user-facing message. */
export class TargetError extends Error {}

/** The targets of a graph: named ones, or the defaults. */
export function resolveTargets(graph: IrGraph, layers: readonly string[] | undefined): CamTarget[] {
  if (layers && layers.length) {
    const named = namedTargets(graph, layers);
    if (typeof named === "string") throw new TargetError(named);
    return named;
  }
  const targets = defaultTargets(graph);
  if (targets.length === 0) throw new TargetError(`${graph.name} has no spatial feature map with more than one position to explain`);
  return targets;
}

/** Rows `from..from+count` of views (and their flow fields). */
function sliceViews(views: LoadedViews, from: number, count: number): LoadedViews {
  const clip = views.clips.length / views.views;
  return {
    views: count,
    clips: views.clips.slice(from * clip, (from + count) * clip),
    flows: views.flows.map((f) => {
      const per = f.length / views.views;
      return f.slice(from * per, (from + count) * per);
    }),
  };
}

/** Explains a video (a frame source) with a trained model of a lowered graph. */
export async function explainVideo(graph: IrGraph, model: tf.LayersModel, source: FrameSource, options: ExplainOptions = {}): Promise<Explanation> {
  const targets = resolveTargets(graph, options.layers);
  const frames = targets.map((t) => streamFrames(graph, t.input));
  const protocol = graph.protocol!;
  const flows = flowStreams(graph);
  const all = await testViews(source, protocol, { flows, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) });
  if (options.view !== undefined && (options.view < 0 || options.view >= all.views))
    throw new TargetError(
      `--view ${options.view} is out of range: the test protocol gives ${all.views} view${all.views === 1 ? "" : "s"} (0 to ${all.views - 1})`,
    );
  const viewIndices = options.view !== undefined ? [options.view] : Array.from({ length: all.views }, (_, i) => i);
  const chosen = options.view !== undefined ? sliceViews(all, options.view, 1) : all;
  const batch = Math.max(1, options.batch ?? 4);

  // The prediction: every protocol view, averaged as the protocol says.
  const kind = outputScores(graph).kind;
  const outputs: Float32Array[] = [];
  for (let start = 0; start < all.views; start += batch) {
    const part = sliceViews(all, start, Math.min(batch, all.views - start));
    const out = tf.tidy(() => {
      const inputs = graphFeeds(graph, [part], flows);
      return model.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor;
    });
    const data = (await out.data()) as Float32Array;
    const classes = out.shape[1]!;
    out.dispose();
    for (let v = 0; v < part.views; v++) outputs.push(data.slice(v * classes, (v + 1) * classes));
  }
  const classes = outputs[0]!.length;
  const joined = new Float32Array(outputs.length * classes);
  outputs.forEach((o, i) => joined.set(o, i * classes));
  const scores = averageViews(scoresFromOutput({ data: joined, shape: [outputs.length, classes] }, kind), protocol.test.average);
  const predicted = argMax(scores);
  const classIndex = options.classIndex ?? predicted;
  if (classIndex < 0 || classIndex >= classes)
    throw new TargetError(`class ${classIndex} is out of range: ${graph.name} has ${classes} classes (0 to ${classes - 1})`);

  const views: ExplainedView[] = [];
  for (let start = 0; start < chosen.views; start += batch) {
    const part = sliceViews(chosen, start, Math.min(batch, chosen.views - start));
    const inputs = graphFeeds(graph, [part], flows);
    const result = gradCam(model, graph, inputs, targets, Array(part.views).fill(classIndex), frames);
    tf.dispose(inputs);
    const clip = protocol.frames * protocol.height * protocol.width * 3;
    for (let v = 0; v < part.views; v++)
      views.push({ clip: part.clips.slice(v * clip, (v + 1) * clip), maps: result.maps[v]!, predicted: argMax(result.outputs[v]!) });
  }
  return {
    network: graph.name,
    targets,
    frames,
    clipShape: [protocol.frames, protocol.height, protocol.width, 3],
    views,
    viewIndices,
    protocolViews: all.views,
    classIndex,
    predicted,
    scores,
    scoreKind: protocol.test.average,
  };
}

function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
