/**
 * Running a detector (task = "detection") on keyframe clips: its lowered graph is fed the raw
 * clips (values in [0, 1], as src/runtime/streams.ts feeds every graph) and the `boxes` input
 * [K, 5] in the clip's pixels, in the graph's input order; per-box sigmoid scores out; the
 * frame-mAP report of scored boxes against ground truth.
 */
import * as tf from "@tensorflow/tfjs";
import type { DetectionKeyframe, NormalizedBox } from "../../data/motion-boxes.js";
import type { IrGraph } from "../../ir/graph.js";
import { frameMap, type FrameMap, type ScoredBox, type TruthBox } from "./metrics.js";

/** The proposal score threshold of PySlowFast's AVA configs (`AVA.DETECTION_SCORE_THRESH`). */
export const PROPOSAL_THRESHOLD = 0.8;

/** A detector's clip geometry [T, H, W] (its one clip input; the checker's detection contract ensures one and a `boxes()` input). */
export function detectorGeometry(graph: IrGraph): { frames: number; height: number; width: number } {
  const clip = graph.inputs.find((i) => i.kind === "raw" && !i.boxes);
  if (!clip || clip.shape.length !== 4) throw new Error(`internal: ${graph.name} is a detector without one clip input`);
  const [frames, height, width] = clip.shape as [number, number, number];
  return { frames, height, width };
}

/** The model inputs of a batch of keyframes with one box list each: the streams and the boxes [K, 5] in pixels. */
export function detectorInputs(
  graph: IrGraph,
  keyframes: readonly DetectionKeyframe[],
  boxesOf: (k: DetectionKeyframe) => readonly NormalizedBox[],
): tf.Tensor[] {
  const { frames, height, width } = detectorGeometry(graph);
  const size = frames * height * width * 3;
  const clips = new Float32Array(keyframes.length * size);
  const rows: number[] = [];
  keyframes.forEach((k, n) => {
    if (k.clip.length !== size)
      throw new Error(
        `${k.video} at ${k.timestamp} s: its clip has ${k.clip.length / (height * width * 3)} frames of another size than ${graph.name}'s ${frames}x${height}x${width}`,
      );
    clips.set(k.clip, n * size);
    for (const b of boxesOf(k)) rows.push(n, b.x1 * width, b.y1 * height, b.x2 * width, b.y2 * height);
  });
  return graph.inputs.map((input) => {
    if (input.boxes) return tf.tensor2d(rows, [rows.length / 5, 5]);
    if (input.kind === "stream") throw new Error(`internal: ${graph.name} is a detector with a computed stream input \`${input.name}\`; detectors read clips`);
    return tf.tensor(clips, [keyframes.length, frames, height, width, 3]);
  });
}

/** Per-box action probabilities [boxes, classes] of each keyframe, in batches of `batch` keyframes (inference mode). */
export function detectBoxes(
  model: tf.LayersModel,
  graph: IrGraph,
  keyframes: readonly DetectionKeyframe[],
  boxesOf: (k: DetectionKeyframe) => readonly NormalizedBox[],
  batch = 8,
): Float32Array[] {
  const classes = graph.classes!;
  const out: Float32Array[] = [];
  for (let at = 0; at < keyframes.length; at += batch) {
    const part = keyframes.slice(at, at + batch);
    const inputs = detectorInputs(graph, part, boxesOf);
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
export const testBoxes =
  (threshold: number) =>
  (k: DetectionKeyframe): readonly NormalizedBox[] =>
    k.proposals.filter((p) => p.score >= threshold);

/** Frame-mAP of per-box scores (as `detectBoxes` returns them for `boxesOf`) against the keyframes' ground truth. */
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
