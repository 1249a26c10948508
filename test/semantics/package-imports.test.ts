/**
 * `import { ... } from "vnet/specs/lib/..."` reads the spec library of the running vnet package,
 * from a user's project anywhere on disk, while a relative import still may not leave the project.
 * Through the real CLI, on files in a temporary project outside the repository; the last case runs
 * a copy of the package installed into that project's node_modules as a separate process.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadProgram } from "../../src/semantics/program.js";
import { vnetPackageRoot } from "../../src/version.js";
import { ensureBuilt, vnet } from "../helpers.js";

const repo = path.resolve(__dirname, "../..");
const projects: string[] = [];

const run = (cwd: string, args: string[]) => vnet(args, { cwd });

/** A project folder (with vnet.json) outside the repository holding the given files. */
function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-user-"));
  projects.push(dir);
  fs.writeFileSync(path.join(dir, "vnet.json"), "{}\n");
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

afterAll(() => {
  for (const dir of projects) fs.rmSync(dir, { recursive: true, force: true });
});

const R3D = `import { basic, basic_stem } from "vnet/specs/lib/video_resnet.vnet"
import { squeeze_excitation } from "vnet/specs/lib/squeeze_excitation"

network mine {
  classes = 3
  input video = clip(frames = 4, size = 32)
  output video
    -> basic_stem()
    -> basic(64)
    -> squeeze_excitation(16)
    -> global_avg_pool
    -> dense(classes)
}
`;

