import { describe, expect, it } from "vitest";
import { diagnosticAt } from "../../src/diagnostics/diagnostic.js";

describe("diagnosticAt", () => {
  const origin = { file: "/p/net.vnet", range: { start: 4, end: 9 } };

  it("locates a diagnostic at an origin, with the hint when there is one", () => {
    expect(diagnosticAt(origin, "VN102", "error", "does not fit", "inflate it first")).toEqual({
      code: "VN102",
      severity: "error",
      message: "does not fit",
      file: "/p/net.vnet",
      range: { start: 4, end: 9 },
      hint: "inflate it first",
    });
    expect("hint" in diagnosticAt(origin, "VN101", "warning", "stays at its initialiser")).toBe(false);
  });
});
