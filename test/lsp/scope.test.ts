/**
 * The language server resolves names with the checker's scope provider: go to definition, hover
 * and completion give the answers the checker's diagnostics imply. In process, over a Workspace.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { completionsAt } from "../../src/lsp/completion.js";
import { hoverAt } from "../../src/lsp/hover.js";
import { definitionAt } from "../../src/lsp/navigation.js";
import { Workspace } from "../../src/lsp/workspace.js";
import { checkText } from "../helpers.js";

const FILE = path.resolve("/virtual/lsp/main.vnet");

function open(text: string): Workspace {
  const workspace = new Workspace();
  workspace.setOpen(`file://${FILE}`, text, 1);
  return workspace;
}

function hoverText(workspace: Workspace, offset: number): string {
  const hover = hoverAt(workspace, FILE, offset);
  return hover && typeof hover.contents === "object" && "value" in hover.contents ? hover.contents.value : "";
}

describe("LSP name resolution is the checker's", () => {
  const text =
    "network n {\n  input video = clip(frames = 8, size = 32)\n  y = video -> for i in 0..2 { conv3d(4 + i, kernel = 1) }\n  z = y\n  output z -> global_avg_pool -> dense(2)\n}\n";

  it("go to definition: a loop variable goes to its loop, a local to its declaration", () => {
    const workspace = open(text);
    const loopUse = text.indexOf("4 + i") + 4;
    const [loop] = definitionAt(workspace, FILE, loopUse);
    expect(loop!.range.start).toEqual({ line: 2, character: text.split("\n")[2]!.indexOf("for i") + 4 });
    const [local] = definitionAt(workspace, FILE, text.indexOf("z = y") + 4);
    expect(local!.range.start).toEqual({ line: 2, character: 2 });
  });

  it("completion offers the locals the checker would accept: declared above, loop variables in their loop", () => {
    const workspace = open(text);
    const labels = (offset: number) => completionsAt(workspace, FILE, offset).map((c) => c.label);
    const inLoop = labels(text.indexOf("4 + i") + 4);
    expect(inLoop).toContain("i");
    expect(inLoop).toContain("video");
    expect(inLoop).not.toContain("z");
    const afterLoop = labels(text.indexOf("z = y") + 4);
    expect(afterLoop).not.toContain("i");
    expect(afterLoop).toContain("y");
  });
});

describe("`.rank`: one definition for the evaluator and the hover", () => {
  it("counts the batch axis in both", () => {
    const spec = "network n {\n  input video = clip(frames = 8, size = 32)\n  output video -> global_avg_pool -> dense(video.rank)\n}\n";
    const result = checkText(spec);
    // A clip [N, T, H, W, C] has five axes.
    expect(result.networks[0]!.layers.at(-1)!.shape).toEqual([5]);
    const hover = hoverText(open(spec), spec.indexOf("rank") + 1);
    expect(hover).toContain("counting the batch axis");
    expect(hover).toContain("5 for a clip");
  });
});
