/** The editor greys out an unused block parameter (VN044) and offers a quick fix that removes it. */
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { DiagnosticTag } from "vscode-languageserver";
import { quickFixes } from "../../src/lsp/code-actions.js";
import { diagnosticsFor } from "../../src/lsp/diagnostics.js";
import { lineIndexOf, toOffset } from "../../src/lsp/positions.js";
import { Workspace } from "../../src/lsp/workspace.js";

const FILE = path.resolve("/virtual/unused-param/main.vnet");
const text = `block unit(width, depth = 2) {
  input x
  output x -> conv3d(width, kernel = 1)
}

network n {
  classes = 2
  input video = clip(frames = 8, size = 32)
  output video -> unit(4) -> global_avg_pool -> dense(classes)
}
`;

describe("VN044 in the editor", () => {
  it("is tagged unnecessary, and its quick fix removes the parameter", () => {
    const workspace = new Workspace();
    const uri = pathToFileURL(FILE).href;
    workspace.setOpen(uri, text, 1);
    workspace.analyze(FILE);
    const diagnostics = diagnosticsFor(FILE, workspace);
    expect(diagnostics.map((d) => d.code)).toEqual(["VN044"]);
    expect(diagnostics[0]!.tags).toEqual([DiagnosticTag.Unnecessary]);
    const [action] = quickFixes(uri, text, diagnostics);
    expect(action!.title).toBe("Remove the unused parameter `depth`");
    const [edit] = action!.edit!.changes![uri]!;
    const lines = lineIndexOf(text);
    const fixed = text.slice(0, toOffset(lines, edit!.range.start)) + edit!.newText + text.slice(toOffset(lines, edit!.range.end));
    expect(fixed).toBe(text.replace("unit(width, depth = 2)", "unit(width)"));
  });
});
