/**
 * At a fusion point (concat, add, mul) whose inputs do not fit, each input's note points at the
 * branch that made it, not at the layer inside a block that every branch shares, and names it.
 */
import { describe, expect, it } from "vitest";
import { checkText, codes } from "../helpers.js";

const INCEPTION = `block unit(width, kernel = 1, stride = 1) {
  input x
  output x -> conv3d(width, kernel = kernel, stride = stride, bias = false) -> bn -> relu
}

block mixed() {
  input x
  b0 = x -> unit(8)
  b1 = x -> unit(4) -> unit(8, kernel = 3, stride = 2)
  b2 = x -> unit(4) -> unit(8)
  b3 = x -> maxpool3d(kernel = 3, stride = 1, pad = 1) -> unit(8)
  output [b0, b1, b2, b3] -> concat
}

network n {
  classes = 2
  input video = clip(frames = 8, size = 32)
  output video -> conv3d(4, kernel = 1) -> mixed() as mixed_3b -> global_avg_pool -> dense(classes)
}
`;

describe("fusion notes", () => {
  it("an Inception-style concat: one note per branch, at the call that ends it", () => {
    const result = checkText(INCEPTION);
    expect(codes(result)).toEqual(["VN020"]);
    const notes = result.diagnostics[0]!.related!.filter((r) => r.message.includes("comes from"));
    expect(notes.map((r) => INCEPTION.slice(r.range.start, r.range.end))).toEqual(["unit(8)", "unit(8, kernel = 3, stride = 2)", "unit(8)", "unit(8)"]);
    const lines = notes.map((r) => INCEPTION.slice(0, r.range.start).split("\n").length);
    expect(lines).toEqual([8, 9, 10, 11]);
    expect(notes.map((r) => r.message)).toEqual([
      "input 1 `mixed_3b.unit.relu` [N, 8, 32, 32, 8] comes from here",
      "input 2 `mixed_3b.unit_3.relu` [N, 3, 15, 15, 8] comes from here",
      "input 3 `mixed_3b.unit_5.relu` [N, 8, 32, 32, 8] comes from here",
      "input 4 `mixed_3b.unit_6.relu` [N, 8, 32, 32, 8] comes from here",
    ]);
  });

  it("branches written inline in the block point at their own last layer", () => {
    const text = INCEPTION.replace("b1 = x -> unit(4) -> unit(8, kernel = 3, stride = 2)", "b1 = x -> conv3d(8, kernel = 3, stride = 2) -> relu");
    const notes = checkText(text).diagnostics[0]!.related!.filter((r) => r.message.includes("comes from"));
    expect(text.slice(notes[1]!.range.start, notes[1]!.range.end)).toBe("relu");
    expect(text.slice(0, notes[1]!.range.start).split("\n").length).toBe(9);
  });
});
