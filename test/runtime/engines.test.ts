/**
 * One model, two engines: the ONNX Runtime engine trains as the tfjs engine does (same losses and
 * weights from the same start), resumes exactly, resumes from the tfjs engine's checkpoints and
 * the tfjs engine from its (the state crosses engines bit for bit), keeps frozen weights fixed,
 * and draws its dropout masks from the run's seed, so a resumed run with dropout is exact too.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { motionDataset } from "../../src/data/motion.js";
import { flowStreams } from "../../src/data/flow.js";
import { lowerNetwork } from "../../src/ir/pipeline.js";
import { OrtEngine } from "../../src/runtime/engines/index.js";
import type { EngineChoice } from "../../src/runtime/engines/index.js";
import { trainingConfig, trainNetwork, type TrainingConfig } from "../../src/runtime/train.js";
import { checkpointDir, readCheckpoint } from "../../src/runtime/checkpoint.js";
import { checkFiles } from "../../src/semantics/check.js";
import type { CheckedNetwork } from "../../src/semantics/network.js";
import { checkText, cpuScratch, globalRelative, relativeDiff, weightValues } from "../helpers.js";

const EARLY_FUSION = path.resolve(__dirname, "../../specs/tiny/tiny_early_fusion.vnet");
const WITH_DROPOUT = `network tiny_dropout {
  classes = 5
  input video = clip(frames = 4, size = 16)
  stream rgb = video -> normalize(mean = [0.5], std = [0.25])
  output rgb -> conv3d(6, kernel = 3, stride = 2) -> bn -> relu -> global_avg_pool -> dropout(0.5) -> dense(classes) as fc
}
`;
const FROZEN = `network tiny_frozen {
  classes = 5
  input video = clip(frames = 4, size = 16)
  stream rgb = video -> normalize(mean = [0.5], std = [0.25])
  features = rgb -> per_frame(freeze = true) { conv2d(4, kernel = 3, stride = 2) as conv -> bn -> relu -> global_avg_pool } as cnn
  output features -> temporal_pool(mode = "mean") -> dense(classes) as fc
}
`;

// Frozen by a call's `freeze = true` (stem) and by a `training { freeze }` glob (mid).
const FROZEN_CALLS = `block unit(filters) {
  input x
  output x -> conv3d(filters, kernel = 3, pad = 1, bias = false) as conv -> bn as bn -> relu
}
network tiny_frozen_calls {
  classes = 5
  input video = clip(frames = 4, size = 16)
  stream rgb = video -> normalize(mean = [0.5], std = [0.25])
  x = rgb -> unit(4, freeze = true) as stem -> unit(4) as mid -> unit(6) as top
  output x -> global_avg_pool -> dense(classes) as fc
  training { freeze = ["mid"] }
}
`;

const scratch = cpuScratch("vnet-engines-");

const data = (frames = 4, size = 32) => motionDataset({ classes: 5, frames, size, trainPerClass: 3, valPerClass: 1, seed: 5 });

async function train(network: CheckedNetwork, engine: EngineChoice, run: string, config: TrainingConfig, resume = false, dataset = data()) {
  return trainNetwork(lowerNetwork(network), dataset, { config, runDir: path.join(scratch(), run), seed: 3, engine, resume });
}

describe("the ONNX Runtime engine", () => {
  const network = checkFiles([EARLY_FUSION]).networks[0]!;
  const config = (epochs: number, optimizer: "adam" | "sgd" = "adam") =>
    trainingConfig(network, { optimizer, lr: 0.003, momentum: 0.9, batch: 8, epochs, weightDecay: 1e-4 });

  it("trains as the tfjs engine: the same losses, accuracies and weights from the same start", async () => {
    for (const optimizer of ["adam", "sgd"] as const) {
      const ort = await train(network, "ort", `same-ort-${optimizer}`, config(2, optimizer));
      const tfjs = await train(network, "tfjs", `same-tfjs-${optimizer}`, config(2, optimizer));
      expect(ort.engine).toMatch(/^ONNX Runtime/);
      expect(tfjs.engine).toMatch(/^tfjs/);
      ort.history.forEach((h, i) => {
        expect(Math.abs(h.trainLoss - tfjs.history[i]!.trainLoss), `${optimizer} epoch ${i + 1} loss`).toBeLessThan(1e-4);
        expect(h.trainAccuracy).toBe(tfjs.history[i]!.trainAccuracy);
        expect(Math.abs(h.valLoss - tfjs.history[i]!.valLoss)).toBeLessThan(1e-4);
      });
      // Two epochs of float32 rounding in two engines: each tensor within 1e-3, all weights together within 1e-4.
      const a = await weightValues(ort.model);
      const b = await weightValues(tfjs.model);
      for (const [name, values] of b) expect(relativeDiff(a.get(name)!, values, 1e-6), `${optimizer} ${name}`).toBeLessThan(1e-3);
      expect(globalRelative(a, b), optimizer).toBeLessThan(1e-4);
    }
  });

  it("resumes exactly: 1 epoch + --resume 1 epoch = 2 epochs, bit for bit", async () => {
    const straight = await weightValues((await train(network, "ort", "exact-straight", config(2))).model);
    (await train(network, "ort", "exact-split", config(1))).model.dispose();
    const resumed = await weightValues((await train(network, "ort", "exact-split", config(2), true)).model);
    for (const [name, values] of straight) expect(resumed.get(name), name).toEqual(values);
  });

  it("takes over a tfjs run's state bit for bit, and gives its own back to tfjs", async () => {
    (await train(network, "tfjs", "cross-tfjs", config(1))).model.dispose();
    const dir = checkpointDir(path.join(scratch(), "cross-tfjs"));
    const written = await readCheckpoint(dir);
    const engine = await OrtEngine.create(
      {
        graph: lowerNetwork(network),
        config: config(2),
        seed: 3,
        protocol: lowerNetwork(network).protocol!,
        flows: flowStreams(lowerNetwork(network)),
        start: { kind: "checkpoint", contents: written },
        metadata: {},
      },
      8,
    );
    const again = await engine.checkpoint(written.progress);
    await engine.dispose();
    expect(again.weights.map((w) => w.name)).toEqual(written.weights.map((w) => w.name));
    again.weights.forEach((w, i) => expect(w.values, w.name).toEqual(written.weights[i]!.values));
    expect(again.optimizer.map((t) => t.name)).toEqual(written.optimizer.map((t) => t.name.replace(/_\d+(?=\/)/, "")));
    again.optimizer.forEach((t, i) => expect(t.values, t.name).toEqual(written.optimizer[i]!.values));
    expect(again.optimizerScalars).toEqual(written.optimizerScalars);
  });

  it("resumes across engines: tfjs then ort, and ort then tfjs, follow the straight runs", async () => {
    const tfjsStraight = await weightValues((await train(network, "tfjs", "mixed-tfjs-straight", config(2))).model);
    (await train(network, "tfjs", "mixed-tfjs-ort", config(1))).model.dispose();
    const thenOrt = await weightValues((await train(network, "ort", "mixed-tfjs-ort", config(2), true)).model);
    expect(globalRelative(thenOrt, tfjsStraight)).toBeLessThan(1e-4);
    const ortStraight = await weightValues((await train(network, "ort", "mixed-ort-straight", config(2))).model);
    (await train(network, "ort", "mixed-ort-tfjs", config(1))).model.dispose();
    const thenTfjs = await weightValues((await train(network, "tfjs", "mixed-ort-tfjs", config(2), true)).model);
    expect(globalRelative(thenTfjs, ortStraight)).toBeLessThan(1e-4);
    const progress = JSON.parse(fs.readFileSync(path.join(scratch(), "mixed-ort-tfjs", "checkpoint", "progress.json"), "utf8")) as {
      epoch: number;
      engine: string;
    };
    expect(progress).toMatchObject({ epoch: 2, engine: "tfjs" });
  });

  it("keeps frozen weights and their batch-norm statistics bit-identical while the rest trains", async () => {
    const net = checkText(FROZEN).networks[0]!;
    const cfg = trainingConfig(net, { optimizer: "sgd", lr: 0.05, momentum: 0.9, batch: 4, epochs: 1 });
    const start = await weightValues((await train(net, "ort", "frozen-start", { ...cfg, epochs: 1, lr: 1e-30 }, false, data(4, 16))).model);
    const trained = await weightValues((await train(net, "ort", "frozen", cfg, false, data(4, 16))).model);
    for (const [name, values] of start) {
      if (name.startsWith("cnn.")) expect(trained.get(name), name).toEqual(values);
      else if (name === "fc/kernel") expect(relativeDiff(trained.get(name)!, values, 1e-6)).toBeGreaterThan(1e-4);
    }
  });

  it("keeps layers frozen by `freeze = true` on a call and by a `training { freeze }` glob fixed, on both engines", async () => {
    const net = checkText(FROZEN_CALLS).networks[0]!;
    const cfg = trainingConfig(net, { optimizer: "sgd", lr: 0.05, momentum: 0.9, batch: 4, epochs: 1 });
    for (const engine of ["ort", "tfjs"] as const) {
      const start = await weightValues((await train(net, engine, `frozen-calls-start-${engine}`, { ...cfg, lr: 1e-30 }, false, data(4, 16))).model);
      const trained = await weightValues((await train(net, engine, `frozen-calls-${engine}`, cfg, false, data(4, 16))).model);
      const fixed = [...start.keys()].filter((name) => name.startsWith("stem.") || name.startsWith("mid."));
      expect(fixed.length, engine).toBe(10); // conv kernel, bn gamma, beta and moving statistics, twice
      for (const name of fixed) expect(trained.get(name), `${engine} ${name}`).toEqual(start.get(name));
      for (const name of ["top.conv/kernel", "fc/kernel"])
        expect(relativeDiff(trained.get(name)!, start.get(name)!, 1e-6), `${engine} ${name}`).toBeGreaterThan(1e-4);
    }
  });

  it("draws dropout masks from the seed: a resumed run with dropout is exact; the masks take effect", async () => {
    const net = checkText(WITH_DROPOUT).networks[0]!;
    const cfg = (epochs: number) => trainingConfig(net, { optimizer: "adam", lr: 0.01, batch: 4, epochs });
    const straight = await weightValues((await train(net, "ort", "dropout-straight", cfg(2), false, data(4, 16))).model);
    (await train(net, "ort", "dropout-split", cfg(1), false, data(4, 16))).model.dispose();
    const resumed = await weightValues((await train(net, "ort", "dropout-split", cfg(2), true, data(4, 16))).model);
    for (const [name, values] of straight) expect(resumed.get(name), name).toEqual(values);
    const without = checkText(WITH_DROPOUT.replace("dropout(0.5)", "dropout(0)")).networks[0]!;
    const plain = await weightValues((await train(without, "ort", "dropout-none", cfg(2), false, data(4, 16))).model);
    expect(relativeDiff(plain.get("fc/kernel")!, straight.get("fc/kernel")!, 1e-6)).toBeGreaterThan(1e-3);
  });
});
