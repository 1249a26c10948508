/**
 * The two array steps of Grad-CAM after the weighted sum: trilinear upsampling to the clip, as
 * PyTorch's `F.interpolate(mode = "trilinear", align_corners = False)` computes it (PySlowFast
 * and MMAction2 call exactly that), and min-max normalisation with PySlowFast's epsilon.
 */

/**
 * Source positions and weights of linear interpolation along one axis: output i reads
 * (i + 0.5) * in / out - 0.5, clamped at 0 (PyTorch's `area_pixel_compute_source_index` for
 * linear modes without aligned corners).
 */
function axisTaps(inSize: number, outSize: number): { lo: Int32Array; hi: Int32Array; w: Float32Array } {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const w = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let i = 0; i < outSize; i++) {
    const source = Math.max(0, (i + 0.5) * scale - 0.5);
    const low = Math.min(Math.floor(source), inSize - 1);
    lo[i] = low;
    hi[i] = Math.min(low + 1, inSize - 1);
    w[i] = source - low;
  }
  return { lo, hi, w };
}

/** Upsamples a [t, h, w] volume to [T, H, W] trilinearly (separably, one axis at a time). */
export function trilinear(volume: Float32Array, from: readonly [number, number, number], to: readonly [number, number, number]): Float32Array {
  const [t, h, w] = from;
  const [T, H, W] = to;
  // Along W: [t, h, W].
  const x = axisTaps(w, W);
  const a = new Float32Array(t * h * W);
  for (let r = 0; r < t * h; r++) {
    for (let i = 0; i < W; i++) a[r * W + i] = volume[r * w + x.lo[i]!]! * (1 - x.w[i]!) + volume[r * w + x.hi[i]!]! * x.w[i]!;
  }
  // Along H: [t, H, W].
  const y = axisTaps(h, H);
  const b = new Float32Array(t * H * W);
  for (let k = 0; k < t; k++) {
    for (let j = 0; j < H; j++) {
      const lo = (k * h + y.lo[j]!) * W;
      const hi = (k * h + y.hi[j]!) * W;
      for (let i = 0; i < W; i++) b[(k * H + j) * W + i] = a[lo + i]! * (1 - y.w[j]!) + a[hi + i]! * y.w[j]!;
    }
  }
  // Along T: [T, H, W].
  const z = axisTaps(t, T);
  const plane = H * W;
  const out = new Float32Array(T * plane);
  for (let k = 0; k < T; k++) {
    const lo = z.lo[k]! * plane;
    const hi = z.hi[k]! * plane;
    for (let p = 0; p < plane; p++) out[k * plane + p] = b[lo + p]! * (1 - z.w[k]!) + b[hi + p]! * z.w[k]!;
  }
  return out;
}

/** (map - min) / (max - min + 1e-6) in place, PySlowFast's normalisation of one sample's map. */
export function normalizeMinMax(map: Float32Array): Float32Array {
  let min = Infinity;
  let max = -Infinity;
  for (const v of map) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min + 1e-6;
  for (let i = 0; i < map.length; i++) map[i] = (map[i]! - min) / range;
  return map;
}
