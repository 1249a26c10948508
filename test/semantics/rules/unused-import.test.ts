import { describe, expect, it } from "vitest";
import { checkText, codes, covered } from "../../helpers.js";

const lib = { "lib.vnet": "block a() {\n  input x\n  output x\n}\nblock b() {\n  input x\n  output x\n}\nk = 3\n" };

describe("VN043 unused-import", () => {
  it("an imported name nothing uses", () => {
    const r = checkText(
      `import { a, b } from "./lib.vnet"\nnetwork n {\n  input video = clip(frames = 8, size = 32)\n  output video -> a -> global_avg_pool -> dense(2)\n}\n`,
      lib,
    );
    expect(codes(r)).toEqual(["VN043"]);
    expect(covered(r)).toBe("b");
  });

  it("an imported constant read by an expression counts as used", () => {
    const r = checkText(
      `import { k } from "./lib.vnet"\nnetwork n {\n  input video = clip(frames = 8, size = 32)\n  output video -> global_avg_pool -> dense(k)\n}\n`,
      lib,
    );
    expect(codes(r)).toEqual([]);
  });
});
