/**
 * tfjs prints "Hi, looks like you are running TensorFlow.js in Node.js..." on the cpu backend
 * unless the backend was started as the CLI starts it (runtime/backend.ts); a detector's training
 * on ONNX Runtime once built its starting weights in tfjs without starting it. A fresh process,
 * since tfjs prints the banner once per process.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../helpers.js";

const repo = path.resolve(__dirname, "../..");

describe("vnet train of a detector on ONNX Runtime", () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it("prints no tfjs banner, and no backend line (tfjs only initialises the weights)", { timeout: 60_000 }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-banner-"));
    try {
      const args = ["bin/vnet.js", "train", "specs/tiny/tiny_slow_ava.vnet", "--data", "builtin:motion-boxes", "-o", path.join(dir, "run")];
      const r = spawnSync(process.execPath, [...args, "--epochs", "1", "--train-clips", "1", "--val-clips", "1", "--engine", "ort"], {
        cwd: repo,
        encoding: "utf8",
      });
      const text = r.stdout + r.stderr;
      expect(r.status, text).toBe(0);
      expect(text).toContain("engine: ONNX Runtime");
      expect(text).toContain("validation frame-mAP@0.5");
      expect(text).not.toContain("TensorFlow.js in Node.js");
      expect(text).not.toContain("backend: cpu");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
