/**
 * BMN's training targets from ground-truth segments (MMAction2 `BMN.generate_labels`), with the
 * segments as fractions [0, 1] of the span the features cover:
 *
 * - the BM label map [D, T]: for the proposal starting at t / T and lasting (d + 1) / T, its
 *   largest tIoU with a ground-truth segment;
 * - start and end labels [T]: for position t's anchor [(t - 0.5) / T, (t + 1.5) / T], its largest
 *   IoP with a ground-truth start (end) region, the boundary +- 1.5 / T.
 *
 * Computed in float64 in MMAction2's operation order, stored as float32 as MMAction2's tensors are.
 */
import type { Segment } from "./segments.js";

export interface BmnLabels {
  /** [D, T], row-major by duration. */
  readonly iou: Float32Array;
  readonly start: Float32Array;
  readonly end: Float32Array;
}

/** MMAction2 `temporal_iou` in its operation order (anchor length - intersection + ground-truth length). */
function anchorIou(min: number, max: number, gtMin: number, gtMax: number): number {
  const intersection = Math.max(Math.min(max, gtMax) - Math.max(min, gtMin), 0);
  return intersection / (max - min - intersection + gtMax - gtMin);
}

/** MMAction2 `temporal_iop`: intersection over the anchor's length. */
function anchorIop(min: number, max: number, gtMin: number, gtMax: number): number {
  const intersection = Math.max(Math.min(max, gtMax) - Math.max(min, gtMin), 0);
  return intersection / (max - min);
}

/** The BM label map and the start/end labels of one video over T positions and D durations. */
export function bmnLabels(segments: readonly Segment[], positions: number, durations = positions): BmnLabels {
  const gap = 1 / positions;
  const iou = new Float32Array(durations * positions);
  for (let d = 0; d < durations; d++) {
    for (let t = 0; t < positions; t++) {
      const min = gap * t;
      const max = min + gap * (d + 1);
      let best = 0;
      for (const s of segments) best = Math.max(best, anchorIou(min, max, s.start, s.end));
      iou[d * positions + t] = best;
    }
  }
  const pad = 3 * (1 / positions);
  const boundaryLabels = (at: (s: Segment) => number): Float32Array => {
    const labels = new Float32Array(positions);
    for (let t = 0; t < positions; t++) {
      const min = gap * (t + -0.5);
      const max = gap * (t + 1.5);
      let best = 0;
      for (const s of segments) best = Math.max(best, anchorIop(min, max, at(s) - pad / 2, at(s) + pad / 2));
      labels[t] = best;
    }
    return labels;
  };
  return { iou, start: boundaryLabels((s) => s.start), end: boundaryLabels((s) => s.end) };
}

/** The BM mask [D, T]: 1 where the proposal (t, d) ends inside the video (t + d < T), as MMAction2's `bm_mask`. */
export function bmMask(positions: number, durations = positions): Float32Array {
  const mask = new Float32Array(durations * positions);
  for (let d = 0; d < durations; d++) for (let t = 0; t + d < positions; t++) mask[d * positions + t] = 1;
  return mask;
}

/**
 * A segment in seconds as a fraction of the span [from, to] seconds the features cover, clipped to
 * [0, 1] (MMAction2's GenerateLocalizationLabels with from = 0, to = the seconds the features cover).
 */
export function toFraction(segment: Segment, span: Segment): Segment {
  const length = span.end - span.start;
  const clip = (x: number) => Math.max(Math.min(1, (x - span.start) / length), 0);
  return { start: clip(segment.start), end: clip(segment.end) };
}