describe("package imports (vnet/specs/...)", () => {
  it("the running vnet's package root is the folder of its package.json named vnet", () => {
    expect(vnetPackageRoot()).toBe(repo);
  });

  it("a spec outside the repository imports the shipped library: it checks, compiles, and vnet fmt keeps the path", async () => {
    const dir = project({ "specs/mine.vnet": R3D });
    expect(path.relative(repo, dir).startsWith("..")).toBe(true);
    const check = await run(dir, ["check", "specs/mine.vnet"]);
    expect(check.out).toMatch(/checked 1 file\(s\): 0 error\(s\), 0 warning\(s\)/);
    expect(check.code).toBe(0);
    const compile = await run(dir, ["compile", "specs/mine.vnet", "--target", "onnx", "-o", "mine.onnx"]);
    expect(compile.code).toBe(0);
    expect(fs.statSync(path.join(dir, "mine.onnx")).size).toBeGreaterThan(100_000);
    // Already formatted (the formatter keeps the package paths as written).
    const fmt = await run(dir, ["fmt", "--check", "specs/mine.vnet"]);
    expect(fmt.err).toContain("1 file(s) already formatted");
    expect(fmt.code).toBe(0);
  });

  it("a package spec's own relative import is confined to the package, not to the user's project", async () => {
    // x3d.vnet imports ./squeeze_excitation.vnet.
    const dir = project({
      "x.vnet": `import { x3d_block } from "vnet/specs/lib/x3d.vnet"
network n {
  classes = 2
  input video = clip(frames = 4, size = 32)
  output video -> conv3d(24, kernel = 1) -> x3d_block(24, 54) -> global_avg_pool -> dense(classes)
}
`,
    });
    const check = await run(dir, ["check", "x.vnet"]);
    expect(check.out).toMatch(/0 error\(s\)/);
  });

  it("a relative import that leaves the project is still VN033, located at the path", async () => {
    const dir = project({ "sub/a.vnet": 'import { basic } from "../../video_resnet.vnet"\n' });
    const check = await run(dir, ["check", "sub/a.vnet"]);
    expect(check.code).toBe(1);
    expect(check.out).toMatch(/^sub\/a\.vnet:1:23 {2}error VN033 {2}import `\.\.\/\.\.\/video_resnet\.vnet` resolves outside the project root/m);
    expect(check.out).toContain('import the shipped library as "vnet/specs/lib/..."');
  });

  it("an unknown package path is VN031 at the path, with a did-you-mean and the library's files", async () => {
    const dir = project({ "a.vnet": 'import { basic } from "vnet/specs/lib/video_resnets.vnet"\n' });
    const check = await run(dir, ["check", "--format", "json", "a.vnet"]);
    expect(check.code).toBe(1);
    const [d] = JSON.parse(check.out).diagnostics;
    expect(d).toMatchObject({ code: "VN031", file: "a.vnet", start: { line: 1, column: 23 }, end: { line: 1, column: 58 } });
    expect(d.message).toBe(
      `import \`vnet/specs/lib/video_resnets.vnet\` not found in the vnet package (looked for \`specs/lib/video_resnets.vnet\` in \`${repo}\`)`,
    );
    expect(d.hint).toMatch(/^did you mean `vnet\/specs\/lib\/video_resnet\.vnet`\? \(the shipped library "vnet\/specs\/lib\/\.\.\." holds /);
    for (const lib of fs.readdirSync(path.join(repo, "specs/lib"))) expect(d.hint).toContain(lib);
  });

  it("a package path may not leave the package's specs folder (VN033), and nothing there is read", async () => {
    const dir = project({ "a.vnet": 'import { main } from "vnet/src/cli/main"\nimport { x } from "vnet/specs/../../etc/passwd"\n' });
    const check = await run(dir, ["check", "a.vnet"]);
    expect(check.out.match(/error VN033 {2}import `vnet\/[^`]+` leaves the vnet package's spec folder/g)).toHaveLength(2);
  });

  it("an installed copy of the package resolves vnet/... from its own folder", () => {
    ensureBuilt();
    const dir = project({ "net.vnet": R3D, "typo.vnet": 'import { basic } from "vnet/specs/lib/video_resnetz"\n' });
    const installed = path.join(dir, "node_modules/vnet");
    for (const part of ["package.json", "bin", "dist/src", "dist/grammar", "specs/lib"])
      fs.cpSync(path.join(repo, part), path.join(installed, part), { recursive: true });
    // Its dependencies, as npm would have installed them.
    fs.symlinkSync(path.join(repo, "node_modules"), path.join(installed, "node_modules"));
    const cli = (args: string[]) => {
      try {
        return { code: 0, out: execFileSync(process.execPath, [path.join(installed, "bin/vnet.js"), ...args], { cwd: dir, encoding: "utf8" }) };
      } catch (error) {
        const e = error as { status: number; stdout: string };
        return { code: e.status, out: e.stdout };
      }
    };
    expect(cli(["check", "net.vnet"])).toEqual({ code: 0, out: expect.stringMatching(/0 error\(s\), 0 warning\(s\)/) });
    const typo = cli(["check", "typo.vnet"]);
    expect(typo.code).toBe(1);
    expect(typo.out).toContain(`looked for \`specs/lib/video_resnetz.vnet\` in \`${fs.realpathSync(installed)}\``);
  });
});

describe("the package's own specs are confined to the package", () => {
  it("a relative import in a package spec that leaves the package is VN033 in that spec", () => {
    const pkg = path.resolve("/virtual/pkg");
    const user = path.resolve("/virtual/user");
    const files = new Map([
      [path.join(user, "main.vnet"), 'import { a } from "vnet/specs/lib/a.vnet"\n'],
      [path.join(pkg, "specs/lib/a.vnet"), 'import { b } from "../../../user/b.vnet"\nimport { c } from "./c.vnet"\n'],
      [path.join(pkg, "specs/lib/c.vnet"), "block c() {\n  input x\n  output x\n}\n"],
      [path.join(user, "b.vnet"), "block b() {\n  input x\n  output x\n}\n"],
    ]);
    const program = loadProgram([path.join(user, "main.vnet")], { root: user, packageRoot: pkg, host: { readFile: (f) => files.get(path.resolve(f)) } });
    expect(program.diagnostics.map((d) => [d.code, path.relative(path.resolve("/virtual"), d.file)])).toEqual([["VN033", "pkg/specs/lib/a.vnet"]]);
    expect([...program.modules.keys()].map((f) => path.relative(path.resolve("/virtual"), f)).sort()).toEqual([
      "pkg/specs/lib/a.vnet",
      "pkg/specs/lib/c.vnet",
      "user/main.vnet",
    ]);
  });
});
