import { describe, expect, it } from "vitest";
import { checkText, codes, covered } from "../../helpers.js";

const net = (call: string) => `network n {\n  input video = clip(frames = 8, size = 32)\n  output video -> ${call} -> global_avg_pool -> dense(2)\n}\n`;
const block = "block unit(width, depth = 2, stride = 1) {\n  input x\n  output x -> conv3d(width, kernel = 1, stride = stride)\n}\n";

describe("VN044 unused-parameter", () => {
  it("a parameter no expression of the block reads is a warning on its name, with a fix removing it and its comma", () => {
    const r = checkText(block + net("unit(4)"));
    expect(codes(r)).toEqual(["VN044"]);
    const d = r.diagnostics[0]!;
    expect(d.severity).toBe("warning");
    expect(covered(r)).toBe("depth");
    expect(d.message).toBe("parameter `depth` of block `unit` is never used");
    const text = block + net("unit(4)");
    const fixed = text.slice(0, d.fix!.range.start) + d.fix!.text + text.slice(d.fix!.range.end);
    expect(fixed.split("\n")[0]).toBe("block unit(width, stride = 1) {");
    expect(codes(checkText(fixed))).toEqual([]);
  });

  it("the last and the only parameter lose their comma too", () => {
    const last = "block unit(width, depth = 2) {\n  input x\n  output x -> conv3d(width, kernel = 1)\n}\n" + net("unit(4)");
    const d = checkText(last).diagnostics[0]!;
    expect(last.slice(0, d.fix!.range.start) + last.slice(d.fix!.range.end)).toContain("block unit(width) {");
    const only = "block unit(depth = 2) {\n  input x\n  output x -> conv3d(4, kernel = 1)\n}\n" + net("unit()");
    const o = checkText(only).diagnostics[0]!;
    expect(only.slice(0, o.fix!.range.start) + only.slice(o.fix!.range.end)).toContain("block unit() {");
  });

  it("no fix when a call passes it (by name or by position); the hint says to remove the argument too", () => {
    for (const call of ["unit(4, depth = 3)", "unit(4, 3)"]) {
      const d = checkText(block + net(call)).diagnostics[0]!;
      expect(d.code).toBe("VN044");
      expect(d.fix).toBeUndefined();
      expect(d.hint).toContain("its argument at the calls");
    }
  });

  it("used in another parameter's default, in a loop bound or a member counts; `_` names are exempt", () => {
    const uses = "block unit(width, depth = 2, mid = width * 2, _spare = 0) {\n  input x\n  output x -> for i in 0..depth { conv3d(mid, kernel = 1) }\n}\n";
    expect(codes(checkText(uses + net("unit(4)")))).toEqual([]);
  });
});
