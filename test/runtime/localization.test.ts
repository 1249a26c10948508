/**
 * BMN's pieces against MMAction2's (test/fixtures/localization/bmn-reference.json, written by
 * scripts/reference/bmn.py, which re-creates MMAction2's code and was checked against it): the
 * boundary-matching mask, the label maps, the loss over the tfjs algebra, and the
 * post-processing with soft-NMS.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { boundaryMatchingMask } from "../../src/ops/boundary-matching.js";
import { bmMask, bmnLabels, toFraction } from "../../src/runtime/localization/labels.js";
import { bmnCandidates, localizeSegments, softNms } from "../../src/runtime/localization/proposals.js";
import { TFJS_ALGEBRA } from "../../src/runtime/tensor-algebra.js";
import { bmnLoss } from "../../src/semantics/tasks/localization.js";

interface Reference {
  readonly mask: { tscale: number; num_samples: number; num_samples_per_bin: number; boundary_ratio: number; values: number[] };
  readonly segments: [number, number][][];
  readonly labels: { iou: number[]; start: number[]; end: number[] }[];
  readonly outputs: { start: number[]; end: number[]; confidence: number[] };
  readonly noise: { mid: number[]; low: number[] };
  readonly loss: { total: number; tem: number; reg: number; cls: number };
  readonly proposals: [number, number, number][];
}

const reference = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../fixtures/localization/bmn-reference.json"), "utf8")) as Reference;
const T = reference.mask.tscale;

describe("boundary-matching mask", () => {
  it("equals MMAction2's sampling mask exactly", () => {
    const m = reference.mask;
    const mask = boundaryMatchingMask({ positions: T, durations: T, samples: m.num_samples, perBin: m.num_samples_per_bin, boundaryRatio: m.boundary_ratio });
    expect(Array.from(mask)).toEqual(m.values.map(Math.fround));
  });

  it("gives each sample of a proposal inside the video total weight 1, and none to proposals past its end", () => {
    const S = 3;
    const D = 5;
    const mask = boundaryMatchingMask({ positions: 12, durations: D, samples: S, perBin: 2, boundaryRatio: 0 });
    const weight = (s: number, d: number, t: number) => {
      let sum = 0;
      for (let u = 0; u < 12; u++) sum += mask[((u * S + s) * D + d) * 12 + t]!;
      return sum;
    };
    // Without widening, every point of the proposal (3, d = 2) lies in [3, 5]: weights sum to 1.
    for (let s = 0; s < S; s++) expect(weight(s, 2, 3)).toBeCloseTo(1, 6);
    expect(weight(0, 4, 8)).toBe(0);
  });
});

describe("BMN labels", () => {
  it("equal MMAction2's generate_labels (float32)", () => {
    reference.segments.forEach((segments, i) => {
      const labels = bmnLabels(
        segments.map(([start, end]) => ({ start, end })),
        T,
      );
      const expected = reference.labels[i]!;
      expect(Array.from(labels.iou)).toEqual(expected.iou.map(Math.fround));
      expect(Array.from(labels.start)).toEqual(expected.start.map(Math.fround));
      expect(Array.from(labels.end)).toEqual(expected.end.map(Math.fround));
    });
  });

  it("maps seconds onto the span the features cover, clipped", () => {
    expect(toFraction({ start: 3, end: 12 }, { start: 2, end: 10 })).toEqual({ start: 0.125, end: 1 });
    expect(Array.from(bmMask(3))).toEqual([1, 1, 1, 1, 1, 0, 1, 0, 0]);
  });
});

describe("BMN loss", () => {
  it("over tfjs equals MMAction2's BMNLoss given the same sampling noise", () => {
    const n = reference.segments.length;
    const o = reference.outputs;
    // MMAction2's confidence map is [N, 2, D, T]; vnet's is channels-last [N, D, T, 2].
    const confidence = tf.transpose(tf.tensor4d(o.confidence, [n, 2, T, T]), [0, 2, 3, 1]);
    const stack = (key: "iou" | "start" | "end", shape: number[]) =>
      tf.tensor(
        reference.labels.flatMap((l) => l[key]),
        shape,
      );
    const terms = bmnLoss(TFJS_ALGEBRA, tf.tensor2d(o.start, [n, T]), tf.tensor2d(o.end, [n, T]), confidence, {
      start: stack("start", [n, T]),
      end: stack("end", [n, T]),
      iou: stack("iou", [n, T, T]),
      mask: tf.tensor2d(bmMask(T), [T, T]),
      noiseMid: tf.tensor3d(reference.noise.mid, [n, T, T]),
      noiseLow: tf.tensor3d(reference.noise.low, [n, T, T]),
    });
    for (const key of ["total", "tem", "reg", "cls"] as const) expect(terms[key].dataSync()[0]).toBeCloseTo(reference.loss[key], 5);
  });
});

describe("BMN post-processing", () => {
  const o = reference.outputs;
  // The first video's outputs, the map re-laid channels-last [D, T, 2].
  const confidence = new Float32Array(T * T * 2);
  for (let c = 0; c < 2; c++) for (let i = 0; i < T * T; i++) confidence[i * 2 + c] = o.confidence[c * T * T + i]!;
  const outputs = { start: Float32Array.from(o.start.slice(0, T)), end: Float32Array.from(o.end.slice(0, T)), confidence, durations: T };

  it("equals MMAction2's predict + soft_nms + post_processing (top 10)", () => {
    const segments = localizeSegments(outputs, { start: 0, end: 1 }, { alpha: 0.4, lowThreshold: 0.5, highThreshold: 0.9, topK: 10 });
    expect(segments.length).toBe(reference.proposals.length);
    segments.forEach((s, i) => {
      const [start, end, score] = reference.proposals[i]!;
      expect(s.start).toBeCloseTo(start, 12);
      expect(s.end).toBeCloseTo(end, 12);
      expect(s.score).toBeCloseTo(score, 12);
    });
  });

  it("maps fractions onto the span of seconds", () => {
    const seconds = localizeSegments(outputs, { start: 2, end: 12 })[0]!;
    const fraction = localizeSegments(outputs, { start: 0, end: 1 })[0]!;
    expect(seconds.start).toBeCloseTo(2 + 10 * fraction.start, 12);
    expect(seconds.end).toBeCloseTo(2 + 10 * fraction.end, 12);
  });

  it("soft-NMS decays overlapping proposals by exp(-iou^2 / alpha) and keeps disjoint ones", () => {
    const kept = softNms([
      { start: 0, end: 0.5, score: 0.9 },
      { start: 0.05, end: 0.5, score: 0.8 },
      { start: 0.6, end: 0.9, score: 0.7 },
    ]);
    expect(kept.map((p) => p.start)).toEqual([0, 0.6, 0.05]);
    // tIoU 0.9 > 0.5 + 0.4 x 0.5: decayed.
    expect(kept[2]!.score).toBeCloseTo(0.8 * Math.exp(-(0.9 * 0.9) / 0.4), 12);
    expect(kept[1]!.score).toBe(0.7);
  });

  it("allows a start at position 0 and an end at the last position", () => {
    const flat = {
      start: Float32Array.from([0.1, 0.01, 0.01, 0.01]),
      end: Float32Array.from([0.01, 0.01, 0.01, 0.1]),
      confidence: new Float32Array(4 * 4 * 2).fill(0.5),
      durations: 4,
    };
    // No local maxima inside, nothing there above half the maximum: only t = 0 starts and only t = 3 ends.
    expect(bmnCandidates(flat).map((c) => [c.start, c.end])).toEqual([[0, 0.75]]);
  });
});
