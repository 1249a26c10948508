/** Run directories (src/runtime/run.ts): the trainer's lock and the metrics file. */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { injectFaults, InjectedCrash } from "../../src/runtime/files.js";
import { appendMetrics, LOCK_FILE, lockRun, METRICS_FILE, truncateMetrics } from "../../src/runtime/run.js";

const repo = path.resolve(__dirname, "../..");

function runDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "vnet-run-"));
}

afterEach(() => injectFaults([]));

describe("the run lock", () => {
  it("a second holder in another live process is refused with VN114; the same process may take it again", async () => {
    const dir = runDir();
    // Another process takes the lock (through the compiled module) and waits.
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { lockRun } = await import(${JSON.stringify(path.join(repo, "dist/src/runtime/run.js"))}); lockRun(${JSON.stringify(dir)}); console.log("locked"); setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
    try {
      expect(() => lockRun(dir)).toThrow(
        expect.objectContaining({ code: "VN114", message: expect.stringMatching(new RegExp(`in use by another vnet train \\(pid ${child.pid}`)) }),
      );
    } finally {
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    // Its owner is gone: the lock is stale and taken over.
    const lock = lockRun(dir);
    expect(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), "utf8")).pid).toBe(process.pid);
    const again = lockRun(dir);
    again.release();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(true);
    lock.release();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it("takes over a lock whose process has exited, and one that is not a lock at all", () => {
    const dir = runDir();
    const exited = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: Number(exited.stdout.trim()), host: os.hostname(), since: "yesterday" }));
    lockRun(dir).release();
    fs.writeFileSync(path.join(dir, LOCK_FILE), "garbage");
    lockRun(dir).release();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("an impossible run directory is VN111 (a file in the way), before anything is written", () => {
    const dir = runDir();
    fs.writeFileSync(path.join(dir, "file"), "x");
    expect(() => lockRun(path.join(dir, "file", "run"))).toThrow(expect.objectContaining({ code: "VN111" }));
  });
});

describe("metrics.jsonl", () => {
  it("resuming cuts it back to the checkpoint's epoch, dropping a torn last line", () => {
    const dir = runDir();
    for (const epoch of [1, 2, 3]) appendMetrics(dir, { epoch });
    fs.appendFileSync(path.join(dir, METRICS_FILE), '{"epoch": 4, "trainLo');
    truncateMetrics(dir, 2);
    expect(fs.readFileSync(path.join(dir, METRICS_FILE), "utf8")).toBe('{"epoch":1}\n{"epoch":2}\n');
  });

  it("a crash while cutting it back leaves the file whole (it is replaced, never rewritten in place)", () => {
    const dir = runDir();
    for (const epoch of [1, 2, 3]) appendMetrics(dir, { epoch });
    const before = fs.readFileSync(path.join(dir, METRICS_FILE), "utf8");
    for (const point of ["write:1", "rename:1"]) {
      injectFaults(`${point}:crash`);
      expect(() => truncateMetrics(dir, 1)).toThrow(InjectedCrash);
      injectFaults([]);
      expect(fs.readFileSync(path.join(dir, METRICS_FILE), "utf8")).toBe(before);
    }
  });
});
