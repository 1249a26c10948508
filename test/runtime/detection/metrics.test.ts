/**
 * Frame-mAP against hand-computed cases: the PASCAL VOC AP of the AVA evaluation (precision made
 * non-increasing, summed over recall steps), per-keyframe matching by score with each ground
 * truth claimed once, IoU 0.5, classes without ground truth left out of the mean.
 */
import { describe, expect, it } from "vitest";
import { averagePrecision, boxIou, frameMap } from "../../../src/runtime/detection/metrics.js";

const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });

describe("frame-mAP", () => {
  it("IoU of normalised boxes (no +1 on areas)", () => {
    expect(boxIou(box(0, 0, 0.5, 0.5), box(0.25, 0, 0.75, 0.5))).toBeCloseTo(0.125 / 0.375, 12);
    expect(boxIou(box(0, 0, 0.2, 0.2), box(0.3, 0.3, 0.5, 0.5))).toBe(0);
  });

  it("VOC average precision: TP, FP, TP over 3 positives", () => {
    // precision 1, 1/2, 2/3 at recall 1/3, 1/3, 2/3; made non-increasing: 1, 2/3, 2/3;
    // AP = 1/3 x 1 + 1/3 x 2/3 = 5/9 (the third positive is never found).
    expect(
      averagePrecision(
        [
          { score: 0.9, tp: true },
          { score: 0.8, tp: false },
          { score: 0.7, tp: true },
        ],
        3,
      ),
    ).toBeCloseTo(5 / 9, 12);
    expect(
      averagePrecision(
        [
          { score: 0.2, tp: true },
          { score: 0.9, tp: false },
        ],
        1,
      ),
    ).toBeCloseTo(0.5, 12);
    expect(averagePrecision([], 2)).toBe(0);
    expect(averagePrecision([{ score: 1, tp: false }], 0)).toBeNaN();
  });

  it("matches per keyframe by score, each ground truth once, at IoU 0.5; classes without truth leave the mean", () => {
    const truth = [
      { keyframe: "a,1", ...box(0, 0, 0.4, 0.4), classes: [0] },
      { keyframe: "a,1", ...box(0.5, 0.5, 0.9, 0.9), classes: [0, 1] },
      { keyframe: "b,1", ...box(0.1, 0.1, 0.5, 0.5), classes: [1] },
    ];
    const detections = [
      // Both near the first box of a: the higher-scoring one claims it for class 0, the other is a false positive.
      { keyframe: "a,1", ...box(0, 0, 0.4, 0.38), scores: [0.9, 0.1, 0] },
      { keyframe: "a,1", ...box(0.02, 0, 0.4, 0.4), scores: [0.8, 0.2, 0] },
      { keyframe: "a,1", ...box(0.5, 0.5, 0.9, 0.9), scores: [0.3, 0.7, 0] },
      // IoU with b's box: 0.3 x 0.4 / (0.16 + 0.16 - 0.12) = 0.6.
      { keyframe: "b,1", ...box(0.2, 0.1, 0.6, 0.5), scores: [0.5, 0.6, 0] },
    ];
    const result = frameMap(truth, detections, 3);
    // Class 0 by score: 0.9 TP, 0.8 FP, 0.5 FP (b has no class-0 truth), 0.3 TP over 2 positives:
    // precisions 1, 1/2, 1/3, 1/2 -> non-increasing 1, 1/2, 1/2, 1/2; AP = 1/2 x 1 + 1/2 x 1/2 = 0.75.
    expect(result.perClass[0]).toBeCloseTo(0.75, 12);
    // Class 1: 0.7 TP (a's second box), 0.6 TP (b), 0.2 and 0.1 FP: AP = 1.
    expect(result.perClass[1]).toBeCloseTo(1, 12);
    expect(result.perClass[2]).toBeNaN();
    expect(result.map).toBeCloseTo(0.875, 12);
  });
});
