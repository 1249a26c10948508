/**
 * Running a detector (task = "detection") on keyframe clips: its lowered graph is fed the raw
 * clips (values in [0, 1], as src/runtime/streams.ts feeds every graph) and the `boxes` input
 * [K, 5] in the clip's pixels, in the graph's input order; per-box sigmoid scores out, from either
 * runtime (a `Detector`: the tfjs model, or the exported model in ONNX Runtime); the frame-mAP
 * report of scored boxes against ground truth.
 */
import * as tf from "@tensorflow/tfjs";
import type { DetectionKeyframe, NormalizedBox } from "../../data/motion-boxes.js";
import type { IrGraph } from "../../ir/graph.js";
import { protocolFromSection, type SamplingProtocol } from "../../semantics/protocol.js";
import type { TaskInference } from "../engines/engine.js";
import { OnnxModelError, runOnnx, type HostTensor, type OnnxModel } from "../onnx.js";
import { frameMap, type FrameMap, type ScoredBox, type TruthBox } from "./metrics.js";

/** The proposal score threshold of PySlowFast's AVA configs (`AVA.DETECTION_SCORE_THRESH`). */
export const PROPOSAL_THRESHOLD = 0.8;

/** A detector's model inputs as either runtime lists them: the graph's (`IrInput`) or an exported model's (`OnnxInput`). */
export interface DetectorInput {
  readonly name: string;
  readonly kind?: "raw" | "stream";
  /** Without the batch axis. */
  readonly shape: readonly number[];
  /** The `boxes()` input: K rows [batch index, x1, y1, x2, y2]. */
  readonly boxes?: boolean;
}

/** A detector's clip geometry [T, H, W] (its one clip input; the checker's detection contract ensures one and a `boxes()` input). */
export function detectorGeometry(model: { readonly name: string; readonly inputs: readonly DetectorInput[] }): {
  frames: number;
  height: number;
  width: number;
} {
  const clip = model.inputs.filter((i) => (i.kind ?? "raw") === "raw" && !i.boxes);
  if (clip.length !== 1 || clip[0]!.shape.length !== 4 || !model.inputs.some((i) => i.boxes))
    throw new Error(`internal: ${model.name} is a detector without one clip input and a boxes input`);
  const [frames, height, width] = clip[0]!.shape as [number, number, number];
  return { frames, height, width };
}

/**
 * How a detector's keyframe clips are sampled (src/data/sampling.ts `keyframeFrames`): its
 * protocol (the spec's `sampling` section, stored in an exported detector's metadata), else, for a
 * detector exported without one, the plain protocol of its clip (consecutive frames).
 */
export function detectorProtocol(model: {
  readonly name: string;
  readonly inputs: readonly DetectorInput[];
  readonly protocol?: SamplingProtocol | undefined;
}): SamplingProtocol {
  if (model.protocol) return model.protocol;
  const { frames, height, width } = detectorGeometry(model);
  return protocolFromSection([frames, height, width, 3], undefined);
}

/** A batch of keyframes as a detector reads it: the clips [N, T, H, W, 3] in [0, 1] and the boxes [K, 5] in the clip's pixels. */
export interface DetectorBatch {
  readonly clips: HostTensor;
  readonly boxes: HostTensor;
}

/** The batch of keyframes with one box list each, checked against the detector's clip geometry. */
export function detectorBatch(
  model: { readonly name: string; readonly inputs: readonly DetectorInput[] },
  keyframes: readonly DetectionKeyframe[],
  boxesOf: (k: DetectionKeyframe) => readonly NormalizedBox[],
): DetectorBatch {
  const { frames, height, width } = detectorGeometry(model);
  const size = frames * height * width * 3;
  const clips = new Float32Array(keyframes.length * size);
  const rows: number[] = [];
  keyframes.forEach((k, n) => {
    if (k.clip.length !== size)
      throw new Error(
        `${k.video} at ${k.timestamp} s: its clip has ${k.clip.length / (height * width * 3)} frames of another size than ${model.name}'s ${frames}x${height}x${width}`,
      );
    clips.set(k.clip, n * size);
    for (const b of boxesOf(k)) rows.push(n, b.x1 * width, b.y1 * height, b.x2 * width, b.y2 * height);
  });
  return { clips: { data: clips, shape: [keyframes.length, frames, height, width, 3] }, boxes: { data: new Float32Array(rows), shape: [rows.length / 5, 5] } };
}

