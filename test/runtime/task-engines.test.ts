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
import type { EngineStart } from "../../src/runtime/engines/engine.js";
import type { EngineChoice } from "../../src/runtime/engines/index.js";
import { OrtEngine, STEP_SESSIONS } from "../../src/runtime/engines/ort.js";
import { detectorFeeds } from "../../src/runtime/detection/detect.js";
import { detectionTrainer } from "../../src/runtime/detection/train.js";
import { localizationTrainer, localizerGeometry } from "../../src/runtime/localization/train.js";
import { localizationReport, localizeVideos } from "../../src/runtime/localization/localize.js";
import { BMN_POST_PROCESSING } from "../../src/runtime/localization/proposals.js";
import { tfjsInference } from "../../src/runtime/engines/tfjs.js";
import { checkpointOnnx, onnxInference } from "../../src/runtime/onnx-eval.js";
import { readWeights } from "../../src/weights/checkpoint.js";
import { modelWithWeights } from "../../src/weights/model.js";
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

describe("validation of a localizer or a detector on ONNX Runtime", () => {
  for (const c of cases) {
    it(`${c.name}: the evaluation session's loss and figures are those of a tfjs model with the same weights`, { timeout: 60_000 }, async () => {
      const network = c.network();
      const graph = lowerNetwork(network);
      const config = c.config(network, 1);
      const options = (engine: EngineChoice) => ({ config, runDir: path.join(scratch, `${network.name}-val-${engine}`), seed: 5, engine });
      const trainerOf = (engine: EngineChoice, start: EngineStart) =>
        graph.task === "localization"
          ? localizationTrainer(graph, featureSplits(), start, options(engine))
          : detectionTrainer(graph, detectionData(), start, options(engine));
      const ort = await trainerOf("ort", { kind: "fresh" });
      const tfjs = await trainerOf("tfjs", { kind: "fresh" });
      try {
        expect(ort.engine.description).toMatch(/^ONNX Runtime/);
        // One step moves the weights (and a detector's batch-norm statistics) off their start.
        for await (const step of ort.epoch(0).batches) {
          await step.run(config.lr, 1);
          break;
        }
        const contents = await ort.engine.checkpoint({ epoch: 1, seed: 5, network: graph.name, optimizer: config.optimizer });
        const same = await trainerOf("tfjs", { kind: "checkpoint", contents });
        try {
          const [viaOrt, viaTfjs, fresh] = [await ort.validate(), await same.validate(), await tfjs.validate()];
          expect(Math.abs(viaOrt.loss - viaTfjs.loss), `${viaOrt.loss} vs ${viaTfjs.loss}`).toBeLessThan(1e-4);
          expect(Math.abs(viaOrt.loss - fresh.loss), "the step changed the validation loss").toBeGreaterThan(1e-6);
          expect(Object.keys(viaOrt.metrics!).length).toBeGreaterThan(0);
          for (const [name, value] of Object.entries(viaTfjs.metrics!)) expect(Math.abs(viaOrt.metrics![name]! - value), name).toBeLessThan(1e-4);
        } finally {
          await same.engine.dispose();
        }
      } finally {
        await ort.engine.dispose();
        await tfjs.engine.dispose();
      }
    });
  }

  it("a detector's step sessions stay bounded whatever batch sizes and box counts its batches have", { timeout: 60_000 }, async () => {
    const network = tinyDetector();
    const graph = lowerNetwork(network);
    const keyframes = detectionData().train.filter((k) => k.boxes.length > 0);
    const config = trainingConfig(network, { optimizer: "sgd", lr: 0.01, batch: 1, epochs: 1 });
    const setup = { graph, config, seed: 5, start: { kind: "fresh" } as const, metadata: {} };
    const engine = await OrtEngine.create(setup, 1, {}, keyframes[0]!.boxes.length);
    try {
      // Batches of 1..6 keyframes: six step shapes (batch size x box count), more than the cache holds.
      expect(keyframes.length).toBeGreaterThan(STEP_SESSIONS + 1);
      for (let n = 1; n <= STEP_SESSIONS + 2; n++) {
        const part = keyframes.slice(0, n);
        const rows = part.flatMap((k) => k.boxes);
        const labels = new Float32Array(rows.length * graph.classes!);
        rows.forEach((b, i) => b.actions.forEach((a) => (labels[i * graph.classes! + a] = 1)));
        const batch = { inputs: detectorFeeds(graph, part, (k) => k.boxes), targets: { labels: { data: labels, shape: [rows.length, graph.classes!] } } };
        expect(Number.isFinite(await engine.minimizeTask(batch, config.lr, n))).toBe(true);
        expect(engine.stepSessions).toBe(Math.min(n, STEP_SESSIONS));
      }
      // An evicted shape is built again, the cache still bounded.
      expect(
        Number.isFinite(
          await engine.minimizeTask(
            {
              inputs: detectorFeeds(graph, keyframes.slice(0, 1), (k) => k.boxes),
              targets: { labels: { data: new Float32Array(keyframes[0]!.boxes.length * graph.classes!), shape: [keyframes[0]!.boxes.length, graph.classes!] } },
            },
            config.lr,
            0,
          ),
        ),
      ).toBe(true);
      expect(engine.stepSessions).toBe(STEP_SESSIONS);
    } finally {
      await engine.dispose();
    }
  });
});

describe("a localizer's evaluation on ONNX Runtime", () => {
  it("the tiny BMN's weights exported in memory give tfjs's AR@AN, AUC and mAP", { timeout: 60_000 }, async () => {
    const network = checkFiles([path.join(TINY, "tiny_bmn.vnet")]).networks[0]!;
    const graph = lowerNetwork(network);
    const runDir = path.join(scratch, "bmn-eval");
    const config = trainingConfig(network, { optimizer: "adam", lr: 0.002, batch: 3, epochs: 1 });
    (await trainNetwork(graph, featureSplits(), { config, runDir, seed: 3, engine: "ort" })).model.dispose();
    const store = await readWeights(runDir);
    const file = path.join(TINY, "tiny_bmn.vnet");
    const sources = new Map([[file, fs.readFileSync(file, "utf8")]]);
    const loaded = await checkpointOnnx(graph, store, { sources, flows: [], provider: "cpu" });
    if (!("model" in loaded)) throw new Error(loaded.diagnostics.map((d) => d.message).join("; "));
    const model = modelWithWeights(graph, store).model!;
    const videos = [...featureSplits().train, ...featureSplits().val];
    const geometry = localizerGeometry(graph);
    try {
      const [onOrt, onTfjs] = [
        localizationReport(videos, await localizeVideos(onnxInference(loaded), videos, geometry, ["move"], BMN_POST_PROCESSING, 3)),
        localizationReport(videos, await localizeVideos(tfjsInference(model), videos, geometry, ["move"], BMN_POST_PROCESSING, 3)),
      ];
      expect(onTfjs.recall.auc).toBeGreaterThan(0);
      expect(Math.abs(onOrt.recall.auc - onTfjs.recall.auc), "AUC").toBeLessThan(1e-4);
      onTfjs.recall.averageRecall.forEach((r, i) => expect(Math.abs(onOrt.recall.averageRecall[i]! - r), `AR@${i + 1}`).toBeLessThan(1e-4));
      expect(Math.abs(onOrt.detection.averageMap - onTfjs.detection.averageMap), "average mAP").toBeLessThan(1e-4);
    } finally {
      model.dispose();
      await loaded.model.session.release();
    }
  });
});
