/**
 * The language server follows `vnet/specs/...` imports into the running vnet's spec library the way
 * the checker does: diagnostics, go to definition, hover and the module index see the package's
 * files; a rename of a name the package defines is refused. In process, over a Workspace, on a file
 * in a temporary project outside the repository.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { completionsAt } from "../../src/lsp/completion.js";
import { diagnosticsFor } from "../../src/lsp/diagnostics.js";
import { hoverAt } from "../../src/lsp/hover.js";
import { definitionAt, prepareRename, RenameRefused } from "../../src/lsp/navigation.js";
import { Workspace } from "../../src/lsp/workspace.js";

const repo = path.resolve(__dirname, "../..");
const library = path.join(repo, "specs/lib/video_resnet.vnet");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-lsp-user-"));
fs.writeFileSync(path.join(dir, "vnet.json"), "{}\n");
const file = path.join(dir, "main.vnet");
const text = `import { basic, basic_stem } from "vnet/specs/lib/video_resnet.vnet"
import { nothing } from "vnet/specs/lib/video_resnetz.vnet"

network n {
  classes = 2
  input video = clip(frames = 4, size = 32)
  output video -> basic_stem() -> basic(64) -> global_avg_pool -> dense(classes)
}
`;
fs.writeFileSync(file, text);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function open(): Workspace {
  const workspace = new Workspace();
  workspace.setOpen(pathToFileURL(file).href, text, 1);
  workspace.analyze(file);
  return workspace;
}

describe("LSP over package imports", () => {
  it("publishes only the unknown package path's VN031, with its hint", () => {
    const diagnostics = diagnosticsFor(file, open());
    expect(diagnostics.map((d) => [d.code, d.range.start])).toEqual([["VN031", { line: 1, character: 24 }]]);
    expect(diagnostics[0]!.message).toContain("did you mean `vnet/specs/lib/video_resnet.vnet`?");
  });

  it("goes to the package's file from the import path, and to the block's definition in it", () => {
    const workspace = open();
    const [onPath] = definitionAt(workspace, file, text.indexOf("vnet/specs") + 3);
    expect(onPath!.uri).toBe(pathToFileURL(library).href);
    const [onCall] = definitionAt(workspace, file, text.indexOf("basic(64)") + 2);
    expect(onCall!.uri).toBe(pathToFileURL(library).href);
    const lines = fs.readFileSync(library, "utf8").split("\n");
    expect(lines[onCall!.range.start.line]!.slice(onCall!.range.start.character)).toMatch(/^basic\(/);
  });

  it("hovers a package block with its signature", () => {
    const hover = hoverAt(open(), file, text.indexOf("basic_stem()") + 2);
    const value = hover && typeof hover.contents === "object" && "value" in hover.contents ? hover.contents.value : "";
    expect(value).toContain("block basic_stem(");
  });

  it("refuses to rename a block the package defines", () => {
    expect(() => prepareRename(open(), file, text.indexOf("basic(64)") + 2)).toThrow(RenameRefused);
    expect(() => prepareRename(open(), file, text.indexOf("basic(64)") + 2)).toThrow(/defined outside this project/);
  });

  it("completes a package path in an import's string, and the names that file defines", () => {
    const workspace = new Workspace();
    const draft = 'import { b } from "vnet/specs/lib/vid';
    workspace.setOpen(pathToFileURL(file).href, draft, 2);
    const paths = completionsAt(workspace, file, draft.length);
    expect(paths.map((c) => c.label)).toEqual(["vnet/specs/lib/video_resnet.vnet"]);
    const edit = paths[0]!.textEdit as { range: { start: { character: number }; end: { character: number } }; newText: string };
    expect([edit.range.start.character, edit.range.end.character, edit.newText]).toEqual([19, draft.length, 'vnet/specs/lib/video_resnet.vnet"']);
    const all = completionsAt(workspace, file, draft.indexOf("vnet/") + 1).map((c) => c.label);
    expect(all).toContain("vnet/specs/lib/x3d.vnet");
    expect(all).toContain("vnet/specs/r3d_18.vnet");
    const names = 'import { b } from "vnet/specs/lib/video_resnet.vnet"\n';
    workspace.setOpen(pathToFileURL(file).href, names, 3);
    expect(completionsAt(workspace, file, names.indexOf("b }")).map((c) => c.label)).toEqual(expect.arrayContaining(["basic", "basic_stem"]));
  });
});
