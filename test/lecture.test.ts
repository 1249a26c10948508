/**
 * The lecture's point, as a test: on builtin:motion, whose classes live only in the motion, a
 * network that sees the frames together (early fusion into the first conv) learns the classes,
 * while a network that sees one frame at a time (single-frame, scores averaged over frames)
 * stays near chance. Trained on ONNX Runtime (the CLI's default engine); the tfjs engine's training
 * is tested in train.test.ts and runtime/engines.test.ts, and bench/motion-lecture.ts --engine tfjs
 * runs this comparison on it (minutes on 2 cores, too long for the suite).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtinClipShape } from "../src/data/dataset.js";
import { motionDataset } from "../src/data/motion.js";
import { lowerNetwork } from "../src/ir/pipeline.js";
import { selectBackend } from "../src/runtime/backend.js";
import type { EngineChoice } from "../src/runtime/engines/index.js";
import { trainingConfig, trainNetwork } from "../src/runtime/train.js";
import { checkFiles } from "../src/semantics/check.js";

const dirs: string[] = [];

beforeAll(async () => {
  await selectBackend({ force: "wasm" });
});

afterAll(async () => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  await tf.setBackend("cpu");
});

/** Best validation accuracy of a tiny spec after 8 epochs on 150 clips per class of builtin:motion. */
async function lecture(name: string, engine: EngineChoice): Promise<{ best: number; chance: number }> {
  const network = checkFiles([path.resolve("specs/tiny", `${name}.vnet`)]).networks[0]!;
  const graph = lowerNetwork(network);
  const { frames, height: size } = builtinClipShape(graph.protocol!);
  const data = motionDataset({ classes: network.classes!, frames, size, trainPerClass: 150, valPerClass: 20, seed: 1 });
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "vnet-lecture-"));
  dirs.push(runDir);
  const { model, history } = await trainNetwork(graph, data, {
    config: trainingConfig(network, { optimizer: "adam", lr: 0.004, batch: 16, epochs: 8 }),
    runDir,
    seed: 1,
    engine,
  });
  model.dispose();
  return { best: Math.max(...history.map((h) => h.valAccuracy)), chance: 1 / data.classNames.length };
}

describe("the lecture's point on builtin:motion", () => {
  it("early fusion reaches 90% validation accuracy; single-frame stays within 15 points of chance (ort engine)", async () => {
    const fusion = await lecture("tiny_early_fusion_gap", "ort");
    const single = await lecture("tiny_single_frame", "ort");
    expect(fusion.best).toBeGreaterThanOrEqual(0.9);
    expect(single.best).toBeLessThanOrEqual(single.chance + 0.15);
  }, 900_000);
});
