/**
 * From a trained localizer to labelled, scored segments and ActivityNet's figures. A localizer
 * proposes class-agnostic segments (BMN's post-processing, proposals.ts); each gets the class the
 * feature extractor's snippet scores favour over it (their mean over the positions it covers),
 * and as a detection the score proposal score x that class's probability, as proposal-plus-
 * classifier pipelines label ActivityNet proposals. `vnet eval` reports AR@AN and its AUC over
 * the proposals and mAP at tIoU 0.5:0.05:0.95 over the detections.
 */
import type { FeatureVideo } from "../../data/features.js";
import type { TaskInference } from "../engines/engine.js";
import { averageRecall, meanAveragePrecision, type DetectionReport, type RecallCurve } from "./metrics.js";
import { BMN_POST_PROCESSING, localizeSegments, type PostProcessing } from "./proposals.js";
import { runLocalizer, type LocalizerGeometry } from "./train.js";
import type { ScoredSegment, Segment } from "./segments.js";

/** A scored segment in seconds with its class and that class's probability. */
export interface Detection extends ScoredSegment {
  /** The proposal's own score (before the class probability). */
  readonly proposalScore: number;
  readonly label: string;
  readonly classProbability: number;
}

/** Positions [from, to) of a segment in seconds over T positions covering `span`. */
function positionsOf(segment: Segment, span: Segment, positions: number): [number, number] {
  const length = span.end - span.start;
  const from = Math.floor(((segment.start - span.start) / length) * positions);
  const to = Math.ceil(((segment.end - span.start) / length) * positions);
  const a = Math.min(Math.max(from, 0), positions - 1);
  return [a, Math.min(Math.max(to, a + 1), positions)];
}

/** The class of each proposal by the mean snippet scores over it; the detection score is proposal x class probability. */
export function labelProposals(
  proposals: readonly ScoredSegment[],
  video: Pick<FeatureVideo, "scores" | "positions" | "span">,
  classNames: readonly string[],
): Detection[] {
  const K = classNames.length;
  return proposals.map((p) => {
    const [from, to] = positionsOf(p, video.span, video.positions);
    const mean = new Float64Array(K);
    for (let t = from; t < to; t++) for (let k = 0; k < K; k++) mean[k] += video.scores[t * K + k]! / (to - from);
    let best = 0;
    for (let k = 1; k < K; k++) if (mean[k]! > mean[best]!) best = k;
    return { start: p.start, end: p.end, score: p.score * mean[best]!, proposalScore: p.score, label: classNames[best]!, classProbability: mean[best]! };
  });
}

/** Every video's detections: the localizer's outputs (tfjs or ONNX Runtime), BMN's post-processing, labels from the snippet scores. */
export async function localizeVideos(
  infer: TaskInference,
  videos: readonly FeatureVideo[],
  geometry: LocalizerGeometry,
  classNames: readonly string[],
  settings: PostProcessing = BMN_POST_PROCESSING,
  batch = 8,
): Promise<Detection[][]> {
  const outputs = await runLocalizer(infer, videos, geometry, batch);
  return outputs.map((o, i) => labelProposals(localizeSegments(o, videos[i]!.span, settings), videos[i]!, classNames));
}

/**
 * The baseline a localizer must beat: uniform sliding windows of 1/8, 1/4 and 1/2 of the span at
 * half-window steps (the windows of a sliding-window detector), each labelled and scored by the
 * extractor's snippet scores over it, the 100 best kept.
 */
export function slidingWindowDetections(video: FeatureVideo, classNames: readonly string[], top = 100): Detection[] {
  const length = video.span.end - video.span.start;
  const windows: ScoredSegment[] = [];
  for (const fraction of [1 / 8, 1 / 4, 1 / 2]) {
    for (let start = 0; start + fraction <= 1 + 1e-9; start += fraction / 2)
      windows.push({ start: video.span.start + start * length, end: video.span.start + (start + fraction) * length, score: 1 });
  }
  return labelProposals(windows, video, classNames)
    .sort((a, b) => b.score - a.score)
    .slice(0, top);
}

export interface LocalizationReport {
  readonly videos: number;
  readonly recall: RecallCurve;
  readonly detection: DetectionReport;
}

/** ActivityNet's figures of detections against the videos' annotated actions (videos without any are left out). */
export function localizationReport(videos: readonly FeatureVideo[], detections: readonly (readonly Detection[])[]): LocalizationReport {
  const annotated = videos.map((v, i) => ({ v, d: detections[i]! })).filter(({ v }) => v.segments.length > 0);
  const truth = new Map(annotated.map(({ v }) => [v.id, v.segments]));
  const found = new Map(annotated.map(({ v, d }) => [v.id, d]));
  // AR@AN ranks the class-agnostic proposals by their own scores.
  const proposals = new Map(annotated.map(({ v, d }) => [v.id, d.map((x) => ({ start: x.start, end: x.end, score: x.proposalScore }))]));
  return { videos: annotated.length, recall: averageRecall(truth, proposals, { maxAverageProposals: 100 }), detection: meanAveragePrecision(truth, found) };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The report as text: AR@1/5/10/100 and AUC, mAP per tIoU and the average. */
export function formatLocalizationReport(report: LocalizationReport): string {
  const ar = report.recall.averageRecall;
  const { detection } = report;
  return [
    `proposals (AR@AN, tIoU 0.5:0.05:0.95, ${report.videos} videos): AR@1 ${pct(ar[0]!)}  AR@5 ${pct(ar[4]!)}  AR@10 ${pct(ar[9]!)}  AR@100 ${pct(ar[99]!)}  AUC ${report.recall.auc.toFixed(2)}`,
    `detections (mAP, ${detection.classes.length} classes): ${detection.thresholds.map((t, i) => `@${t.toFixed(2)} ${pct(detection.map[i]!)}`).join("  ")}`,
    `  average mAP ${pct(detection.averageMap)}`,
  ].join("\n");
}

/** Detections of videos as ActivityNet's results JSON (`vnet eval --results`, `vnet localize --results`). */
export function activityNetResults(videos: readonly Pick<FeatureVideo, "id">[], detections: readonly (readonly Detection[])[]): string {
  const results = Object.fromEntries(videos.map((v, i) => [v.id, detections[i]!.map((d) => ({ segment: [d.start, d.end], score: d.score, label: d.label }))]));
  return `${JSON.stringify({ version: "VERSION 1.3", results, external_data: {} })}\n`;
}
