/** Snippet features: BMN's resampling to a fixed temporal scale, and what the positions stand for. */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { resampleFeatures, snippetSpan } from "../../src/data/features.js";

const reference = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../fixtures/localization/bmn-reference.json"), "utf8")) as {
  resample: { data: number[]; n: number; width: number; to5: number[]; to16: number[]; one: number[]; oneTo4: number[] };
};

describe("resampleFeatures", () => {
  const r = reference.resample;
  const data = Float32Array.from(r.data);

  it("equals MMAction2's pool_feature (linear interpolation, 3 points per position, averaged)", () => {
    expect(Array.from(resampleFeatures(data, r.n, r.width, 5))).toEqual(r.to5.map(Math.fround));
    expect(Array.from(resampleFeatures(data, r.n, r.width, 16))).toEqual(r.to16.map(Math.fround));
  });

  it("repeats a single snippet", () => {
    expect(Array.from(resampleFeatures(Float32Array.from(r.one), 1, r.width, 4))).toEqual(r.oneTo4.map(Math.fround));
  });

  it("keeps a constant sequence constant and a linear ramp linear", () => {
    const constant = resampleFeatures(new Float32Array(10).fill(0.25), 10, 1, 7);
    expect(Array.from(constant).every((v) => v === 0.25)).toBe(true);
    const ramp = resampleFeatures(
      Float32Array.from({ length: 11 }, (_, i) => i),
      11,
      1,
      4,
    );
    // Position k averages the points at 1e-4 + (k + i / 3) x (10 - 2e-4) / 4, i = 0, 1, 2.
    ramp.forEach((v, k) => expect(v).toBeCloseTo(1e-4 + (k + 1 / 3) * ((10 - 2e-4) / 4), 5));
  });
});

describe("snippetSpan", () => {
  it("runs from the first snippet's centre to the last one's", () => {
    // 10 snippets of 8 frames, 4 apart, at 25 fps: centres at 4 and 40 frames.
    expect(snippetSpan(10, 8, 4, 25, 2)).toEqual({ start: 4 / 25, end: 40 / 25 });
    expect(snippetSpan(1, 8, 4, 25, 0.3)).toEqual({ start: 0, end: 0.3 });
  });
});
