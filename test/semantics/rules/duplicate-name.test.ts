import { describe, expect, it } from "vitest";
import { checkText, codes, covered } from "../../helpers.js";

describe("VN016 duplicate-name", () => {
  it("reports the second top-level definition, pointing at the first", () => {
    const r = checkText("k = 1\nk = 2\n");
    expect(codes(r)).toEqual(["VN016"]);
    expect(r.diagnostics[0]!.range.start).toBe(6);
    expect(r.diagnostics[0]!.related?.[0]?.range.start).toBe(0);
  });

  it("reports a block parameter given twice", () => {
    const r = checkText("block b(k, k) {\n  input x\n  output x -> conv3d(k, kernel = 1)\n}\n");
    expect(codes(r)).toEqual(["VN016"]);
    expect(r.diagnostics[0]!.message).toBe("parameter `k` appears twice");
  });

  it("a local defined twice in a network is reported where it is defined again", () => {
    const r = checkText("network n {\n  input video = clip(frames = 8, size = 32)\n  x = video\n  x = video\n  output x -> global_avg_pool -> dense(2)\n}\n");
    expect(codes(r)).toEqual(["VN016"]);
    expect(covered(r)).toBe("x");
    expect(r.diagnostics[0]!.range.start).toBeGreaterThan(60);
  });
});
