/**
 * ActivityNet's metrics (src/runtime/localization/metrics.ts) on cases computed by hand, and on a
 * random case whose figures the official evaluation code produced (test/fixtures/localization).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { interpolatedAveragePrecision } from "../../src/runtime/average-precision.js";
import { averageRecall, meanAveragePrecision } from "../../src/runtime/localization/metrics.js";
import { linspace, segmentIou, TIOU_THRESHOLDS, type ScoredSegment, type Segment } from "../../src/runtime/localization/segments.js";

const seg = (start: number, end: number): Segment => ({ start, end });
const prop = (start: number, end: number, score: number, label?: string): ScoredSegment => ({ start, end, score, ...(label ? { label } : {}) });

describe("segments", () => {
  it("tIoU is intersection over union, 0 without overlap", () => {
    expect(segmentIou(seg(0, 10), seg(5, 15))).toBeCloseTo(5 / 15, 15);
    expect(segmentIou(seg(0, 10), seg(20, 30))).toBe(0);
    expect(segmentIou(seg(2, 4), seg(0, 10))).toBeCloseTo(0.2, 15);
  });

  it("thresholds are NumPy's linspace(0.5, 0.95, 10), bit for bit", () => {
    // np.linspace(0.5, 0.95, 10).tolist() under NumPy 1.24.
    expect(TIOU_THRESHOLDS).toEqual([0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95]);
    expect(linspace(0, 1, 1)).toEqual([0]);
  });
});

describe("AR@AN (hand-computed)", () => {
  // Video a: ground truth [0, 10] and [20, 30]; proposals of tIoU 1 and 0.62 with them, and one
  // that overlaps nothing. Video b: [5, 15] and one proposal of tIoU 0.92. With at most 2
  // proposals per video on average, every proposal is kept (ratio 1) and AN = 2k/100 at point k:
  // video a's best proposal enters at k = 34, its second at k = 67, video b's at k = 100.
  const truth = new Map([
    ["a", [seg(0, 10), seg(20, 30)]],
    ["b", [seg(5, 15)]],
  ]);
  const proposals = new Map([
    ["a", [prop(20, 26.2, 0.8), prop(0, 10, 0.9), prop(50, 60, 0.1)]],
    ["b", [prop(5, 14.2, 0.7)]],
  ]);
  const curve = averageRecall(truth, proposals, { maxAverageProposals: 2 });

  it("counts matches per threshold as the proposals budget grows", () => {
    expect(curve.proposalsPerVideo[0]).toBeCloseTo(0.02, 12);
    expect(curve.proposalsPerVideo[99]).toBeCloseTo(2, 12);
    expect(curve.averageRecall.slice(0, 33).every((r) => r === 0)).toBe(true);
    expect(curve.averageRecall.slice(33, 66).every((r) => Math.abs(r - 1 / 3) < 1e-12)).toBe(true);
    // tIoU 0.62 passes 3 of the 10 thresholds (0.5, 0.55, 0.6), tIoU 0.92 passes 9.
    expect(curve.averageRecall.slice(66, 99).every((r) => Math.abs(r - 13 / 30) < 1e-12)).toBe(true);
    expect(curve.averageRecall[99]).toBeCloseTo(22 / 30, 12);
    expect(curve.recall[0]![99]).toBeCloseTo(1, 12);
    expect(curve.recall[9]![99]).toBeCloseTo(1 / 3, 12);
  });

  it("AUC is 100 x trapz(AR, AN) / AN_max", () => {
    // (1/6 + 32/3 + 23/60 + 416/30 + 35/60) x 0.02 / 2 x 100 = 25.666...
    expect(curve.auc).toBeCloseTo((1540 / 60) * 0.02 * 50, 10);
  });

  it("a video without proposals counts its ground truth as missed", () => {
    const missing = averageRecall(truth, new Map([["a", [prop(0, 10, 0.9)]]]), { maxAverageProposals: 1 });
    // 2 videos, 1 proposal: ratio 2, video a keeps its one proposal; at full budget 1 of 3 found.
    expect(missing.averageRecall[99]).toBeCloseTo(1 / 3, 12);
  });
});

describe("mAP@tIoU (hand-computed)", () => {
  const truth = new Map([
    [
      "a",
      [
        { ...seg(0, 10), label: "jump" },
        { ...seg(20, 30), label: "wave" },
      ],
    ],
    ["b", [{ ...seg(5, 15), label: "jump" }]],
  ]);
  const detections = new Map([
    ["a", [prop(1, 10, 0.8, "jump"), prop(0, 10, 0.9, "jump"), prop(20, 30, 0.95, "sit")]],
    ["b", [prop(30, 40, 0.7, "jump"), prop(5, 13, 0.6, "jump")]],
  ]);

  it("interpolates precision as VOC does", () => {
    // precision 1, 1/2, 1/3, 1/2 at recall 1/2, 1/2, 1/2, 1: 1/2 x 1 + 1/2 x 1/2.
    expect(interpolatedAveragePrecision([1, 0.5, 1 / 3, 0.5], [0.5, 0.5, 0.5, 1])).toBeCloseTo(0.75, 15);
  });

  it("matches each ground truth once, best first, per threshold", () => {
    const report = meanAveragePrecision(truth, detections, [0.5, 0.85]);
    expect(report.classes).toEqual(["jump", "wave"]);
    // At 0.5: tp, duplicate (fp), no overlap (fp), tIoU 0.8 (tp) -> AP 0.75. At 0.85 the last is a miss -> 0.5.
    expect(report.ap[0]![0]).toBeCloseTo(0.75, 15);
    expect(report.ap[1]![0]).toBeCloseTo(0.5, 15);
    // "wave" has no detections: AP 0; "sit" is not a ground-truth class and is ignored.
    expect(report.ap[0]![1]).toBe(0);
    expect(report.map).toEqual([0.375, 0.25]);
    expect(report.averageMap).toBeCloseTo(0.3125, 15);
  });
});

interface OfficialCase {
  readonly note: string;
  readonly groundTruth: Record<string, { segment: [number, number]; label: string }[]>;
  readonly proposals: Record<string, { segment: [number, number]; score: number; label: string }[]>;
  readonly expected: { readonly averageRecall: number[]; readonly auc: number; readonly map: number[]; readonly averageMap: number };
}

describe("against ActivityNet's official evaluation code", () => {
  const file = path.resolve(__dirname, "../fixtures/localization/anet-official.json");
  const official = JSON.parse(fs.readFileSync(file, "utf8")) as OfficialCase;
  const truth = new Map(
    Object.entries(official.groundTruth).map(([v, list]) => [v, list.map((g) => ({ start: g.segment[0], end: g.segment[1], label: g.label }))]),
  );
  const found = new Map(Object.entries(official.proposals).map(([v, list]) => [v, list.map((p) => prop(p.segment[0], p.segment[1], p.score, p.label))]));

  it("gives the official AR@AN curve and AUC", () => {
    const curve = averageRecall(truth, found, { maxAverageProposals: 100 });
    curve.averageRecall.forEach((r, j) => expect(r).toBeCloseTo(official.expected.averageRecall[j]!, 12));
    expect(curve.auc).toBeCloseTo(official.expected.auc, 10);
  });

  it("gives the official mAP per tIoU and average mAP", () => {
    const report = meanAveragePrecision(truth, found);
    report.map.forEach((m, i) => expect(m).toBeCloseTo(official.expected.map[i]!, 12));
    expect(report.averageMap).toBeCloseTo(official.expected.averageMap, 12);
  });
});
