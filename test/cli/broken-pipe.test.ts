import { spawnSync } from "node:child_process";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../helpers.js";

const repo = path.resolve(__dirname, "../..");

describe("vnet writing into a pipe its reader has closed", () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it("ends quietly (exit 141, no stack trace) when the reader has gone before it prints", { timeout: 60_000 }, () => {
    // `true` exits without reading while vnet is still checking: its first write meets a closed pipe.
    const r = spawnSync("bash", ["-o", "pipefail", "-c", `"${process.execPath}" bin/vnet.js check specs/invalid | true`], {
      cwd: repo,
      encoding: "utf8",
    });
    expect(r.stderr).not.toContain("EPIPE");
    expect(r.stderr).not.toContain("at ");
    expect(r.status).toBe(141);
  });
});
