/** Training curves (src/vis/plot.ts, `vnet plot`, `vnet train --plot`). */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PNG } from "pngjs";
import { afterAll, describe, expect, it } from "vitest";
import { curvesSpec, curvesSvg, readRunCurves } from "../../src/vis/plot.js";
import { vnet } from "../helpers.js";

const repo = path.resolve(__dirname, "../..");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function fakeRun(name: string, epochs: number, lr: number, torn = false): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vnet-plot-")), name);
  dirs.push(path.dirname(dir));
  fs.mkdirSync(dir);
  const lines = Array.from({ length: epochs }, (_, i) =>
    JSON.stringify({
      epoch: i + 1,
      lr,
      trainLoss: 1.6 / (i + 1),
      trainAccuracy: 0.2 + 0.1 * i,
      valLoss: 1.7 / (i + 1),
      valAccuracy: 0.2 + 0.09 * i,
      seconds: 1,
      clipsPerSecond: 10,
    }),
  );
  fs.writeFileSync(path.join(dir, "metrics.jsonl"), `${lines.join("\n")}\n${torn ? '{"epoch": 9, "lr"' : ""}`);
  return dir;
}

describe("training curves", () => {
  it("read metrics.jsonl, skipping a torn last line, into loss, accuracy and learning-rate panels", async () => {
    const run = readRunCurves(fakeRun("a", 4, 0.01, true), "a");
    expect(run.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    expect(run.skipped).toBe(1);
    const spec = curvesSpec([run]) as { hconcat: { title: string }[]; data: { values: { panel: string; split: string }[] } };
    expect(spec.hconcat.map((p) => p.title)).toEqual(["loss", "accuracy", "learning rate"]);
    // Per epoch: train and validation loss and accuracy, and the learning rate.
    expect(spec.data.values.length).toBe(4 * 5);
    const svg = await curvesSvg([run, readRunCurves(fakeRun("b", 3, 0.001), "b")]);
    // One line per run, split and panel (5 per run); Vega draws each as a path with a long `d`.
    expect((svg.match(/<path[^>]*class="[^"]*"|<path d="M[^"]{20,}/g) ?? []).length).toBeGreaterThanOrEqual(10);
    expect(svg).toContain(">learning rate<");
  });

  it("vnet plot draws several runs into one chart; one run's chart goes into the run by default", async () => {
    const a = fakeRun("lr-0.01", 4, 0.01);
    const b = fakeRun("lr-0.001", 3, 0.001, true);
    const out = path.join(path.dirname(a), "curves.png");
    const r = await vnet(["plot", a, b, "-o", out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("lr-0.01: 4 epochs, lr-0.001: 3 epochs");
    expect(r.err).toContain("lr-0.001: skipped 1 unreadable line of metrics.jsonl");
    expect(PNG.sync.read(fs.readFileSync(out)).width).toBeGreaterThan(800);
    expect((await vnet(["plot", a])).code).toBe(0);
    expect(fs.existsSync(path.join(a, "curves.png"))).toBe(true);
    expect((await vnet(["plot", a, b])).code).toBe(2);
    expect((await vnet(["plot", a, "-o", path.join(a, "c.jpg")])).code).toBe(2);
    const missing = await vnet(["plot", path.dirname(a)]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/error VN109 .*holds no metrics\.jsonl/);
    for (const ext of ["svg", "html"]) expect((await vnet(["plot", a, b, "-o", path.join(path.dirname(a), `curves.${ext}`)])).code).toBe(0);
    expect(fs.readFileSync(path.join(path.dirname(a), "curves.html"), "utf8")).toMatch(/^<!doctype html>[\s\S]*<svg/);
  });

  it("vnet train --plot redraws <run>/curves.png after every epoch", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-train-plot-"));
    dirs.push(dir);
    const runDir = path.join(dir, "run");
    const r = await vnet([
      "train",
      path.join(repo, "specs/tiny/tiny_early_fusion_gap.vnet"),
      "--data",
      "builtin:motion",
      "--epochs",
      "2",
      "--train-clips",
      "2",
      "--val-clips",
      "1",
      "--batch",
      "5",
      "--backend",
      "wasm",
      "--plot",
      "-o",
      runDir,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`${path.join(runDir, "curves.png")}`);
    expect(PNG.sync.read(fs.readFileSync(path.join(runDir, "curves.png"))).height).toBeGreaterThan(200);
  }, 120_000);
});
