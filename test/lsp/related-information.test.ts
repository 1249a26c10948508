/**
 * The language server publishes related locations as relatedInformation with ranges (line and
 * character, in the file they are in): a block's error re-homed onto its call site keeps the
 * original place and each branch's note.
 */
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { diagnosticsFor } from "../../src/lsp/diagnostics.js";
import { Workspace } from "../../src/lsp/workspace.js";

const root = path.resolve("/virtual/related");
const MAIN = path.join(root, "main.vnet");
const LIB = path.join(root, "lib/mixed.vnet");
const lib = `block mixed() {
  input x
  a = x -> conv3d(8, kernel = 1) -> relu
  b = x -> conv3d(8, kernel = 3, stride = 2) -> relu
  output [a, b] -> concat
}
`;
const main = `import { mixed } from "./lib/mixed.vnet"

network n {
  classes = 2
  input video = clip(frames = 8, size = 32)
  output video -> mixed() as m -> global_avg_pool -> dense(classes)
}
`;

describe("LSP relatedInformation", () => {
  it("a concat's notes in the imported block, at their branches, and the original place", () => {
    const workspace = new Workspace();
    workspace.setOpen(pathToFileURL(LIB).href, lib, 1);
    workspace.setOpen(pathToFileURL(MAIN).href, main, 1);
    workspace.analyze(MAIN);
    const [d] = diagnosticsFor(MAIN, workspace).filter((x) => x.code === "VN020");
    expect(d!.range.start).toEqual({ line: 5, character: 18 });
    expect(
      d!.relatedInformation!.map((r) => [r.location.uri === pathToFileURL(LIB).href ? "lib" : "main", r.location.range, r.message.split(" comes")[0]]),
    ).toEqual([
      ["lib", { start: { line: 4, character: 19 }, end: { line: 4, character: 25 } }, expect.stringContaining("`concat` inputs differ")],
      ["lib", { start: { line: 2, character: 36 }, end: { line: 2, character: 40 } }, "input 1 `m.relu` [N, 8, 32, 32, 8]"],
      ["lib", { start: { line: 3, character: 48 }, end: { line: 3, character: 52 } }, "input 2 `m.relu_2` [N, 3, 15, 15, 8]"],
    ]);
  });
});

describe("LSP re-homing of a block's error", () => {
  it("lands on the call in the open file, also when an input's note points into that file", () => {
    const workspace = new Workspace();
    const libText = "block fuse() {\n  input x\n  y = x -> conv3d(8, kernel = 3, stride = 2)\n  output [x, y] -> concat\n}\n";
    const mainText = `import { fuse } from "./lib/fuse.vnet"

network n {
  classes = 2
  input video = clip(frames = 8, size = 32)
  x = video -> conv3d(4, kernel = 1)
  output x -> fuse() -> global_avg_pool -> dense(classes)
}
`;
    workspace.setOpen(pathToFileURL(path.join(root, "lib/fuse.vnet")).href, libText, 1);
    workspace.setOpen(pathToFileURL(MAIN).href, mainText, 1);
    workspace.analyze(MAIN);
    const [d] = diagnosticsFor(MAIN, workspace).filter((x) => x.code === "VN020");
    expect(d!.range.start).toEqual({ line: 6, character: mainText.split("\n")[6]!.indexOf("fuse()") });
  });
});
