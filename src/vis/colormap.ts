/**
 * The perceptual colour map of Grad-CAM heat maps: viridis (d3-scale-chromatic's, the same
 * polynomial fit of matplotlib's viridis that PySlowFast and MMAction2 use by default), sampled
 * once into a 256-entry table.
 */
import { interpolateViridis } from "d3-scale-chromatic";

const TABLE = (() => {
  const table = new Float32Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const hex = interpolateViridis(i / 255);
    table[i * 3] = parseInt(hex.slice(1, 3), 16) / 255;
    table[i * 3 + 1] = parseInt(hex.slice(3, 5), 16) / 255;
    table[i * 3 + 2] = parseInt(hex.slice(5, 7), 16) / 255;
  }
  return table;
})();

/** The colour of a value in [0, 1] (clamped), as RGB in [0, 1], written to `out` at `offset`. */
export function viridis(value: number, out: Float32Array, offset: number): void {
  const i = Math.round(Math.min(1, Math.max(0, value)) * 255) * 3;
  out[offset] = TABLE[i]!;
  out[offset + 1] = TABLE[i + 1]!;
  out[offset + 2] = TABLE[i + 2]!;
}
