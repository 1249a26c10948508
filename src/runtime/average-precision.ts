/**
 * VOC-interpolated average precision, the one both evaluations use: ActivityNet's temporal
 * detection (`interpolated_prec_rec`, src/runtime/localization/metrics.ts) and AVA's frame-mAP
 * (the object-detection metrics' `compute_average_precision`, src/runtime/detection/metrics.ts).
 */

/** The area under the precision envelope (precision made monotone from the right) over recall, for detections in descending score order. */
export function interpolatedAveragePrecision(precision: readonly number[], recall: readonly number[]): number {
  const p = [0, ...precision, 0];
  const r = [0, ...recall, 1];
  for (let i = p.length - 2; i >= 0; i--) p[i] = Math.max(p[i]!, p[i + 1]!);
  let ap = 0;
  for (let i = 1; i < r.length; i++) if (r[i] !== r[i - 1]) ap += (r[i]! - r[i - 1]!) * p[i]!;
  return ap;
}
