import { describe, expect, it } from "vitest";
import { checkText, codes, covered } from "../../helpers.js";

describe("VN062 network-structure", () => {
  it("a network without an input", () => {
    const r = checkText("network n {\n  k = 1\n}\n");
    expect(r.diagnostics.filter((d) => d.code === "VN062").map((d) => d.message)).toEqual(["network `n` has no input", "network `n` has no output"]);
    expect(covered(r)).toBe("n");
  });

  it("a network without an output", () => {
    const r = checkText("network n {\n  input video = clip(frames = 8, size = 32)\n}\n");
    expect(codes(r)).toEqual(["VN062"]);
    expect(r.diagnostics[0]!.message).toBe("network `n` has no output");
  });

  it("a failed output expression is not also a missing output", () => {
    const r = checkText("network n {\n  input video = clip(frames = 8, size = 32)\n  output nothing\n}\n");
    expect(codes(r)).toEqual(["VN010"]);
  });
});
