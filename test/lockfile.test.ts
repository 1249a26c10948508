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

function npmCiDryRun(packageJson: string, lock: string, localPackage?: string): { status: number | null; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-lock-"));
  if (localPackage !== undefined) {
    fs.mkdirSync(path.join(dir, localPackage));
    fs.writeFileSync(path.join(dir, localPackage, "package.json"), JSON.stringify({ name: localPackage, version: "1.0.0" }));
  }
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

  // The added dependency is a local folder, so npm decides without the registry (CI has none: a
  // changed registry version makes npm fetch its manifest, and offline that fails as ENOTCACHED,
  // which would not show that the check itself works).
  it("the check fails when they disagree (a dependency in package.json only)", () => {
    const changed = JSON.parse(packageJson) as { dependencies: Record<string, string> };
    changed.dependencies["vnet-lock-extra"] = "file:vnet-lock-extra";
    const run = npmCiDryRun(JSON.stringify(changed, null, 2), lock, "vnet-lock-extra");
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/in sync/);
    expect(run.output).toMatch(/Missing: vnet-lock-extra@1\.0\.0 from lock file/);
  });
});
