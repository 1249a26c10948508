/**
 * `vnet check` shows related locations ("comes from here", the block calls) as path:line:col,
 * relative to the working directory like the main location, in text and in JSON, also when they
 * lie in another file than the diagnostic.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { vnet } from "../helpers.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-related-"));
fs.writeFileSync(path.join(dir, "vnet.json"), "{}\n");
fs.mkdirSync(path.join(dir, "lib"));
fs.writeFileSync(
  path.join(dir, "lib/mixed.vnet"),
  `block mixed() {
  input x
  a = x -> conv3d(8, kernel = 1) -> relu
  b = x -> conv3d(8, kernel = 3, stride = 2) -> relu
  output [a, b] -> concat
}
`,
);
fs.writeFileSync(
  path.join(dir, "main.vnet"),
  `import { mixed } from "./lib/mixed.vnet"

network n {
  classes = 2
  input video = clip(frames = 8, size = 32)
  output video -> mixed() as m -> global_avg_pool -> dense(classes)
}
`,
);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const check = async (...args: string[]) => (await vnet(["check", ...args], { cwd: dir })).out;

describe("related locations in vnet check", () => {
  it("text: each note ends in path:line:col, in the imported file or the importing one", async () => {
    const out = await check("main.vnet");
    expect(out).toContain("lib/mixed.vnet:5:20  error VN020");
    expect(out).toContain("note: input 1 `m.relu` [N, 8, 32, 32, 8] comes from here (lib/mixed.vnet:3:37)");
    expect(out).toContain("note: input 2 `m.relu_2` [N, 3, 15, 15, 8] comes from here (lib/mixed.vnet:4:49)");
    expect(out).toContain("note: in layer `m.concat` of block `mixed` called as `m` (main.vnet:6:19)");
    expect(out).not.toMatch(/@\d|\/tmp\//);
  });

  it("JSON: related locations carry the shown path and 1-based positions", async () => {
    const [d] = JSON.parse(await check("--format", "json", "main.vnet")).diagnostics;
    expect(d.file).toBe("lib/mixed.vnet");
    expect(d.related).toEqual([
      expect.objectContaining({ file: "lib/mixed.vnet", start: { line: 3, column: 37 }, end: { line: 3, column: 41 } }),
      expect.objectContaining({ file: "lib/mixed.vnet", start: { line: 4, column: 49 } }),
      expect.objectContaining({ message: "in layer `m.concat` of block `mixed` called as `m`", file: "main.vnet", start: { line: 6, column: 19 } }),
    ]);
  });
});
