/**
 * Issue 17's claim, at CI size: the tiny detector (specs/tiny/tiny_slow_ava.vnet), trained on
 * builtin:motion-boxes, beats its frame-level baseline (specs/tiny/tiny_slow_ava_frame.vnet: the
 * same backbone, head and training, but every box of a keyframe gets its clip's globally pooled
 * feature) in validation frame-mAP@0.5, both trained the same way by `vnet train` (the specs'
 * training section, the same data and seed). In builtin:motion-boxes the objects of one clip move
 * differently, so only the box features can tell them apart; the baseline knows at best which
 * motions a clip holds. bench/detection-baseline.ts runs the longer schedule over several seeds.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vnet } from "./helpers.js";

const SPECS = { detector: path.resolve("specs/tiny/tiny_slow_ava.vnet"), baseline: path.resolve("specs/tiny/tiny_slow_ava_frame.vnet") };
/**
 * 96 training keyframes x 4 epochs at the specs' batch 4 (96 Adam steps; the specs' own 8 epochs
 * reach 94-97% against 30-35%, bench/results/detection-baseline.json); 32 validation keyframes,
 * about 75 boxes. On the ONNX Runtime engine (a few seconds per run; tfjs learns the same within
 * a point, ~15x slower: 45.6% against 44.9% after 4 epochs of 48 keyframes).
 */
const SCHEDULE = ["--data", "builtin:motion-boxes", "--train-clips", "96", "--val-clips", "32", "--epochs", "4", "--seed", "0", "--engine", "ort"];
/** Points of frame-mAP@0.5 the detector must win by (measured at this schedule: 67.8% against 30.0%). */
const MARGIN = 20;

let scratch: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  tf.env().set("PROD", true);
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-detection-baseline-"));
});

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe("the tiny detector against its frame-level baseline", () => {
  it(`beats it by at least ${MARGIN} points of frame-mAP@0.5 on builtin:motion-boxes, both trained the same way`, async () => {
    const maps: Record<string, number> = {};
    for (const [model, spec] of Object.entries(SPECS)) {
      const trained = await vnet(["train", spec, ...SCHEDULE, "-o", path.join(scratch, model)]);
      expect(trained.code, trained.text).toBe(0);
      expect(trained.text).toContain("adam lr 0.004 (constant), weight decay 0, batch 4, 4 epochs");
      const map = /validation frame-mAP@0\.5 (\d+\.\d)% after 4 epochs/.exec(trained.text);
      expect(map, trained.text).not.toBeNull();
      maps[model] = Number(map![1]);
    }
    expect(maps.detector! - maps.baseline!, JSON.stringify(maps)).toBeGreaterThanOrEqual(MARGIN);
    expect(maps.detector, JSON.stringify(maps)).toBeGreaterThanOrEqual(55);
  }, 600_000);
});
