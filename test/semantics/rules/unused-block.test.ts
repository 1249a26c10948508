import { describe, expect, it } from "vitest";
import { checkText, codes, covered } from "../../helpers.js";

const net = "network n {\n  input video = clip(frames = 8, size = 32)\n  output video -> global_avg_pool -> dense(2)\n}\n";

describe("VN041 unused-block", () => {
  it("a block nothing applies, in a file with a network", () => {
    const r = checkText(`block spare() {\n  input x\n  output x\n}\n${net}`);
    expect(codes(r)).toEqual(["VN041"]);
    expect(covered(r)).toBe("spare");
  });

  it("library files (no network) export their blocks", () => {
    expect(codes(checkText("block spare() {\n  input x\n  output x\n}\n"))).toEqual([]);
  });
});
