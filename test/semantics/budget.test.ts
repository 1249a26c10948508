/**
 * The evaluation budget (src/semantics/budget.ts): specs that describe far more work than they
 * are long stop at a located diagnostic with a stable code, without running out of memory.
 */
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/semantics/budget.js";
import { checkText, codes, covered } from "../helpers.js";

const net = (body: string, output = "video -> global_avg_pool -> dense(classes)") =>
  `network n {\n  classes = 10\n  input video = clip(frames = 8, size = 32)\n${body}\n  output ${output}\n}\n`;
const doubled = (first: string, join: (previous: string) => string) =>
  Array.from({ length: 31 }, (_, i) => (i === 0 ? `  a0 = ${first}` : `  a${i} = ${join(`a${i - 1}`)}`)).join("\n");

describe("the evaluation budget", () => {
  it("a list doubled 30 times by `+` stops at the computed-list limit (VN015, on that `+`)", () => {
    const r = checkText(
      net(
        doubled("[1]", (a) => `${a} + ${a}`),
        "video -> global_avg_pool -> dense(len(a30))",
      ),
    );
    expect(codes(r)).toEqual(["VN015"]);
    expect(r.diagnostics[0]!.message).toBe(`this \`+\` makes a list of 16384 items; a computed list holds at most ${LIMITS.listItems}`);
    expect(covered(r)).toBe("a13 + a13");
  });

  it("a string doubled 30 times stops at the computed-string limit (VN015)", () => {
    const r = checkText(net(`${doubled('"ab"', (a) => `${a} + ${a}`)}\n  description = a30`));
    expect(codes(r)).toEqual(["VN015"]);
    expect(r.diagnostics[0]!.message).toContain(`a computed string holds at most ${LIMITS.stringLength}`);
  });

  it("comparing a list that holds itself 30 levels deep spends the budget (VN027), not 2^30 steps", () => {
    const r = checkText(net(`${doubled("[1]", (a) => `[${a}, ${a}]`)}\n  same = a30 == a30`, "video -> global_avg_pool -> dense(if same then 10 else 10)"));
    expect(codes(r)).toEqual(["VN027"]);
    expect(r.diagnostics[0]!.message).toBe("checking network `n` takes more than 10,000,000 steps of evaluation");
    expect(covered(r)).toBe("a30 == a30");
  });

  it("loops that each stay under the layer and list limits but together exceed the work budget: VN027", () => {
    const items = Array.from({ length: 2000 }, () => "1").join(", ");
    const r = checkText(
      net(`  x = video -> for i in 0..100 { for j in 0..100 { conv3d(len([${items}]), kernel = 1) } }`, "x -> global_avg_pool -> dense(classes)"),
    );
    expect(codes(r)).toEqual(["VN027"]);
    expect(r.diagnostics[0]!.message).toContain("steps of evaluation");
  });

  it("a sum of 100,000 terms evaluates without exhausting the stack", () => {
    const r = checkText(net(`  k = ${Array.from({ length: 100_000 }, () => "1").join(" + ")} - 99990`, "video -> global_avg_pool -> dense(k)"));
    expect(codes(r)).toEqual([]);
  });

  it("min and max of a 10,000-item list do not spread it into arguments", () => {
    const r = checkText(
      net(`  xs = [${Array.from({ length: 10_000 }, (_, i) => String(i % 10)).join(", ")}] * 1`, "video -> global_avg_pool -> dense(max(xs) + 1 + min(xs))"),
    );
    expect(codes(r)).toEqual([]);
  });
});
