import { describe, expect, it } from "vitest";
import { checkText, codes, covered } from "../../helpers.js";

describe("VN034 import-unknown-name", () => {
  it("reports a name the imported file does not define, with a suggestion", () => {
    const r = checkText(`import { basik } from "./lib.vnet"\n`, { "lib.vnet": "block basic() {\n  input x\n  output x\n}\n" });
    expect(codes(r)).toEqual(["VN034"]);
    expect(covered(r)).toBe("basik");
    expect(r.diagnostics[0]!.hint).toBe("did you mean `basic`?");
  });

  it("lists what the file defines when nothing is close", () => {
    const r = checkText(`import { zzz } from "./lib.vnet"\n`, { "lib.vnet": "block basic() {\n  input x\n  output x\n}\nk = 1\n" });
    expect(r.diagnostics[0]!.hint).toBe("it defines: basic, k");
  });
});
