import { describe, expect, it } from "vitest";
import { checkText, codes, covered } from "../../helpers.js";

// A library file: no network expands these blocks, so only the static rule sees them.
const lib = (body: string, params = "") => `block b(${params}) {\n  input x\n${body}\n}\n`;

describe("VN010/VN011 unknown-name-static", () => {
  it("resolves parameters, inputs, bindings, loop variables and top-level names", () => {
    const text = `k = 2\n${lib("  y = x -> conv3d(c * k, kernel = 3)\n  output y -> for i in 0..2 { conv3d(c + i, kernel = 1) }", "c")}`;
    expect(codes(checkText(text))).toEqual([]);
  });

  it("reports an unknown name with a suggestion", () => {
    const r = checkText(lib("  output x -> conv3d(chanels, kernel = 3)", "channels"));
    // The misspelt parameter is then never read: VN044 on it, first in the file.
    expect(codes(r)).toEqual(["VN044", "VN010"]);
    expect(covered(r, 1)).toBe("chanels");
    expect(r.diagnostics[1]!.hint).toBe("did you mean `channels`?");
  });

  it("a name used before its binding: statements run top to bottom", () => {
    const r = checkText(lib("  y = z -> relu\n  z = x -> relu\n  output y"));
    expect(codes(r)).toEqual(["VN010"]);
    expect(covered(r)).toBe("z");
    expect(r.diagnostics[0]!.hint).toBe("`z` is defined later; statements run top to bottom, so move it up");
  });

  it("a loop variable outside its loop", () => {
    const r = checkText(lib("  y = x -> for i in 0..2 { relu }\n  output y -> conv3d(i + 1, kernel = 1)"));
    expect(codes(r)).toEqual(["VN010"]);
    expect(covered(r)).toBe("i");
  });

  it("a loop variable in its own bounds is not yet defined", () => {
    expect(codes(checkText(lib("  output x -> for i in 0..i { relu }")))).toEqual(["VN010"]);
  });

  it("unknown functions and stage callees", () => {
    expect(codes(checkText(lib("  output x -> conv3d(flor(2.5), kernel = 1)")))).toEqual(["VN011"]);
    expect(codes(checkText(lib("  output x -> rleu")))).toEqual(["VN011"]);
  });

  it("an unknown operator that is a known idea under another name says vnet's name, in a block and in a network", () => {
    const hints = (text: string) => checkText(text).diagnostics.map((d) => [d.code, d.hint]);
    expect(hints(lib("  output [x, x] -> multiply"))).toEqual([["VN011", expect.stringContaining("vnet calls this `mul`")]]);
    expect(hints(lib("  output [x, x] -> concatenate"))).toEqual([["VN011", expect.stringContaining("vnet calls this `concat`")]]);
    const network = "network n {\n  input video = clip(frames = 4, size = 8)\n  output video -> TSM -> global_avg_pool -> dense(2)\n}\n";
    expect(hints(network)).toEqual([["VN011", expect.stringContaining("`temporal_shift(fold = 8")]]);
  });
});