/** The batch as the model's inputs, in `inputs` order (the boxes to the `boxes()` input, the clips to the other). */
function batchFeeds(model: { readonly name: string; readonly inputs: readonly DetectorInput[] }, batch: DetectorBatch): HostTensor[] {
  return model.inputs.map((input) => {
    if (input.boxes) return batch.boxes;
    if (input.kind === "stream") throw new Error(`internal: ${model.name} is a detector with a computed stream input \`${input.name}\`; detectors read clips`);
    return batch.clips;
  });
}

/** The model inputs of a batch of keyframes with one box list each, as host tensors in the model's input order (what training feeds either engine). */
export function detectorFeeds(
  model: { readonly name: string; readonly inputs: readonly DetectorInput[] },
  keyframes: readonly DetectionKeyframe[],
  boxesOf: (k: DetectionKeyframe) => readonly NormalizedBox[],
): HostTensor[] {
  return batchFeeds(model, detectorBatch(model, keyframes, boxesOf));
}

/**
 * A loaded detector of either runtime (a spec's tfjs model with its weights, or an exported model
 * in ONNX Runtime, from a file or the weights exported in memory): its clip geometry, classes, and
 * a scorer of batches giving per-box action probabilities [K, classes] (sigmoid: independent).
 */
export interface Detector {
  /** `runtime: ONNX Runtime tiny_slow_ava (cpu provider)`. */
  readonly describe: string;
  readonly name: string;
  readonly inputs: readonly DetectorInput[];
  /** How its keyframe clips are sampled (see `detectorProtocol`). */
  readonly protocol?: SamplingProtocol;
  readonly classes: number;
  readonly classNames?: readonly string[];
  score(batch: DetectorBatch): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Per-box action probabilities [K, classes] of a batch from a spec's tfjs model (inference mode). */
function tfjsBoxScores(model: tf.LayersModel, graph: IrGraph, batch: DetectorBatch): Float32Array {
  return tf.tidy(() => {
    const inputs = batchFeeds(graph, batch).map((t) => tf.tensor(t.data, [...t.shape]));
    return tf.sigmoid(model.apply(inputs, { training: false }) as tf.Tensor).dataSync() as Float32Array;
  });
}

/** A spec's tfjs model as a detector (inference mode); `close` disposes the model. */
export function tfjsDetector(graph: IrGraph, model: tf.LayersModel, classNames: readonly string[] | undefined = graph.classNames): Detector {
  return {
    describe: `runtime: tfjs ${graph.name}`,
    name: graph.name,
    inputs: graph.inputs,
    ...(graph.protocol ? { protocol: graph.protocol } : {}),
    classes: graph.classes!,
    ...(classNames ? { classNames } : {}),
    score: async (batch) => tfjsBoxScores(model, graph, batch),
    close: async () => {
      model.dispose();
    },
  };
}

/**
 * A detector of the weights behind a TaskInference of its graph (a training engine's current
 * ones): the sigmoid of its per-box logits. `close` does nothing (the engine owns the weights).
 */
export function inferenceDetector(graph: IrGraph, infer: TaskInference, describe: string): Detector {
  return {
    describe,
    name: graph.name,
    inputs: graph.inputs,
    ...(graph.protocol ? { protocol: graph.protocol } : {}),
    classes: graph.classes!,
    ...(graph.classNames ? { classNames: graph.classNames } : {}),
    score: async (batch) => {
      const logits = (await infer(batchFeeds(graph, batch)))[0]!.data;
      return logits.map((x) => 1 / (1 + Math.exp(-x)));
    },
    close: async () => {},
  };
}

/**
 * An exported detector in ONNX Runtime (its `probabilities` output, the sigmoid of the per-box
 * logits); `overrides` name it and label its classes otherwise than its metadata. `close` releases
 * the session.
 */
export function onnxDetector(model: OnnxModel, overrides: { readonly describe?: string; readonly classNames?: readonly string[] } = {}): Detector {
  const name = model.metadata["vnet.network"] ?? "model";
  const classes = Number(model.metadata["vnet.classes"]);
  const classNames = overrides.classNames ?? model.classNames;
  if (model.metadata["vnet.task"] !== "detection" || !Number.isInteger(classes))
    throw new OnnxModelError(`${name} is not a detector exported by vnet (its metadata has no vnet.task = detection with vnet.classes)`);
  const detector = { name, inputs: model.inputs };
  detectorGeometry(detector);
  return {
    describe: overrides.describe ?? `runtime: ONNX Runtime ${name} (${model.provider} provider)`,
    ...detector,
    ...(model.protocol ? { protocol: model.protocol } : {}),
    classes,
    ...(classNames ? { classNames } : {}),
    score: async (batch) => {
      const feeds = batchFeeds(detector, batch);
      const scores = await runOnnx(model, Object.fromEntries(model.inputs.map((input, k) => [input.name, feeds[k]!])));
      return scores.probabilities.data;
    },
    close: () => model.session.release(),
  };
}

/** A batch's score rows [K, classes] cut per keyframe, in box order. */
function perKeyframe(part: readonly DetectionKeyframe[], boxesOf: (k: DetectionKeyframe) => readonly NormalizedBox[], scores: Float32Array, classes: number) {
  let row = 0;
  return part.map((k) => {
    row += boxesOf(k).length;
    return scores.slice((row - boxesOf(k).length) * classes, row * classes);
  });
}

/** Per-box action probabilities [boxes, classes] of each keyframe from a detector of either runtime, in batches of `batch` keyframes. */
export async function scoreBoxes(
  detector: Detector,
  keyframes: readonly DetectionKeyframe[],
  boxesOf: (k: DetectionKeyframe) => readonly NormalizedBox[],
  batch = 8,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let at = 0; at < keyframes.length; at += batch) {
    const fed = detectorBatch(detector, keyframes.slice(at, at + batch), boxesOf);
    // A batch without boxes has nothing to score (and RoIAlign nothing to pool).
    const scores = fed.boxes.shape[0] === 0 ? new Float32Array(0) : await detector.score(fed);
    out.push(...perKeyframe(keyframes.slice(at, at + batch), boxesOf, scores, detector.classes));
  }
  return out;
}

