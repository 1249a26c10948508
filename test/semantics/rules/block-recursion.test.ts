import { describe, expect, it } from "vitest";
import { checkText, codes, covered } from "../../helpers.js";

const net = (before: string) => `${before}network n {\n  input video = clip(frames = 8, size = 32)\n  output video -> a -> global_avg_pool -> dense(5)\n}\n`;

describe("VN030 block-recursion", () => {
  it("reports a block that applies itself, once, at the call", () => {
    const r = checkText(net("block a() {\n  input x\n  output x -> a\n}\n"));
    expect(codes(r)).toEqual(["VN030"]);
    expect(r.diagnostics[0]!.message).toBe("block recursion: a -> a");
    expect(covered(r)).toBe("a");
  });

  it("reports a cycle through several blocks with its path", () => {
    const r = checkText(net("block a() {\n  input x\n  output x -> b\n}\nblock b() {\n  input x\n  output x -> a\n}\n"));
    expect(codes(r)).toEqual(["VN030"]);
    expect(r.diagnostics[0]!.message).toBe("block recursion: a -> b -> a");
  });

  it("follows calls into imported files", () => {
    const r = checkText(`import { b } from "./lib.vnet"\n${net("block a() {\n  input x\n  output x -> b\n}\n")}`, {
      "lib.vnet": `import { a } from "./main.vnet"\nblock b() {\n  input x\n  output x -> a\n}\n`,
    });
    expect(codes(r)).toContain("VN030");
  });

  it("walks a chain of 20,000 blocks without exhausting the stack", () => {
    const blocks = Array.from({ length: 20_000 }, (_, i) => `block b${i}() {\n  input x\n  output x -> ${i + 1 < 20_000 ? `b${i + 1}` : "b0"}\n}\n`).join("");
    const r = checkText(`${blocks}network n {\n  input video = clip(frames = 8, size = 32)\n  output video -> relu -> global_avg_pool -> dense(5)\n}\n`);
    expect(codes(r)).toContain("VN030");
  });
});
