import { describe, expect, it } from "vitest";
import { motionDataset, MOTION_CLASSES } from "../src/data/motion.js";

/** Mean of each colour channel of one frame of clip `i`. */
function frameMeanColour(clips: Float32Array, i: number, frame: number, frames: number, size: number): number[] {
  const plane = size * size * 3;
  const start = (i * frames + frame) * plane;
  const sums = [0, 0, 0];
  for (let p = 0; p < plane; p++) sums[p % 3]! += clips[start + p]!;
  return sums.map((s) => s / (size * size));
}

describe("builtin:motion", () => {
  it("is deterministic in its seed and has the requested shapes", () => {
    const a = motionDataset({ classes: 5, frames: 8, size: 32, trainPerClass: 2, valPerClass: 1, seed: 7 });
    const b = motionDataset({ classes: 5, frames: 8, size: 32, trainPerClass: 2, valPerClass: 1, seed: 7 });
    const c = motionDataset({ classes: 5, frames: 8, size: 32, trainPerClass: 2, valPerClass: 1, seed: 8 });
    expect(a.train.count).toBe(10);
    expect(a.val.count).toBe(5);
    expect(a.train.clips.length).toBe(10 * 8 * 32 * 32 * 3);
    expect(a.classNames).toEqual(MOTION_CLASSES.slice(0, 5));
    expect([...a.train.labels]).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    expect(a.train.clips).toEqual(b.train.clips);
    expect(a.val.clips).toEqual(b.val.clips);
    expect(a.train.clips).not.toEqual(c.train.clips);
    expect(a.train.clips.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it("keeps the class out of any single frame's colour statistics", () => {
    const frames = 8;
    const size = 16;
    const data = motionDataset({ frames, size, trainPerClass: 60, valPerClass: 1, seed: 3 });
    const classes = data.classNames.length;
    for (const frame of [0, 3, 7]) {
      const sums = Array.from({ length: classes }, () => [0, 0, 0]);
      const counts = new Array<number>(classes).fill(0);
      for (let i = 0; i < data.train.count; i++) {
        const label = data.train.labels[i]!;
        frameMeanColour(data.train.clips, i, frame, frames, size).forEach((m, c) => (sums[label]![c]! += m));
        counts[label]!++;
      }
      const means = sums.map((s, k) => s.map((v) => v / counts[k]!));
      const overall = [0, 1, 2].map((c) => means.reduce((a, m) => a + m[c]!, 0) / classes);
      for (const m of means) for (let c = 0; c < 3; c++) expect(Math.abs(m[c]! - overall[c]!)).toBeLessThan(0.05);
    }
  });

  it("makes consecutive frames differ (the class is in the motion)", () => {
    const frames = 8;
    const size = 32;
    const data = motionDataset({ frames, size, trainPerClass: 1, valPerClass: 1, seed: 1 });
    const plane = size * size * 3;
    for (let i = 0; i < data.train.count; i++) {
      let diff = 0;
      for (let p = 0; p < plane; p++)
        diff += Math.abs(data.train.clips[i * frames * plane + p]! - data.train.clips[i * frames * plane + (frames - 1) * plane + p]!);
      expect(diff / plane).toBeGreaterThan(0.01);
    }
  });

  it("puts the class in appearance for builtin:motion-appearance", () => {
    const frames = 4;
    const size = 16;
    const data = motionDataset({ variant: "appearance", classes: 3, frames, size, trainPerClass: 20, valPerClass: 1, seed: 2 });
    const reds = [0, 1, 2].map((k) => {
      let sum = 0;
      let n = 0;
      for (let i = 0; i < data.train.count; i++) if (data.train.labels[i] === k) ((sum += frameMeanColour(data.train.clips, i, 0, frames, size)[0]!), n++);
      return sum / n;
    });
    expect(reds[0]! - reds[1]!).toBeGreaterThan(0.03);
  });
});
