/**
 * Running a detector (task = "detection") on keyframe clips: the clips through the spec's data
 * pipeline (src/runtime/streams.ts), the boxes as the `boxes` model input [K, 5] in the clip's
 * pixels, per-box sigmoid scores out; the frame-mAP report of scored boxes against ground truth.
 */
import * as tf from "@tensorflow/tfjs";
import type { DetectionKeyframe, NormalizedBox } from "../../data/motion-boxes.js";
import type { CheckedNetwork } from "../../semantics/network.js";
import { isBoxesInput } from "../../semantics/rows.js";
import { computeModelInputs } from "../streams.js";
import { frameMap, type FrameMap, type ScoredBox, type TruthBox } from "./metrics.js";

/** The proposal score threshold of PySlowFast's AVA configs (`AVA.DETECTION_SCORE_THRESH`). */
export const PROPOSAL_THRESHOLD = 0.8;

/** A detector's clip geometry [T, H, W] and its boxes input's name. */
export function detectorGeometry(network: CheckedNetwork): { frames: number; height: number; width: number; boxesInput: string } {
  const byId = new Map(network.layers.map((l) => [l.id, l]));
  const clip = network.inputs.find((i) => i.kind === "input" && !isBoxesInput(byId.get(i.layer)!))!;
  const boxes = network.inputs.find((i) => isBoxesInput(byId.get(i.layer)!))!;
  const [frames, height, width] = clip.shape as [number, number, number];
  return { frames, height, width, boxesInput: boxes.name };
}

/** The model inputs of a batch of keyframes with one box list each: the streams and the boxes [K, 5] in pixels. */
export function detectorInputs(network: CheckedNetwork, keyframes: readonly DetectionKeyframe[], boxesOf: (k: DetectionKeyframe) => readonly NormalizedBox[]): tf.Tensor[] {
  const { frames, height, width, boxesInput } = detectorGeometry(network);
  const size = frames * height * width * 3;
  const clips = new Float32Array(keyframes.length * size);
  const rows: number[] = [];
  keyframes.forEach((k, n) => {
    if (k.clip.length !== size) throw new Error(`${k.video} at ${k.timestamp} s: its clip has ${k.clip.length / (height * width * 3)} frames of another size than ${network.name}'s ${frames}x${height}x${width}`);
    clips.set(k.clip, n * size);
    for (const b of boxesOf(k)) rows.push(n, b.x1 * width, b.y1 * height, b.x2 * width, b.y2 * height);
  });
  return tf.tidy(() => {
    const video = tf.tensor(clips, [keyframes.length, frames, height, width, 3]);
    const boxes = tf.tensor2d(rows, [rows.length / 5, 5]);
    return computeModelInputs(network, video, { provided: new Map([[boxesInput, boxes]]) });
  });
}

/** Per-box action probabilities [boxes, classes] of each keyframe, in batches of `batch` keyframes (inference mode). */
export function detectBoxes(model: tf.LayersModel, network: CheckedNetwork, keyframes: readonly DetectionKeyframe[], boxesOf: (k: DetectionKeyframe) => readonly NormalizedBox[], batch = 8): Float32Array[] {
  const classes = network.classes!;
  const out: Float32Array[] = [];
  for (let at = 0; at < keyframes.length; at += batch) {
    const part = keyframes.slice(at, at + batch);
    const inputs = detectorInputs(network, part, boxesOf);
    const scores = tf.tidy(() => tf.sigmoid(model.apply(inputs, { training: false }) as tf.Tensor).dataSync() as Float32Array);
    tf.dispose(inputs);
    let row = 0;
    for (const k of part) {
      const count = boxesOf(k).length;
      out.push(scores.slice(row * classes, (row + count) * classes));
      row += count;
    }
  }
  return out;
}

/** The proposals a detector scores at test time: those at or above the threshold (AVA's person detector boxes). */
export const testBoxes = (threshold: number) => (k: DetectionKeyframe): readonly NormalizedBox[] => k.proposals.filter((p) => p.score >= threshold);

/** Frame-mAP of per-box scores (as `detectBoxes` returns them for `boxesOf`) against the keyframes' ground truth. */
export function detectionReport(keyframes: readonly DetectionKeyframe[], scores: readonly Float32Array[], boxesOf: (k: DetectionKeyframe) => readonly NormalizedBox[], classes: number): FrameMap {
  const truth: TruthBox[] = [];
  const detections: ScoredBox[] = [];
  keyframes.forEach((k, i) => {
    const key = `${k.video},${k.timestamp}`;
    for (const b of k.boxes) truth.push({ ...b, keyframe: key, classes: b.actions });
    boxesOf(k).forEach((b, j) => detections.push({ x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, keyframe: key, scores: scores[i]!.subarray(j * classes, (j + 1) * classes) }));
  });
  return frameMap(truth, detections, classes);
}

/** The report as text: frame-mAP and each class's AP. */
export function formatDetectionReport(report: FrameMap, classNames: readonly string[], keyframes: number): string {
  const pct = (v: number) => (Number.isNaN(v) ? "  n/a" : `${(100 * v).toFixed(1).padStart(5)}%`);
  const width = Math.max(...classNames.map((n) => n.length), 5);
  return [`frame-mAP@0.5: ${pct(report.map).trim()} over ${keyframes} keyframes`, ...classNames.map((n, c) => `  ${n.padEnd(width)}  AP ${pct(report.perClass[c]!)}`)].join("\n");
}
