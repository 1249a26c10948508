/**
 * ActivityNet's localization metrics, computed as its official evaluation code computes them
 * (activitynet/ActivityNet `Evaluation/eval_proposal.py` and `eval_detection.py`, float64):
 *
 * - AR@AN: for AN = 1..100 average proposals per video, the recall of ground-truth segments
 *   matched (tIoU >= threshold) by a video's top-scored proposals, averaged over tIoU 0.5:0.05:0.95,
 *   and the area under that curve. Proposals are counted "as a percentage of those retrieved":
 *   each video keeps floor(its proposals x ratio) of its best, ratio = 100 x videos / all proposals,
 *   and AN = k keeps floor(kept x k/100 x 100 x videos / kept in all) of them.
 * - mAP@tIoU: per class, detections in descending score order are true positives when they match
 *   an unmatched ground-truth segment of their video and class at tIoU >= threshold (the best
 *   overlapping one first), the rest false positives; average precision is the area under the
 *   VOC-interpolated precision-recall curve; mAP is its mean over the classes of the ground truth,
 *   and its mean over the thresholds the average mAP.
 */
import { interpolatedAveragePrecision } from "../average-precision.js";
import { descendingOrder, segmentIou, TIOU_THRESHOLDS, type ScoredSegment, type Segment } from "./segments.js";

/** Ground-truth segments of one video (with class labels for mAP). */
export type VideoSegments<S extends Segment = Segment> = ReadonlyMap<string, readonly S[]>;

export interface RecallCurve {
  /** recall[i][j]: recall at tIoU threshold i with j + 1 percent of the proposals budget (AN = proposalsPerVideo[j]). */
  readonly recall: readonly (readonly number[])[];
  /** Recall averaged over the thresholds, per AN. */
  readonly averageRecall: readonly number[];
  /** Average proposals per video at each point (1..100 when every video has at least 100). */
  readonly proposalsPerVideo: readonly number[];
  /** Area under AR vs AN as ActivityNet reports it: 100 x trapz(AR, AN) / AN_max (a percentage). */
  readonly auc: number;
  readonly thresholds: readonly number[];
}

/** Average recall vs average number of proposals (ActivityNet `average_recall_vs_avg_nr_proposals`). */
export function averageRecall(
  groundTruth: VideoSegments,
  proposals: VideoSegments<ScoredSegment>,
  options: { maxAverageProposals?: number; thresholds?: readonly number[] } = {},
): RecallCurve {
  const thresholds = options.thresholds ?? TIOU_THRESHOLDS;
  const videos = [...groundTruth.keys()].filter((v) => groundTruth.get(v)!.length > 0);
  const allProposals = [...proposals.values()].reduce((n, list) => n + list.length, 0);
  if (videos.length === 0) throw new Error("average recall needs ground-truth segments");
  const maxAverage = options.maxAverageProposals ?? allProposals / videos.length;
  const ratio = (maxAverage * videos.length) / allProposals;
  // Per video: tIoU[g][p] of each ground truth g with its kept proposals p, best first.
  const scores: number[][][] = [];
  let retrieved = 0;
  for (const video of videos) {
    const truth = groundTruth.get(video)!;
    const mine = proposals.get(video) ?? [];
    if (mine.length === 0) {
      scores.push(truth.map(() => [0]));
      continue;
    }
    const kept = Math.min(Math.trunc(mine.length * ratio), mine.length);
    retrieved += kept;
    const best = descendingOrder(mine.map((p) => p.score))
      .slice(0, kept)
      .map((i) => mine[i]!);
    scores.push(truth.map((g) => best.map((p) => segmentIou(p, g))));
  }
  const fractions = Array.from({ length: 100 }, (_, j) => ((j + 1) / 100.0) * ((maxAverage * videos.length) / retrieved));
  const positives = scores.reduce((n, s) => n + s.length, 0);
  const recall = thresholds.map((threshold) =>
    fractions.map((fraction) => {
      let matches = 0;
      for (const score of scores) {
        const columns = score[0]!.length;
        const n = Math.min(Math.trunc(columns * fraction), columns);
        for (const row of score) if (row.slice(0, n).some((t) => t >= threshold)) matches++;
      }
      return matches / positives;
    }),
  );
  const averageRecall = fractions.map((_, j) => recall.reduce((s, row) => s + row[j]!, 0) / thresholds.length);
  const proposalsPerVideo = fractions.map((f) => f * (retrieved / videos.length));
  let area = 0;
  for (let j = 1; j < proposalsPerVideo.length; j++)
    area += ((proposalsPerVideo[j]! - proposalsPerVideo[j - 1]!) * (averageRecall[j]! + averageRecall[j - 1]!)) / 2;
  return { recall, averageRecall, proposalsPerVideo, auc: (100 * area) / proposalsPerVideo[proposalsPerVideo.length - 1]!, thresholds };
}

