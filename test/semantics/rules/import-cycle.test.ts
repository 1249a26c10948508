import { describe, expect, it } from "vitest";
import { checkText, codes } from "../../helpers.js";

describe("VN032 import-cycle", () => {
  it("reports files that import each other, at the import that closes the cycle", () => {
    const r = checkText(`import { b } from "./b.vnet"\nblock a() {\n  input x\n  output x -> b\n}\n`, {
      "b.vnet": `import { c } from "./c.vnet"\nblock b() {\n  input x\n  output x -> c\n}\n`,
      "c.vnet": `import { a } from "./main.vnet"\nblock c() {\n  input x\n  output x -> relu\n}\n`,
    });
    const cycles = r.diagnostics.filter((d) => d.code === "VN032");
    expect(cycles.map((d) => d.message)).toEqual(["import cycle: main.vnet -> b.vnet -> c.vnet -> main.vnet"]);
  });

  it("a chain of imports without a cycle is fine", () => {
    const r = checkText(`import { b } from "./b.vnet"\n`, {
      "b.vnet": `import { c } from "./c.vnet"\nblock b() {\n  input x\n  output x -> c\n}\n`,
      "c.vnet": "block c() {\n  input x\n  output x\n}\n",
    });
    expect(codes(r)).not.toContain("VN032");
  });
});
