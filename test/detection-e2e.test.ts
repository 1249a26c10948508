/**
 * Spatio-temporal action detection end to end, from the command line, at CI size: `vnet data
 * synth --variant boxes` writes builtin:motion-boxes in AVA's formats, the tiny detector
 * (specs/tiny/tiny_slow_ava.vnet) trains on it for two steps (`vnet train`), `vnet eval` reports
 * frame-mAP@0.5 and per-class AP of the proposals (ONNX Runtime by default, tfjs alike), and `vnet
 * detect` scores one video's boxes and writes the overlay video, the same scores on either runtime
 * and from the exported file (`vnet predict --boxes` too). (How well it learns is not asserted here:
 * two steps; test/detection-baseline.test.ts does.)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { vnet, cpuScratch } from "./helpers.js";

const DETECTOR = path.resolve("specs/tiny/tiny_slow_ava.vnet");

const scratch = cpuScratch("vnet-detect-");

describe("vnet detection end to end", () => {
  it("synth --variant boxes -> train -> eval -> detect --overlay", async () => {
    const data = path.join(scratch(), "ava");
    const synth = await vnet([
      "data",
      "synth",
      "--variant",
      "boxes",
      "--out",
      data,
      "--classes",
      "4",
      "--frames",
      "4",
      "--size",
      "32",
      "--train-per-class",
      "2",
      "--val-per-class",
      "1",
    ]);
    expect(synth.code, synth.text).toBe(0);
    expect(synth.text).toContain("wrote 12 keyframe clips (4 actions: right, left, up, down");
    for (const file of ["label_map.pbtxt", "train.csv", "val.csv", "train_proposals.csv", "val_proposals.csv", "val_excluded_timestamps.csv"])
      expect(fs.existsSync(path.join(data, file)), file).toBe(true);

    const run = path.join(scratch(), "run");
    const train = await vnet(["train", DETECTOR, "--data", data, "-o", run, "--epochs", "2", "--batch", "8"]);
    expect(train.code, train.text).toBe(0);
    expect(train.text).toContain("8 training keyframes");
    expect(train.text).toMatch(/validation frame-mAP@0\.5 \d+\.\d% after 2 epochs/);
    const metrics = fs
      .readFileSync(path.join(run, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(metrics).toHaveLength(2);
    expect(Number.isFinite(metrics[1].trainLoss)).toBe(true);
    expect(metrics[1].valMetrics["frame-mAP"]).toBeGreaterThanOrEqual(0);

    const evaluated = await vnet(["eval", DETECTOR, "--weights", run, "--data", data]);
    expect(evaluated.code, evaluated.text).toBe(0);
    expect(evaluated.text).toContain("runtime: ONNX Runtime tiny_slow_ava");
    expect(evaluated.text).toMatch(/frame-mAP@0\.5: \d+\.\d% over 4 keyframes/);
    expect(evaluated.text).toMatch(/right +AP +\d+\.\d%/);
    // The same report from the tfjs model: both runtimes score the boxes alike.
    const onTfjs = await vnet(["eval", DETECTOR, "--weights", run, "--data", data, "--engine", "tfjs"]);
    expect(onTfjs.code, onTfjs.text).toBe(0);
    expect(onTfjs.text).toContain("runtime: tfjs tiny_slow_ava");
    const report = (text: string) => text.slice(text.indexOf("frame-mAP@0.5"));
    expect(report(onTfjs.text)).toBe(report(evaluated.text));

    const video = path.join(data, "videos", "motion_boxes_val_0000.mp4");
    const overlay = path.join(scratch(), "overlay.mp4");
    const detected = await vnet([
      "detect",
      DETECTOR,
      video,
      "--weights",
      run,
      "--boxes",
      path.join(data, "val_proposals.csv"),
      "--overlay",
      overlay,
      "--top",
      "2",
    ]);
    expect(detected.code, detected.text).toBe(0);
    expect(detected.text).toContain("runtime: ONNX Runtime tiny_slow_ava");
    expect(detected.text).toMatch(/keyframe 0\.08 s \(\d+ box(es)?\):\n  box 0 \[[\d., ]+\]  (right|left|up|down) 0\.\d{3}  (right|left|up|down) 0\.\d{3}/);
    expect(fs.statSync(overlay).size).toBeGreaterThan(1000);
    // Every way of running the detector prints the same boxes and scores: the spec on tfjs, the exported file (detect and predict).
    const boxes = (text: string) => text.slice(text.indexOf("keyframe "), text.indexOf("\nwrote") < 0 ? undefined : text.indexOf("\nwrote"));
    const perBox = ["--boxes", path.join(data, "val_proposals.csv"), "--top", "2"];
    const tfjsDetected = await vnet(["detect", DETECTOR, video, "--weights", run, ...perBox, "--runtime", "tfjs"]);
    expect(tfjsDetected.code, tfjsDetected.text).toBe(0);
    expect(tfjsDetected.text).toContain("runtime: tfjs tiny_slow_ava");
    expect(boxes(tfjsDetected.text)).toBe(boxes(detected.text));
    const onnx = path.join(scratch(), "detector.onnx");
    expect((await vnet(["export", DETECTOR, "--weights", run, "-o", onnx])).code).toBe(0);
    const fromFile = await vnet(["detect", onnx, video, ...perBox]);
    expect(fromFile.code, fromFile.text).toBe(0);
    expect(boxes(fromFile.text)).toBe(boxes(detected.text));
    const predicted = await vnet(["predict", onnx, video, ...perBox]);
    expect(predicted.code, predicted.text).toBe(0);
    expect(boxes(predicted.text)).toBe(boxes(detected.text));
    const withoutBoxes = await vnet(["predict", onnx, video]);
    expect(withoutBoxes.code).toBe(1);
    expect(withoutBoxes.text).toContain("is a detector: it scores person boxes at keyframes; give them with --boxes <csv>");

    const missing = await vnet(["detect", DETECTOR, video, "--weights", run]);
    expect(missing.code).not.toBe(0);
    expect(missing.text).toContain("--boxes");
    const noWeights = await vnet(["detect", DETECTOR, video, "--boxes", path.join(data, "val_proposals.csv")]);
    expect(noWeights.code).not.toBe(0);
    expect(noWeights.text).toContain("needs --weights");
  }, 120_000);
});
