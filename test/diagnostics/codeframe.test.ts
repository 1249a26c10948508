/** The CLI's rendering of one diagnostic: location, code frame, hint and related notes. */
import { describe, expect, it } from "vitest";
import { formatDiagnostic, formatLocation } from "../../src/diagnostics/codeframe.js";
import type { Diagnostic } from "../../src/diagnostics/diagnostic.js";
import { LineIndex } from "../../src/diagnostics/location.js";

const MAIN = "/p/main.vnet";
const LIB = "/p/lib/blocks.vnet";
const mainText = "network n {\n  output x -> concat\n}\n";
const libText = "block b() {\n  input x\n  output x -> relu\n}\n";

const diagnostic: Diagnostic = {
  code: "VN020",
  severity: "error",
  message: "inputs differ",
  file: MAIN,
  range: { start: mainText.indexOf("concat"), end: mainText.indexOf("concat") + 6 },
  related: [
    { message: "input 1 comes from here", file: LIB, range: { start: libText.indexOf("relu"), end: libText.indexOf("relu") + 4 } },
    { message: "the network", file: MAIN, range: { start: 8, end: 9 } },
    { message: "somewhere unread", file: "/p/gone.vnet", range: { start: 40, end: 41 } },
  ],
};

describe("formatDiagnostic", () => {
  it("prints every related location as path:line:col in the main location's path style", () => {
    const lib = new LineIndex(libText);
    const text = formatDiagnostic(diagnostic, mainText, { showPath: (f) => f.replace("/p/", ""), lineIndexOf: (f) => (f === LIB ? lib : undefined) });
    expect(text.split("\n")).toEqual([
      "main.vnet:2:15  error VN020  inputs differ",
      "  2 |   output x -> concat",
      "    |               ^^^^^^",
      "  note: input 1 comes from here (lib/blocks.vnet:3:15)",
      "  note: the network (main.vnet:1:9)",
      "  note: somewhere unread (gone.vnet)",
    ]);
    expect(text).not.toMatch(/@\d/);
  });

  it("formatLocation: path:line:col, or the path alone without the file's text", () => {
    expect(formatLocation(LIB, libText.indexOf("relu"), new LineIndex(libText))).toBe("/p/lib/blocks.vnet:3:15");
    expect(formatLocation(LIB, 30, undefined, (f) => f.slice(3))).toBe("lib/blocks.vnet");
  });
});
