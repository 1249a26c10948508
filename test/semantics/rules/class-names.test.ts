import { describe, expect, it } from "vitest";
import { checkText, codes, covered } from "../../helpers.js";

const net = (props: string) => `network n {\n${props}\n  input video = clip(frames = 8, size = 32)\n  output video -> global_avg_pool -> dense(3)\n}\n`;

describe("VN014/VN015 class-names", () => {
  it("accepts `classes` and one name per class", () => {
    const r = checkText(net('  classes = 3\n  class_names = ["a", "b", "c"]'));
    expect(codes(r)).toEqual([]);
    expect(r.networks[0]!.classNames).toEqual(["a", "b", "c"]);
  });

  it("`classes` must be a positive integer", () => {
    const r = checkText(net("  classes = 2.5"));
    expect(codes(r)).toEqual(["VN014"]);
    expect(covered(r)).toBe("classes");
  });

  it("`class_names` must be a list of strings", () => {
    const r = checkText(net("  classes = 3\n  class_names = [1, 2, 3]"));
    expect(codes(r)).toEqual(["VN014"]);
    expect(covered(r)).toBe("class_names");
  });

  it("`class_names` must have `classes` entries", () => {
    const r = checkText(net('  classes = 3\n  class_names = ["a", "b"]'));
    expect(codes(r)).toEqual(["VN015"]);
    expect(r.diagnostics[0]!.message).toBe("`class_names` has 2 names for 3 classes");
  });
});
