import { describe, expect, it } from "vitest";
import { checkText, codes, covered } from "../../helpers.js";

describe("VN040 unused-stream", () => {
  it("a stream no layer reads", () => {
    const r = checkText(
      "network n {\n  input video = clip(frames = 8, size = 32)\n  stream rgb = video -> normalize(mean = [0.5, 0.5, 0.5], std = [0.2, 0.2, 0.2])\n  output video -> global_avg_pool -> dense(2)\n}\n",
    );
    expect(codes(r)).toEqual(["VN040"]);
    expect(covered(r)).toBe("rgb");
  });

  it("a stream read only by an expression (its sizes) is used", () => {
    const r = checkText(
      "network n {\n  input video = clip(frames = 8, size = 32)\n  stream rgb = video -> normalize(mean = [0.5, 0.5, 0.5], std = [0.2, 0.2, 0.2])\n  output video -> global_avg_pool -> dense(rgb.channels)\n}\n",
    );
    expect(codes(r)).toEqual([]);
  });
});
