/**
 * BMN's post-processing (MMAction2 `BMN.predict`, `soft_nms`, `post_processing`): from a
 * localizer's outputs for one video to scored segments.
 *
 * 1. Boundaries: position t may start a proposal when its start probability is a local maximum
 *    or above half the largest (position 0 always may), and likewise for ends (the last always).
 * 2. Candidates: every (start t, duration d) with both boundaries allowed and t + d + 1 < T,
 *    the segment [t / T, (t + d + 1) / T], scored start x end x classification x regression
 *    confidence (float32 products, as the network's numbers are).
 * 3. Soft-NMS (Gaussian): repeatedly take the best; every other proposal overlapping it by
 *    tIoU > low + (high - low) x its width is decayed by exp(-tIoU^2 / alpha); stop after top-K + 1.
 * 4. The top-K by score, clipped to [0, 1] and mapped onto the span of seconds the features cover.
 */
import { descendingOrder, type ScoredSegment, type Segment } from "./segments.js";

/** BMN's post-processing settings (MMAction2 `bmn_400x100` defaults). */
export interface PostProcessing {
  readonly alpha: number;
  readonly lowThreshold: number;
  readonly highThreshold: number;
  readonly topK: number;
}

export const BMN_POST_PROCESSING: PostProcessing = { alpha: 0.4, lowThreshold: 0.5, highThreshold: 0.9, topK: 100 };

/** One video's localizer outputs: start and end [T], confidence [D, T, 2] (row-major, channels last). */
export interface LocalizerOutputs {
  readonly start: Float32Array;
  readonly end: Float32Array;
  readonly confidence: Float32Array;
  readonly durations: number;
}

function boundaries(scores: Float32Array, always: number): Uint8Array {
  const n = scores.length;
  const allowed = new Uint8Array(n);
  allowed[always] = 1;
  let max = -Infinity;
  for (const s of scores) max = Math.max(max, s);
  for (let i = 1; i < n - 1; i++) if ((scores[i]! > scores[i + 1]! && scores[i]! > scores[i - 1]!) || scores[i]! > 0.5 * max) allowed[i] = 1;
  return allowed;
}

/** Candidate proposals as fractions of the video, in MMAction2's enumeration order (duration-major). */
export function bmnCandidates(outputs: LocalizerOutputs): ScoredSegment[] {
  const { start, end, confidence, durations } = outputs;
  const positions = start.length;
  const starts = boundaries(start, 0);
  const ends = boundaries(end, positions - 1);
  const candidates: ScoredSegment[] = [];
  for (let d = 0; d < durations; d++) {
    for (let t = 0; t < positions; t++) {
      const last = t + d + 1;
      if (last >= positions || !starts[t] || !ends[last]) continue;
      const at = (d * positions + t) * 2;
      const regression = confidence[at]!;
      const classification = confidence[at + 1]!;
      const score = Math.fround(Math.fround(Math.fround(start[t]! * end[last]!) * classification) * regression);
      candidates.push({ start: t / positions, end: last / positions, score });
    }
  }
  return candidates;
}

/** MMAction2 `temporal_iou(best, other)` in its operation order. */
function iouWith(best: Segment, other: Segment): number {
  const intersection = Math.max(Math.min(best.end, other.end) - Math.max(best.start, other.start), 0);
  return intersection / (best.end - best.start - intersection + other.end - other.start);
}

/** Gaussian soft-NMS (MMAction2 `soft_nms`): at most top-K + 1 proposals, best first, with decayed scores. */
export function softNms(proposals: readonly ScoredSegment[], settings: PostProcessing = BMN_POST_PROCESSING): ScoredSegment[] {
  const pending = descendingOrder(proposals.map((p) => p.score)).map((i) => ({ ...proposals[i]! }));
  const kept: ScoredSegment[] = [];
  while (pending.length > 0 && kept.length <= settings.topK) {
    let best = 0;
    for (let i = 1; i < pending.length; i++) if (pending[i]!.score > pending[best]!.score) best = i;
    const top = pending[best]!;
    const width = top.end - top.start;
    const limit = settings.lowThreshold + (settings.highThreshold - settings.lowThreshold) * width;
    pending.forEach((p, i) => {
      if (i === best) return;
      const iou = iouWith(top, p);
      if (iou > limit) p.score *= Math.exp(-(iou * iou) / settings.alpha);
    });
    kept.push(top);
    pending.splice(best, 1);
  }
  return kept;
}

/**
 * One video's segments in seconds: candidates, soft-NMS (when there are several), the top-K,
 * mapped from [0, 1] onto `span` (the seconds the features cover).
 */
export function localizeSegments(outputs: LocalizerOutputs, span: Segment, settings: PostProcessing = BMN_POST_PROCESSING): ScoredSegment[] {
  let proposals = bmnCandidates(outputs);
  if (proposals.length > 1) proposals = softNms(proposals, settings);
  const ranked = descendingOrder(proposals.map((p) => p.score)).map((i) => proposals[i]!);
  const length = span.end - span.start;
  return ranked
    .slice(0, settings.topK)
    .map((p) => ({ start: span.start + Math.max(0, p.start) * length, end: span.start + Math.min(1, p.end) * length, score: p.score }));
}
