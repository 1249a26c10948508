import { describe, expect, it } from "vitest";
import { formatSummary, summarize } from "../../../src/semantics/summary.js";
import { checkText, codes, covered } from "../../helpers.js";

const source = (head: string) => `network d {
    classes = 3
    input video = clip(frames = 2, size = [9, 11])
    input boxes = boxes()
    ${head}
  }`;

describe("VN028 box-rows", () => {
  it("the checker follows the box rows: per-box and per-clip tensors never meet, only roi_align reads boxes (VN028)", () => {
    const head = "x = video -> conv3d(4, kernel = 1) -> temporal_pool\n    r = [x, boxes] -> roi_align(resolution = 2) -> global_avg_pool";
    expect(codes(checkText(source(`${head}\n output r -> dense(classes)`)))).toEqual([]);
    expect(codes(checkText(source(`${head}\n output [r, x -> global_avg_pool] -> concat -> dense(classes)`)))).toEqual(["VN028"]);
    expect(codes(checkText(source("output boxes -> dense(classes)")))).toEqual(["VN028"]);
    // relu reads the boxes, and roi_align's boxes are then not a boxes() input.
    expect(codes(checkText(source("x = video -> temporal_pool\n output [x, boxes -> relu] -> roi_align -> flatten -> dense(classes)")))).toEqual([
      "VN028",
      "VN028",
    ]);
    const summary = formatSummary(summarize(checkText(source(`${head}\n output r -> dense(classes)`)).networks[0]!));
    expect(summary).toContain("boxes [K, 5]");
    expect(summary).toMatch(/roi_align +roi_align +\[K, 2, 2, 4\]/);
    expect(summary).toMatch(/global_avg_pool_2 +global_avg_pool +\[K, 4\]|global_avg_pool +global_avg_pool +\[K, 4\]/);
    // The totals count the per-box layers once (one box per clip), and say so; a classifier's line has no such note.
    expect(summary).toMatch(/^MACs per clip: .*, the \[K, \.\.\.\] layers for one box$/m);
    const classifier = formatSummary(
      summarize(
        checkText("network c { classes = 3\n input video = clip(frames = 2, size = 8)\n output video -> global_avg_pool -> dense(classes) }").networks[0]!,
      ),
    );
    expect(classifier).toMatch(/^MACs per clip: +[0-9.]+ K? ?\([0-9,]+\)$/m);
  });

  it("is located at the layer that mixes the rows", () => {
    const r = checkText(
      source(
        "x = video -> temporal_pool\n    r = [x, boxes] -> roi_align(resolution = 2) -> global_avg_pool\n    output [r, x -> global_avg_pool] -> add -> dense(classes)",
      ),
    );
    expect(codes(r)).toEqual(["VN028"]);
    expect(covered(r)).toBe("add");
  });
});
