/**
 * Which frames the temporal selection operators keep, computed once here so that the checker's
 * shape rules, the data pipeline and every backend select the same frames.
 */
import type { Args } from "./values.js";

/**
 * Frames kept by `subsample` from a clip of `frames`: every `stride`-th frame from `offset`, or
 * `frames` evenly spaced ones as PySlowFast picks them (torch.linspace(0, T - 1, k), truncated).
 */
export function subsampleIndices(frames: number, args: Args): number[] {
  if (args.frames !== undefined && args.frames !== null) {
    const k = args.frames as number;
    if (k === 1) return [0];
    return Array.from({ length: k }, (_, i) => Math.floor((i * (frames - 1)) / (k - 1)));
  }
  const stride = args.stride as number;
  const offset = (args.offset as number | undefined) ?? 0;
  const indices: number[] = [];
  for (let i = offset; i < frames; i += stride) indices.push(i);
  return indices;
}

/** Frame kept by `frame`: `index`, or the middle frame, floor(T / 2). */
export function frameIndex(frames: number, args: Args): number {
  return typeof args.index === "number" ? args.index : Math.floor(frames / 2);
}