/** The proposals a detector scores at test time: those at or above the threshold (AVA's person detector boxes). */
export const testBoxes =
  (threshold: number) =>
  (k: DetectionKeyframe): readonly NormalizedBox[] =>
    k.proposals.filter((p) => p.score >= threshold);

/** Frame-mAP of per-box scores (as `scoreBoxes` returns them for `boxesOf`) against the keyframes' ground truth. */
export function detectionReport(
  keyframes: readonly DetectionKeyframe[],
  scores: readonly Float32Array[],
  boxesOf: (k: DetectionKeyframe) => readonly NormalizedBox[],
  classes: number,
): FrameMap {
  const truth: TruthBox[] = [];
  const detections: ScoredBox[] = [];
  keyframes.forEach((k, i) => {
    const key = `${k.video},${k.timestamp}`;
    for (const b of k.boxes) truth.push({ ...b, keyframe: key, classes: b.actions });
    boxesOf(k).forEach((b, j) =>
      detections.push({ x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, keyframe: key, scores: scores[i]!.subarray(j * classes, (j + 1) * classes) }),
    );
  });
  return frameMap(truth, detections, classes);
}

/** The report as text: frame-mAP and each class's AP. */
export function formatDetectionReport(report: FrameMap, classNames: readonly string[], keyframes: number): string {
  const pct = (v: number) => (Number.isNaN(v) ? "  n/a" : `${(100 * v).toFixed(1).padStart(5)}%`);
  const width = Math.max(...classNames.map((n) => n.length), 5);
  return [
    `frame-mAP@0.5: ${pct(report.map).trim()} over ${keyframes} keyframes`,
    ...classNames.map((n, c) => `  ${n.padEnd(width)}  AP ${pct(report.perClass[c]!)}`),
  ].join("\n");
}
