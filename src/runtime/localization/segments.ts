/**
 * Temporal segments and their overlap measures, shared by BMN's label generation, its soft-NMS
 * and the ActivityNet metrics (all use the same intersection over union).
 */

/** A temporal segment [start, end] (seconds, or a fraction of the video). */
export interface Segment {
  readonly start: number;
  readonly end: number;
}

/** A segment with a confidence score (a proposal, or a labelled detection). */
export interface ScoredSegment extends Segment {
  readonly score: number;
  readonly label?: string;
}

/**
 * Temporal intersection over union (ActivityNet `segment_iou`, MMAction2 `temporal_iou`): the
 * overlap, clipped at 0, over the sum of the lengths minus the overlap.
 */
export function segmentIou(a: Segment, b: Segment): number {
  const intersection = Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start));
  return intersection / (b.end - b.start + (a.end - a.start) - intersection);
}

/** Intersection over the first segment's length (MMAction2 `temporal_iop`): how much of `a` lies in `b`. */
export function segmentIop(a: Segment, b: Segment): number {
  const intersection = Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start));
  return intersection / (a.end - a.start);
}

/**
 * Indices of `values` from the largest to the smallest, as NumPy's `values.argsort()[::-1]`
 * orders them (ties in descending index order, as a stable ascending sort reversed).
 */
export function descendingOrder(values: readonly number[]): number[] {
  return values
    .map((v, i) => [v, i] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map(([, i]) => i)
    .reverse();
}

/** `np.linspace(start, stop, num)`: the same float64 values NumPy computes (i * step + start, the end exact). */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : i * step + start));
}

/** ActivityNet's tIoU thresholds 0.5:0.05:0.95. */
export const TIOU_THRESHOLDS: readonly number[] = linspace(0.5, 0.95, 10);
