import { describe, expect, it } from "vitest";
import { checkText, codes, covered } from "../../helpers.js";

describe("VN042 unused-binding", () => {
  it("a binding nothing reads is a warning on its name", () => {
    const r = checkText("network n {\n  input video = clip(frames = 8, size = 32)\n  unused = 3\n  output video -> global_avg_pool -> dense(2)\n}\n");
    expect(codes(r)).toEqual(["VN042"]);
    expect(r.diagnostics[0]!.severity).toBe("warning");
    expect(covered(r)).toBe("unused");
  });

  it("network properties and `_` names are exempt", () => {
    expect(
      codes(
        checkText("network n {\n  classes = 2\n  _note = 3\n  input video = clip(frames = 8, size = 32)\n  output video -> global_avg_pool -> dense(2)\n}\n"),
      ),
    ).toEqual([]);
  });
});
