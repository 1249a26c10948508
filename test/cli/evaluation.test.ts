import { describe, expect, it } from "vitest";
import { evaluationSplit } from "../../src/cli/evaluation.js";

describe("the split vnet eval and vnet report evaluate", () => {
  it("is the one asked for, else val, else test when only test has videos", () => {
    expect(evaluationSplit("train", { val: [1], test: [1] })).toBe("train");
    expect(evaluationSplit(undefined, { val: [1], test: [1] })).toBe("val");
    expect(evaluationSplit(undefined, { val: [], test: [1] })).toBe("test");
    // Nothing anywhere: val, whose emptiness the command reports.
    expect(evaluationSplit(undefined, { val: [], test: [] })).toBe("val");
  });
});
