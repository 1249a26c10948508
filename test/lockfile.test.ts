/**
 * package-lock.json must agree with package.json, or `npm ci` (the README's install and CI's)
 * refuses it: `npm ci --dry-run` in a scratch copy of the two files checks exactly that, without
 * touching node_modules or the network.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const repo = path.resolve(__dirname, "..");

function npmCiDryRun(packageJson: string, lock: string): { status: number | null; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-lock-"));
  fs.writeFileSync(path.join(dir, "package.json"), packageJson);
  fs.writeFileSync(path.join(dir, "package-lock.json"), lock);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const run = spawnSync(npm, ["ci", "--dry-run", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: dir, encoding: "utf8" });
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
}

describe("package-lock.json", () => {
  const packageJson = fs.readFileSync(path.join(repo, "package.json"), "utf8");
  const lock = fs.readFileSync(path.join(repo, "package-lock.json"), "utf8");

  it("is in sync with package.json: npm ci accepts it", () => {
    const run = npmCiDryRun(packageJson, lock);
    expect(run.status, run.output).toBe(0);
  });

  it("the check fails when they disagree (a dependency's version changed in package.json only)", () => {
    const changed = JSON.parse(packageJson) as { dependencies: Record<string, string> };
    changed.dependencies.pngjs = "6.0.0";
    const run = npmCiDryRun(JSON.stringify(changed, null, 2), lock);
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/in sync|does not satisfy/);
  });
});
