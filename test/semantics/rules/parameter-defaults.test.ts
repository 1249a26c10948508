import { describe, expect, it } from "vitest";
import { checkText, codes, covered } from "../../helpers.js";

describe("VN013 parameter-defaults", () => {
  it("a parameter without a default after one with a default", () => {
    const r = checkText("block b(k = 1, c) {\n  input x\n  output x -> conv3d(c, kernel = k)\n}\n");
    expect(codes(r)).toEqual(["VN013"]);
    expect(covered(r)).toBe("c");
  });

  it("defaults last is fine", () => {
    expect(codes(checkText("block b(c, k = 1) {\n  input x\n  output x -> conv3d(c, kernel = k)\n}\n"))).toEqual([]);
  });
});
