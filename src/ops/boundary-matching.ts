/**
 * BMN's boundary-matching sampling mask (Lin et al. 2019, as MMAction2's `BMN._get_interp1d_mask`
 * builds it), computed once here for the checker's counts and both backends' lowerings.
 *
 * For the proposal that starts at position t and lasts d + 1 positions, the span is widened by
 * `boundaryRatio` x its length on both sides and `samples` x `perBin` points are spread evenly
 * over it; each of the `samples` samples averages its bin of `perBin` points, each point linearly
 * interpolated between its two neighbouring positions (points outside [0, T - 1] lose their
 * weight there). The layer's output is then x[c, s, d, t] = sum over u of x[c, u] mask[u, s, d, t]:
 * a [T, S x D x T] matrix product. Proposals that leave the video (t + d >= T) get no weights.
 */

export interface BoundaryMatching {
  /** Positions of the input sequence (T). */
  readonly positions: number;
  /** Proposal durations (D): 1..D positions. MMAction2 uses D = T. */
  readonly durations: number;
  /** Samples per proposal (S, `num_samples`). */
  readonly samples: number;
  /** Interpolated points averaged per sample (`num_samples_per_bin`). */
  readonly perBin: number;
  /** Share of the proposal's length added on each side (`boundary_ratio`). */
  readonly boundaryRatio: number;
}

/** The mask [T, S, D, T] (input position, sample, duration, start), float32, row-major. */
export function boundaryMatchingMask(bm: BoundaryMatching): Float32Array {
  const { positions: T, durations: D, samples: S, perBin: B, boundaryRatio } = bm;
  // Accumulated in float64 as MMAction2 does, rounded to float32 at the end.
  const mask = new Float64Array(T * S * D * T);
  const at = (u: number, s: number, d: number, t: number) => ((u * S + s) * D + d) * T + t;
  for (let t = 0; t < T; t++) {
    for (let d = 0; d < D && t + d < T; d++) {
      const length = d + 1;
      const min = t - length * boundaryRatio;
      const max = t + d + length * boundaryRatio;
      const step = (max - min) / (S * B - 1.0);
      for (let s = 0; s < S; s++) {
        const weights = new Float64Array(T);
        for (let k = s * B; k < (s + 1) * B; k++) {
          const point = min + step * k;
          const floor = Math.trunc(point);
          const fraction = point - floor;
          const upper = Math.ceil(point);
          if (floor >= 0 && floor <= T - 1) weights[floor] += 1 - fraction;
          if (upper >= 0 && upper <= T - 1) weights[upper] += fraction;
        }
        for (let u = 0; u < T; u++) mask[at(u, s, d, t)] = (1.0 / B) * weights[u]!;
      }
    }
  }
  return Float32Array.from(mask);
}
