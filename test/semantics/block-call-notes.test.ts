/**
 * A problem found while expanding a block names the layer it is in and every call on the way,
 * innermost first, each note at its call site: the block's text is checked once per call, and the
 * call's arguments decide what goes wrong.
 */
import { describe, expect, it } from "vitest";
import { checkText, codes } from "../helpers.js";

const SPEC = `block basic(planes, kernel) {
  input x
  y = x -> conv3d(planes, kernel = 3, pad = 1) as conv1 -> conv3d(planes, kernel = kernel) as conv2
  output y
}

block stage(planes, n, kernel) {
  input x
  output x -> for i in 0..n { basic(planes, kernel) } as blocks
}

network n {
  classes = 2
  input video = clip(frames = 8, size = 8)
  output video -> stage(4, 2, 9) as stage2 -> global_avg_pool -> dense(classes)
}
`;

describe("errors inside blocks", () => {
  it("name the layer, the block and its call, then the calls around it", () => {
    const result = checkText(SPEC);
    expect(codes(result)).toEqual(["VN025"]);
    const d = result.diagnostics[0]!;
    expect(SPEC.slice(d.range.start, d.range.end)).toBe("kernel");
    expect(d.related!.map((r) => [r.message, SPEC.slice(r.range.start, r.range.end)])).toEqual([
      ["in layer `stage2.blocks.0.conv2` of block `basic` called as `stage2.blocks.0`", "basic(planes, kernel)"],
      ["in block `stage` called as `stage2`", "stage(4, 2, 9) as stage2"],
    ]);
  });

  it("a problem before any layer is built names the calls only", () => {
    const result = checkText(SPEC.replace("conv3d(planes, kernel = kernel)", "conv3d(planes, kernel = kernel, strde = 2)"));
    expect(codes(result)).toEqual(["VN012"]);
    expect(result.diagnostics[0]!.related!.map((r) => r.message)).toEqual([
      "in block `basic` called as `stage2.blocks.0`",
      "in block `stage` called as `stage2`",
    ]);
  });

  it("a network's own layers get no call notes", () => {
    // (`stage` is then unused: VN041 beside it.)
    const result = checkText(SPEC.replace("stage(4, 2, 9) as stage2", "conv3d(4, kernel = 9)"));
    expect(codes(result).sort()).toEqual(["VN025", "VN041"]);
    const d = result.diagnostics.find((x) => x.code === "VN025")!;
    expect(d.related ?? []).toEqual([]);
  });
});
