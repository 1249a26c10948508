/** builtin:motion-untrimmed: actions of the motion classes between stretches of rest. */
import { describe, expect, it } from "vitest";
import { segmentsInSeconds, untrimmedClassNames, untrimmedVideos } from "../../src/data/untrimmed.js";

describe("untrimmed motion videos", () => {
  const videos = [...untrimmedVideos({ classes: 5, size: 16, seed: 3 }, "train", 12)];

  it("have one to three actions of 16-40 frames, apart and inside the video", () => {
    for (const v of videos) {
      expect(v.length).toBeGreaterThanOrEqual(96);
      expect(v.pixels.length).toBe(v.length * 16 * 16 * 3);
      expect(v.segments.length).toBeGreaterThanOrEqual(1);
      expect(v.segments.length).toBeLessThanOrEqual(3);
      let previousEnd = 0;
      for (const s of v.segments) {
        expect(s.end - s.start).toBeGreaterThanOrEqual(16);
        expect(s.end - s.start).toBeLessThanOrEqual(40);
        expect(s.start - previousEnd).toBeGreaterThanOrEqual(8);
        expect(s.label).toBeLessThan(5);
        previousEnd = s.end;
      }
      expect(v.length - previousEnd).toBeGreaterThanOrEqual(8);
    }
    expect(new Set(videos.map((v) => v.segments.length)).size).toBeGreaterThan(1);
  });

  it("show motion only inside the actions", () => {
    const v = videos[0]!;
    const plane = 16 * 16 * 3;
    const change = (t: number) => {
      let sum = 0;
      for (let i = 0; i < plane; i++) sum += Math.abs(v.pixels[(t + 1) * plane + i]! - v.pixels[t * plane + i]!);
      return sum / plane;
    };
    const inside = (t: number) => v.segments.some((s) => t >= s.start && t + 1 < s.end);
    const moving = Array.from({ length: v.length - 1 }, (_, t) => t)
      .filter(inside)
      .map(change);
    const resting = Array.from({ length: v.length - 1 }, (_, t) => t)
      .filter((t) => !v.segments.some((s) => t + 1 >= s.start && t < s.end))
      .map(change);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // Resting frames differ only by pixel noise (about 0.01); moving ones by far more.
    expect(mean(resting)).toBeLessThan(0.012);
    expect(mean(moving)).toBeGreaterThan(3 * mean(resting));
  });

  it("are deterministic and split by seed stream", () => {
    const again = [...untrimmedVideos({ classes: 5, size: 16, seed: 3 }, "train", 2)];
    expect(again[1]!.segments).toEqual(videos[1]!.segments);
    const val = [...untrimmedVideos({ classes: 5, size: 16, seed: 3 }, "val", 1)];
    expect(val[0]!.segments).not.toEqual(videos[0]!.segments);
  });

  it("name their actions in seconds and use at most the six translation and rotation classes", () => {
    expect(segmentsInSeconds({ length: 100, pixels: new Float32Array(0), segments: [{ start: 25, end: 50, label: 1 }] }, untrimmedClassNames(5))).toEqual([
      { start: 1, end: 2, label: "left" },
    ]);
    expect(() => untrimmedClassNames(7)).toThrow(/2 to 6 classes/);
  });
});