/** Average precision of one class's detections at each threshold (ActivityNet `compute_average_precision_detection`). */
export function classAveragePrecision(
  groundTruth: readonly { video: string; segment: Segment }[],
  detections: readonly { video: string; segment: ScoredSegment }[],
  thresholds: readonly number[] = TIOU_THRESHOLDS,
): number[] {
  if (detections.length === 0) return thresholds.map(() => 0);
  const byVideo = new Map<string, number[]>();
  groundTruth.forEach((g, i) => byVideo.set(g.video, [...(byVideo.get(g.video) ?? []), i]));
  const lock = thresholds.map(() => new Array<number>(groundTruth.length).fill(-1));
  const ordered = descendingOrder(detections.map((d) => d.segment.score)).map((i) => detections[i]!);
  const tp = thresholds.map(() => new Array<number>(ordered.length).fill(0));
  const fp = thresholds.map(() => new Array<number>(ordered.length).fill(0));
  ordered.forEach((detection, idx) => {
    const candidates = byVideo.get(detection.video);
    if (!candidates) {
      for (const row of fp) row[idx] = 1;
      return;
    }
    const tiou = candidates.map((g) => segmentIou(detection.segment, groundTruth[g]!.segment));
    const order = descendingOrder(tiou);
    thresholds.forEach((threshold, t) => {
      for (const j of order) {
        if (tiou[j]! < threshold) {
          fp[t]![idx] = 1;
          break;
        }
        if (lock[t]![candidates[j]!]! >= 0) continue;
        tp[t]![idx] = 1;
        lock[t]![candidates[j]!] = idx;
        break;
      }
      if (fp[t]![idx] === 0 && tp[t]![idx] === 0) fp[t]![idx] = 1;
    });
  });
  return thresholds.map((_, t) => {
    let tps = 0;
    let fps = 0;
    const precision: number[] = [];
    const recall: number[] = [];
    for (let i = 0; i < ordered.length; i++) {
      tps += tp[t]![i]!;
      fps += fp[t]![i]!;
      recall.push(tps / groundTruth.length);
      precision.push(tps / (tps + fps));
    }
    return interpolatedAveragePrecision(precision, recall);
  });
}

export interface DetectionReport {
  /** The classes of the ground truth, in order of first appearance. */
  readonly classes: readonly string[];
  /** ap[i][k]: average precision of class k at threshold i. */
  readonly ap: readonly (readonly number[])[];
  /** mAP per threshold. */
  readonly map: readonly number[];
  /** mAP averaged over the thresholds. */
  readonly averageMap: number;
  readonly thresholds: readonly number[];
}

/**
 * Mean average precision of labelled detections against labelled ground truth (ActivityNet
 * `ANETdetection.evaluate`). Detections of classes the ground truth lacks are ignored.
 */
export function meanAveragePrecision(
  groundTruth: VideoSegments<Segment & { label: string }>,
  detections: VideoSegments<ScoredSegment>,
  thresholds: readonly number[] = TIOU_THRESHOLDS,
): DetectionReport {
  const classes: string[] = [];
  for (const segments of groundTruth.values()) for (const s of segments) if (!classes.includes(s.label)) classes.push(s.label);
  if (classes.length === 0) throw new Error("mean average precision needs labelled ground-truth segments");
  const perClass = classes.map((label) => {
    const truth = [...groundTruth].flatMap(([video, segments]) => segments.filter((s) => s.label === label).map((segment) => ({ video, segment })));
    const found = [...detections].flatMap(([video, segments]) => segments.filter((s) => s.label === label).map((segment) => ({ video, segment })));
    return classAveragePrecision(truth, found, thresholds);
  });
  const ap = thresholds.map((_, t) => perClass.map((row) => row[t]!));
  const map = ap.map((row) => row.reduce((a, b) => a + b, 0) / row.length);
  return { classes, ap, map, averageMap: map.reduce((a, b) => a + b, 0) / map.length, thresholds };
}
