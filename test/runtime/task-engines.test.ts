/**
 * Localizers and detectors on both engines: the tiny BMN (synthetic feature videos) and the tiny
 * detector (builtin:motion-boxes, its dropout removed: tfjs draws its own masks) train on ONNX
 * Runtime as on tfjs (the same losses and weights after a few steps from the same start), resume
 * exactly on ONNX Runtime, and resume across engines from the engine-neutral checkpoint.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FeatureSplits, FeatureVideo } from "../../src/data/features.js";
import { motionBoxesDataset } from "../../src/data/motion-boxes.js";
import { seededRandom } from "../../src/data/motion.js";
import { lowerNetwork } from "../../src/ir/pipeline.js";
import type { EngineChoice } from "../../src/runtime/engines/index.js";
import { trainingConfig, trainNetwork, type TrainingConfig } from "../../src/runtime/train.js";
import { checkFiles } from "../../src/semantics/check.js";
import type { CheckedNetwork } from "../../src/semantics/network.js";
import { globalRelative, weightValues } from "../helpers.js";

const TINY = path.resolve(__dirname, "../../specs/tiny");

let scratch: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  tf.env().set("PROD", true);
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-task-engines-"));
});

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Feature videos of T = 32 positions x 64 features with one or two actions each (in seconds of a 32 s video). */
function featureSplits(): FeatureSplits {
  const random = seededRandom(11);
  const video = (id: string): FeatureVideo => {
    const start = Math.floor(random() * 12);
    const segments = [{ start, end: start + 4 + Math.floor(random() * 10), label: "move" }];
    if (random() < 0.5) segments.push({ start: 26, end: 30, label: "move" });
    return {
      id,
      features: Float32Array.from(
        { length: 32 * 64 },
        (_, i) => random() + (segments.some((s) => Math.floor(i / 64) >= s.start && Math.floor(i / 64) < s.end) ? 0.5 : 0),
      ),
      scores: new Float32Array(32),
      positions: 32,
      duration: 32,
      span: { start: 0, end: 32 },
      segments,
    };
  };
  const extractor = { spec: "tiny", network: "tiny", weights: "none", layer: "gap", features: 64, length: 1, step: 1, scale: 32 };
  return {
    name: "synthetic features",
    dir: scratch,
    manifest: { version: 1, extractor, videos: {} } as unknown as FeatureSplits["manifest"],
    annotations: {} as FeatureSplits["annotations"],
    classNames: ["move"],
    train: ["a", "b", "c", "d", "e", "f"].map(video),
    val: ["v", "w"].map(video),
    test: [],
    issues: [],
  };
}

/** The tiny detector without its dropout (so that both engines compute the same function). */
function tinyDetector(): CheckedNetwork {
  const file = path.join(scratch, "tiny_slow_ava_no_dropout.vnet");
  fs.writeFileSync(file, fs.readFileSync(path.join(TINY, "tiny_slow_ava.vnet"), "utf8").replace("-> dropout(0.3)", ""));
  return checkFiles([file]).networks[0]!;
}

const detectionData = () => motionBoxesDataset({ frames: 4, size: 32, trainClips: 6, valClips: 2, seed: 4 });

const cases = [
  {
    name: "the tiny BMN (a localizer)",
    network: () => checkFiles([path.join(TINY, "tiny_bmn.vnet")]).networks[0]!,
    data: featureSplits,
    config: (network: CheckedNetwork, epochs: number) => trainingConfig(network, { optimizer: "adam", lr: 0.002, batch: 3, epochs, weightDecay: 1e-4 }),
  },
  {
    name: "the tiny detector",
    network: tinyDetector,
    data: detectionData,
    config: (network: CheckedNetwork, epochs: number) =>
      trainingConfig(network, { optimizer: "sgd", lr: 0.05, momentum: 0.9, batch: 2, epochs, weightDecay: 1e-4 }),
  },
];

describe("localizers and detectors on the ONNX Runtime engine", () => {
  for (const c of cases) {
    const train = (network: CheckedNetwork, engine: EngineChoice, run: string, config: TrainingConfig, resume = false) =>
      trainNetwork(lowerNetwork(network), c.data(), { config, runDir: path.join(scratch, run), seed: 3, engine, resume });

    it(`${c.name}: trains as on tfjs, resumes exactly, and resumes across engines`, { timeout: 120_000 }, async () => {
      const network = c.network();
      const slug = network.name;
      const ort = await train(network, "ort", `${slug}-ort`, c.config(network, 2));
      const tfjs = await train(network, "tfjs", `${slug}-tfjs`, c.config(network, 2));
      expect(ort.engine).toMatch(/^ONNX Runtime/);
      expect(tfjs.engine).toMatch(/^tfjs/);
      ort.history.forEach((h, i) => {
        expect(Math.abs(h.trainLoss - tfjs.history[i]!.trainLoss), `epoch ${i + 1} training loss`).toBeLessThan(1e-4 * Math.max(1, tfjs.history[i]!.trainLoss));
        expect(Math.abs(h.valLoss - tfjs.history[i]!.valLoss), `epoch ${i + 1} validation loss`).toBeLessThan(1e-4 * Math.max(1, tfjs.history[i]!.valLoss));
      });
      const ortWeights = await weightValues(ort.model);
      const tfjsWeights = await weightValues(tfjs.model);
      expect(globalRelative(ortWeights, tfjsWeights), "weights after 2 epochs").toBeLessThan(1e-4);

      // 1 epoch + --resume 1 epoch on ONNX Runtime = 2 epochs, bit for bit.
      (await train(network, "ort", `${slug}-split`, c.config(network, 1))).model.dispose();
      const resumed = await weightValues((await train(network, "ort", `${slug}-split`, c.config(network, 2), true)).model);
      for (const [name, values] of ortWeights) expect(resumed.get(name), name).toEqual(values);

      // A tfjs epoch continued on ONNX Runtime follows the straight tfjs run.
      (await train(network, "tfjs", `${slug}-cross`, c.config(network, 1))).model.dispose();
      const crossed = await weightValues((await train(network, "ort", `${slug}-cross`, c.config(network, 2), true)).model);
      expect(globalRelative(crossed, tfjsWeights), "tfjs then ort").toBeLessThan(1e-4);
    });
  }
});
