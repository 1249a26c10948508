import { describe, expect, it } from "vitest";
import { checkText, codes, covered } from "../../helpers.js";

describe("VN024 task-contract (classification)", () => {
  it("the output width must be `classes`, located at the output", () => {
    const r = checkText("network n {\n  classes = 5\n  input video = clip(frames = 8, size = 32)\n  output video -> global_avg_pool -> dense(7)\n}\n");
    expect(codes(r)).toEqual(["VN024"]);
    expect(covered(r)).toBe("video -> global_avg_pool -> dense(7)");
  });

  it("each output is checked", () => {
    const r = checkText(
      "network n {\n  classes = 5\n  input video = clip(frames = 8, size = 32)\n  x = video -> global_avg_pool\n  output x -> dense(5), x -> dense(4)\n}\n",
    );
    expect(codes(r)).toEqual(["VN024"]);
    expect(covered(r)).toBe("x -> dense(4)");
  });
});
