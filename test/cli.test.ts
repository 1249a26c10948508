import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { vnet } from "./helpers.js";

function tempSpec(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-cli-"));
  fs.writeFileSync(path.join(dir, "vnet.json"), "{}");
  const file = path.join(dir, "spec.vnet");
  fs.writeFileSync(file, text);
  return file;
}

const broken = `network n {
  classes = 3
  input video = clip(frames = 4, size = 16)
  output video -> conv3d(4, kernal = 3) -> global_avg_pool -> dense(classes)
}
`;

describe("vnet check", () => {
  it("prints file:line:col, the code, a code frame with a caret, and the hint; exits 1", async () => {
    const file = tempSpec(broken);
    const r = await vnet(["check", file]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/spec\.vnet:4:29 {2}error VN012 {2}`conv3d` has no parameter `kernal`/);
    expect(r.out).toContain("  4 |   output video -> conv3d(4, kernal = 3)");
    expect(r.out).toMatch(/\| {29}\^{6}\n/);
    expect(r.out).toContain("hint: did you mean `kernel`?");
  });

  it("emits JSON with 1-based positions", async () => {
    const file = tempSpec(broken);
    const r = await vnet(["check", "--format", "json", file]);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out);
    expect(json.diagnostics[0]).toMatchObject({ code: "VN012", severity: "error", start: { line: 4, column: 29 }, end: { line: 4, column: 35 } });
  });

  it("exits 0 on a clean spec and 2 on usage errors", async () => {
    const file = tempSpec(broken.replace("kernal", "kernel"));
    expect((await vnet(["check", file])).code).toBe(0);
    expect((await vnet(["check"])).code).toBe(2);
    expect((await vnet(["check", "/no/such/dir"])).code).toBe(2);
    expect((await vnet(["frobnicate"])).code).toBe(2);
    expect((await vnet(["check", "--format", "xml", file])).code).toBe(2);
  });

  it("checks the whole spec library clean; specs/invalid cases pass by meeting their expectations", async () => {
    const r = await vnet(["check", path.resolve(__dirname, "../specs")]);
    expect(r.out).toMatch(/0 error\(s\), 0 warning\(s\)/);
    expect(r.code).toBe(0);
  });

  it("treats a `// expect:` header as an assertion on the codes", async () => {
    const met = tempSpec(`// expect: VN012\n${broken}`);
    expect((await vnet(["check", met])).code).toBe(0);
    const unmet = tempSpec(`// expect: VN020\n${broken}`);
    const r = await vnet(["check", unmet]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("expected diagnostics [VN020] but got [VN012]");
  });
});

describe("vnet summary", () => {
  it("prints a per-layer table with totals", async () => {
    const r = await vnet(["summary", path.resolve(__dirname, "../specs/r3d_18.vnet")]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("trainable parameters: 33,371,472");
    expect(r.out).toMatch(/layer1\.0\.conv1\.conv3d\s+conv3d\s+\[N, 16, 56, 56, 64\]\s+110,592/);
  });

  it("emits JSON", async () => {
    const r = await vnet(["summary", "--format", "json", path.resolve(__dirname, "../specs/r3d_18.vnet")]);
    const json = JSON.parse(r.out);
    expect(json.totals.trainable).toBe(33371472);
    expect(json.layers.find((l: { name: string }) => l.name === "fc")).toMatchObject({ op: "dense", shape: [400], params: 205200 });
  });

  it("refuses a spec with errors and prints them", async () => {
    const r = await vnet(["summary", tempSpec(broken)]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("VN012");
  });
});
