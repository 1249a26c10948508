/**
 * `vnet check` on what is not a regular spec file: a FIFO, a symbolic-link loop, a folder link to
 * an ancestor, a link out of the project. Each gets one located diagnostic or is left out; none
 * blocks, recurses without end or prints another file's lines.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { expandSpecPaths } from "../../src/cli/util.js";

const SPEC = "network n {\n  classes = 2\n  input video = clip(frames = 4, size = 16)\n  output video -> global_avg_pool -> dense(classes)\n}\n";
const project = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-special-"));
const outside = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-outside-"));
fs.writeFileSync(path.join(project, "vnet.json"), "{}");
fs.writeFileSync(path.join(project, "ok.vnet"), SPEC);
fs.mkdirSync(path.join(project, "sub"));
fs.writeFileSync(path.join(outside, "secret.vnet"), "SECRET LINE one\nSECRET LINE two\n");
execFileSync("mkfifo", [path.join(project, "pipe.vnet")]);
fs.symlinkSync("loop-b.vnet", path.join(project, "loop-a.vnet"));
fs.symlinkSync("loop-a.vnet", path.join(project, "loop-b.vnet"));
fs.symlinkSync("..", path.join(project, "sub", "up"));
fs.symlinkSync(path.join(outside, "secret.vnet"), path.join(project, "sub", "leak.vnet"));
fs.writeFileSync(path.join(project, "imports.vnet"), `import { a } from "./sub/leak.vnet"\n${SPEC}`);
afterAll(() => {
  fs.rmSync(project, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

async function check(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(["check", ...args], { out: (s) => out.push(s), err: (s) => err.push(s), progress: () => {} });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("vnet check on special files", () => {
  it("walks a folder once through a link to its ancestor and leaves out a spec linked from outside", () => {
    const files = expandSpecPaths([project]).map((f) => path.relative(project, f));
    expect(files).toEqual(["imports.vnet", "loop-a.vnet", "loop-b.vnet", "ok.vnet", "pipe.vnet"]);
  });

  it("a FIFO is a located VN031, read without blocking", { timeout: 20_000 }, async () => {
    const r = await check([path.join(project, "pipe.vnet")]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("error VN031  cannot read");
    expect(r.out).toContain("it is a FIFO (named pipe), not a file");
  });

  it("a symbolic-link loop is a VN031 that says so, not an internal error", async () => {
    const r = await check([path.join(project, "loop-a.vnet")]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("its symbolic links form a loop");
    expect(r.err).toBe("");
  });

  it("the whole project: every special file reported, no line of the file outside shown", { timeout: 20_000 }, async () => {
    const r = await check([project]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("checked 5 file(s)");
    expect(r.out).toContain("VN033  import `./sub/leak.vnet` resolves outside the project root");
    expect(r.out).toContain("a symbolic link on the way leads out of the project");
    expect(r.out).not.toContain("SECRET");
  });

  it("the JSON report of a FIFO and a loop", { timeout: 20_000 }, async () => {
    const r = await check([path.join(project, "pipe.vnet"), path.join(project, "loop-b.vnet"), "--format", "json"]);
    const report = JSON.parse(r.out) as { diagnostics: { code: string; start: { line: number } }[] };
    expect(report.diagnostics.map((d) => d.code)).toEqual(["VN031", "VN031"]);
    expect(report.diagnostics[0]!.start.line).toBe(1);
  });
});
