/**
 * Frame-mAP as the AVA evaluation computes it (ActivityNet's `ava_evaluation`, which PySlowFast's
 * `ava_eval_helper.evaluate_ava` and MMAction2's `ava_utils.ava_eval` run): for each class, every
 * scored box of every keyframe is matched against that keyframe's ground-truth boxes of the class
 * (`per_image_evaluation`: detections by descending score, each to its highest-IoU ground truth;
 * a true positive when that IoU >= 0.5 and the ground truth was not claimed by a higher-scoring
 * detection), then precision and recall over all keyframes give PASCAL VOC's average precision
 * (`metrics.compute_average_precision`: precision made non-increasing, summed over recall steps).
 * Classes without ground truth have no AP and are left out of the mean, as `np.nanmean` leaves
 * them. Boxes are in normalised coordinates; IoU uses areas (x2 - x1)(y2 - y1), no +1.
 */
import { interpolatedAveragePrecision } from "../average-precision.js";
import type { NormalizedBox } from "../../data/motion-boxes.js";

/** A ground-truth box of one keyframe, with the classes it is labelled with. */
export interface TruthBox extends NormalizedBox {
  readonly keyframe: string;
  readonly classes: readonly number[];
}

/** A detection: a box of one keyframe with a score per class. */
export interface ScoredBox extends NormalizedBox {
  readonly keyframe: string;
  readonly scores: ArrayLike<number>;
}

export interface FrameMap {
  /** Per class, its AP, or NaN where it has no ground truth. */
  readonly perClass: readonly number[];
  /** Mean over the classes with ground truth. */
  readonly map: number;
}

/** Intersection over union of two boxes. */
export function boxIou(a: NormalizedBox, b: NormalizedBox): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const area = (box: NormalizedBox) => (box.x2 - box.x1) * (box.y2 - box.y1);
  return inter / (area(a) + area(b) - inter);
}

/**
 * PASCAL VOC average precision of detections given as (score, true positive) over `positives`
 * ground truths (`compute_average_precision` of the object-detection metrics).
 */
export function averagePrecision(detections: readonly { score: number; tp: boolean }[], positives: number): number {
  if (positives === 0) return NaN;
  if (detections.length === 0) return 0;
  // A stable sort by descending score, as numpy's argsort of the negated scores (mergesort).
  const sorted = detections.map((d, i) => ({ ...d, i })).sort((a, b) => b.score - a.score || a.i - b.i);
  const precision: number[] = [];
  const recall: number[] = [];
  let tp = 0;
  sorted.forEach((d, k) => {
    if (d.tp) tp++;
    precision.push(tp / (k + 1));
    recall.push(tp / positives);
  });
  return interpolatedAveragePrecision(precision, recall);
}

/** Frame-mAP at `iouThreshold` (AVA: 0.5) of detections against ground truth, over `classes` classes. */
export function frameMap(truth: readonly TruthBox[], detections: readonly ScoredBox[], classes: number, iouThreshold = 0.5): FrameMap {
  const keyframes = new Set([...truth.map((t) => t.keyframe), ...detections.map((d) => d.keyframe)]);
  const truthOf = new Map<string, TruthBox[]>();
  const detectionsOf = new Map<string, ScoredBox[]>();
  for (const t of truth) truthOf.set(t.keyframe, [...(truthOf.get(t.keyframe) ?? []), t]);
  for (const d of detections) detectionsOf.set(d.keyframe, [...(detectionsOf.get(d.keyframe) ?? []), d]);
  const perClass: number[] = [];
  for (let c = 0; c < classes; c++) {
    const matched: { score: number; tp: boolean }[] = [];
    let positives = 0;
    for (const keyframe of keyframes) {
      const gt = (truthOf.get(keyframe) ?? []).filter((t) => t.classes.includes(c));
      positives += gt.length;
      const scored = (detectionsOf.get(keyframe) ?? []).map((d, i) => ({ box: d, score: d.scores[c]!, i })).sort((a, b) => b.score - a.score || a.i - b.i);
      const claimed = new Set<number>();
      for (const d of scored) {
        let best = -1;
        let bestIou = -Infinity;
        gt.forEach((g, j) => {
          const iou = boxIou(d.box, g);
          if (iou > bestIou) [best, bestIou] = [j, iou];
        });
        const tp = best >= 0 && bestIou >= iouThreshold && !claimed.has(best);
        if (tp) claimed.add(best);
        matched.push({ score: d.score, tp });
      }
    }
    perClass.push(averagePrecision(matched, positives));
  }
  const present = perClass.filter((ap) => !Number.isNaN(ap));
  return { perClass, map: present.length ? present.reduce((a, b) => a + b, 0) / present.length : NaN };
}
