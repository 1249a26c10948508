/**
 * Temporal action localization end to end, from the command line: a motion classifier trained on
 * builtin:motion, its snippet features of builtin:motion-untrimmed (`vnet features`), the tiny
 * BMN trained on them (`vnet train`), then `vnet eval --baseline` (in ONNX Runtime, the figures
 * those of `--engine tfjs`) and `vnet localize`. The
 * localizer must find the actions far better than uniform sliding windows labelled by the same
 * snippet scores: AR@10 at least 60% and mAP@0.5 at least 50%, each well above the baseline's, at
 * CI size (16 training and 8 validation videos, 12 epochs). Measured: tiny BMN AR@10 88.7%,
 * mAP@0.5 89.0%; sliding windows AR@10 13.3%, mAP@0.5 36.4% (about 40 s of CPU).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { vnet, cpuScratch } from "./helpers.js";

const CLASSIFIER = path.resolve("specs/tiny/tiny_early_fusion_gap.vnet");
const LOCALIZER = path.resolve("specs/tiny/tiny_bmn.vnet");

const scratch = cpuScratch("vnet-localize-");

/** AR@10 and mAP@0.5 of one report block of `vnet eval`. */
function figures(block: string): { ar10: number; map50: number } {
  const ar10 = /AR@10 (\d+\.\d)%/.exec(block);
  const map50 = /@0\.50 (\d+\.\d)%/.exec(block);
  expect(ar10 && map50, block).toBeTruthy();
  return { ar10: Number(ar10![1]) / 100, map50: Number(map50![1]) / 100 };
}

describe("temporal action localization from the command line", () => {
  it("features -> train (tiny BMN) -> eval beats uniform sliding windows; localize prints segments", { timeout: 600_000 }, async () => {
    const classifier = path.join(scratch(), "classifier");
    const features = path.join(scratch(), "features");
    const localizer = path.join(scratch(), "bmn");
    const cache = ["--cache-dir", path.join(scratch(), "cache")];
    const trained = await vnet(["train", CLASSIFIER, "--data", "builtin:motion", "--epochs", "8", "-o", classifier]);
    expect(trained.code, trained.text).toBe(0);

    const extracted = await vnet([
      "features",
      CLASSIFIER,
      "--weights",
      classifier,
      "--data",
      "builtin:motion-untrimmed",
      "--train-videos",
      "16",
      "--val-videos",
      "8",
      "--scale",
      "32",
      "-o",
      features,
      ...cache,
    ]);
    expect(extracted.code, extracted.text).toBe(0);
    expect(extracted.text).toMatch(/wrote the features of 24 videos \(\d+ snippets of 8 frames every 4/);
    for (const file of ["features.json", "annotations.json", "val_0000.npy", "val_0000.scores.npy"])
      expect(fs.existsSync(path.join(features, file)), file).toBe(true);

    const localized = await vnet(["train", LOCALIZER, "--data", features, "--epochs", "12", "--batch", "4", "-o", localizer]);
    expect(localized.code, localized.text).toBe(0);
    // The default engine (auto) takes ONNX Runtime for the localizer and says why.
    expect(localized.text).toMatch(/engine: ONNX Runtime .*\(the network compiles to an ONNX training step/);
    expect(localized.text).toMatch(/validation AR@10 \d+\.\d%/);

    const evaluated = await vnet(["eval", LOCALIZER, "--weights", localizer, "--data", features, "--baseline"]);
    expect(evaluated.code, evaluated.text).toBe(0);
    const [ours, baseline] = evaluated.text.split("uniform sliding windows");
    const bmn = figures(ours!);
    const windows = figures(baseline!);
    console.log(`tiny BMN: AR@10 ${bmn.ar10}, mAP@0.5 ${bmn.map50}; sliding windows: AR@10 ${windows.ar10}, mAP@0.5 ${windows.map50}`);
    expect(bmn.ar10).toBeGreaterThanOrEqual(0.6);
    expect(bmn.map50).toBeGreaterThanOrEqual(0.5);
    expect(bmn.ar10).toBeGreaterThan(windows.ar10 + 0.25);
    expect(bmn.map50).toBeGreaterThan(windows.map50 + 0.1);

    // eval runs in ONNX Runtime (the weights exported in memory), with the figures tfjs gives.
    expect(evaluated.text).toContain("runtime: ONNX Runtime (cpu provider), the weights exported to ONNX in memory");
    const onTfjs = await vnet(["eval", LOCALIZER, "--weights", localizer, "--data", features, "--engine", "tfjs"]);
    expect(onTfjs.code, onTfjs.text).toBe(0);
    expect(onTfjs.text).not.toContain("runtime: ONNX Runtime");
    const report = (text: string) => text.split("\n").filter((line) => /^(proposals|detections|  average mAP)/.test(line));
    expect(report(onTfjs.text)).toHaveLength(3);
    expect(report(ours!)).toEqual(report(onTfjs.text));

    const shown = await vnet(["localize", LOCALIZER, "--weights", localizer, path.join(features, "val_0000.npy"), "--top", "2"]);
    expect(shown.code, shown.text).toBe(0);
    expect(shown.text).toMatch(/val_0000 \(\d+\.\d s\): \d+ segments/);
    expect(shown.text).toMatch(/^ +\d+\.\d\d - +\d+\.\d\d s {2}\S+ +score 0\.\d{3} \(proposal/m);

    // A video it cannot read ends vnet localize with an error that gives the probe's reason (not a
    // skipped warning, not only "not a video").
    const broken = path.join(scratch(), "broken.mp4");
    fs.writeFileSync(broken, "not a video at all\n".repeat(64));
    const empty = path.join(scratch(), "empty.mp4");
    fs.writeFileSync(empty, "");
    for (const [file, reason] of [
      [broken, /broken\.mp4 {2}error VN092 {2}ffmpeg cannot read it/],
      [empty, /empty\.mp4 {2}error VN091 {2}the file is empty \(0 bytes\)/],
    ] as const) {
      const unreadable = await vnet(["localize", LOCALIZER, "--weights", localizer, file, ...cache]);
      expect(unreadable.code, unreadable.text).toBe(1);
      expect(unreadable.text).toMatch(reason);
      expect(unreadable.text).not.toContain("(skipped)");
    }
  });
});
