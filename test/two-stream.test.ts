import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { motionDataset } from "../src/data/motion.js";
import { lowerNetwork } from "../src/ir/pipeline.js";
import type { EngineChoice } from "../src/runtime/engines/index.js";
import { trainingConfig, trainNetwork } from "../src/runtime/train.js";
import { checkText, cpuScratch } from "./helpers.js";

const towers = (train: string) => `network ts {
  classes = 3
  input video = clip(frames = 3, size = 16)
  stream rgb = video -> frame()
  stream flow = video -> optical_flow(pairs = 2)
  spatial = rgb -> conv2d(4, kernel = 3, stride = 2) as s_conv -> relu -> global_avg_pool -> dense(classes) as s_fc
  temporal = flow -> conv2d(4, kernel = 3, stride = 2) as t_conv -> relu -> global_avg_pool -> dense(classes) as t_fc
  output [spatial, temporal] -> score_fusion(average = "softmax", train = "${train}")
}`;

const SPATIAL_ONLY = `network sp {
  classes = 3
  input video = clip(frames = 3, size = 16)
  stream rgb = video -> frame()
  output rgb -> conv2d(4, kernel = 3, stride = 2) as s_conv -> relu -> global_avg_pool -> dense(classes) as s_fc
}`;

const scratch = cpuScratch("vnet-two-stream-");

/** Trains one SGD step (no momentum) on six clips and returns the trained weights by name, and the loss. */
async function oneStep(spec: string, run: string, engine: EngineChoice): Promise<{ weights: Map<string, Float32Array>; loss: number }> {
  const network = checkText(spec).networks[0]!;
  const data = motionDataset({ classes: 3, frames: 3, size: 16, trainPerClass: 2, valPerClass: 1, seed: 2 });
  const config = trainingConfig(network, { optimizer: "sgd", lr: 0.5, momentum: 0, batch: 6, epochs: 1 });
  const result = await trainNetwork(lowerNetwork(network), data, { config, runDir: path.join(scratch(), `${run}-${engine}`), seed: 4, engine });
  const weights = new Map(await Promise.all(result.model.weights.map(async (w) => [w.originalName, (await w.read().data()) as Float32Array] as const)));
  result.model.dispose();
  return { weights, loss: result.history[0]!.trainLoss };
}

describe("two-stream training", () => {
  for (const engine of ["tfjs", "ort"] as const)
    it(`trains each stream on its own loss with train = "separate": the spatial tower moves exactly as when trained alone (${engine} engine)`, async () => {
      const separate = await oneStep(towers("separate"), "separate", engine);
      const alone = await oneStep(SPATIAL_ONLY, "alone", engine);
      const joint = await oneStep(towers("joint"), "joint", engine);
      const spatial = [...alone.weights.keys()];
      expect(spatial.length).toBe(4);
      for (const name of spatial) {
        const a = alone.weights.get(name)!;
        const s = separate.weights.get(name)!;
        for (let i = 0; i < a.length; i++) expect(s[i]!, name).toBeCloseTo(a[i]!, 5);
      }
      // Joint training goes through the fused probabilities: other gradients.
      expect(spatial.some((name) => joint.weights.get(name)!.some((v, i) => Math.abs(v - alone.weights.get(name)![i]!) > 1e-4))).toBe(true);
      // Separate: the sum of two cross-entropies near ln 3 each; joint: one, of the fused softmax average.
      expect(separate.loss).toBeGreaterThan(1.6);
      expect(joint.loss).toBeLessThan(1.4);
      expect(joint.loss).toBeGreaterThan(0.8);
    });
});
