import { describe, expect, it } from "vitest";
import { checkText, codes, covered } from "../../helpers.js";

const spec = (body: string, input = "clip(frames = 8, size = 32)") => `network n {\n  classes = 5\n  input video = ${input}\n  output video -> ${body}\n}\n`;

describe("VN015 out-of-range: counts past 2^53", () => {
  it("a layer with more parameters than a float64 counts exactly, at the layer", () => {
    const r = checkText(spec("global_avg_pool -> dense(100000000) -> dense(100000000) -> dense(5)"));
    expect(codes(r)).toEqual(["VN015"]);
    expect(covered(r)).toBe("dense(100000000)");
    expect(r.diagnostics[0]!.message).toMatch(/1\.00e\+16 parameters/);
  });

  it("a layer with too many MACs", () => {
    const r = checkText(spec("conv3d(100000, kernel = 7) -> conv3d(100000, kernel = 7) -> global_avg_pool -> dense(5)", "clip(frames = 64, size = 1024)"));
    expect(codes(r)).toEqual(["VN015"]);
    expect(r.diagnostics[0]!.message).toMatch(/`conv3d` has .* MACs/);
  });

  it("layers each below the limit whose total passes it, at the network", () => {
    const r = checkText(spec("global_avg_pool -> dense(60000000) -> dense(60000000) -> dense(60000000) -> dense(60000000) -> dense(5)"));
    expect(codes(r)).toEqual(["VN015"]);
    expect(covered(r)).toBe("n");
    expect(r.diagnostics[0]!.message).toMatch(/network `n` has 1\.08e\+16 parameters/);
  });

  it("a large network below the limit is fine", () => {
    expect(codes(checkText(spec("global_avg_pool -> dense(10000000) -> dense(5)")))).toEqual([]);
  });
});
