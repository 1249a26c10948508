import { describe, expect, it } from "vitest";
import { checkText, codes, covered } from "../../helpers.js";

const net = (task: string) => `network n {\n  task = ${task}\n  input video = clip(frames = 8, size = 32)\n  output video -> global_avg_pool -> dense(2)\n}\n`;

describe("VN014/VN015 task", () => {
  it("a known task is the network's", () => {
    const r = checkText(net('"classification"'));
    expect(codes(r)).toEqual([]);
    expect(r.networks[0]!.task).toBe("classification");
  });

  it("an unknown task, with a suggestion", () => {
    const r = checkText(net('"clasification"'));
    expect(codes(r)).toEqual(["VN015"]);
    expect(covered(r)).toBe("task");
    expect(r.diagnostics[0]!.hint).toBe("did you mean `classification`?");
  });

  it("a task that is not a string", () => {
    expect(codes(checkText(net("3")))).toEqual(["VN014"]);
  });
});
