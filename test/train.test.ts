import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { motionDataset } from "../src/data/motion.js";
import { scoreReport, formatReport } from "../src/runtime/evaluate.js";
import { findCheckpoint } from "../src/runtime/checkpoint.js";
import { learningRateAt, trainingConfig, trainNetwork } from "../src/runtime/train.js";
import { loadModel } from "../src/runtime/model-io.js";
import { lowerNetwork } from "../src/ir/pipeline.js";
import { checkFiles } from "../src/semantics/check.js";
import { checkText, compileNetwork, cpuScratch } from "./helpers.js";
import { main } from "../src/cli/main.js";

const EARLY_FUSION = path.resolve("specs/tiny/tiny_early_fusion.vnet");
const FROZEN = `network tiny_frozen {
  classes = 3
  input video = clip(frames = 4, size = 16)
  stream rgb = video -> normalize(mean = [0.5], std = [0.25])
  features = rgb -> per_frame(freeze = true) { conv2d(4, kernel = 3, stride = 2) as conv -> relu -> global_avg_pool } as cnn
  output features -> temporal_pool(mode = "mean") -> dense(classes) as fc
}
`;

const scratch = cpuScratch("vnet-train-");

function network(file: string) {
  return checkFiles([file]).networks[0]!;
}

async function weightValues(model: tf.LayersModel): Promise<Map<string, Float32Array>> {
  return new Map(await Promise.all(model.weights.map(async (w) => [w.originalName, (await w.read().data()) as Float32Array] as const)));
}

describe("learning-rate schedules", () => {
  const net = checkText(`network n { classes = 2  input v = clip(frames = 2, size = 8)  output v -> global_avg_pool -> dense(classes) }`).networks[0]!;
  it("warms up linearly, then steps or follows a cosine", () => {
    const step = trainingConfig(net, { lr: 0.1, schedule: "step", steps: [3, 6], gamma: 0.1, warmup: 2, epochs: 10 });
    expect(learningRateAt(step, 1)).toBeCloseTo(0.05, 3);
    expect(learningRateAt(step, 2)).toBeCloseTo(0.1);
    expect(learningRateAt(step, 4)).toBeCloseTo(0.01);
    expect(learningRateAt(step, 7)).toBeCloseTo(0.001);
    const cosine = trainingConfig(net, { lr: 0.1, schedule: "cosine", epochs: 10 });
    expect(learningRateAt(cosine, 0)).toBeCloseTo(0.1);
    expect(learningRateAt(cosine, 5)).toBeCloseTo(0.05);
    expect(learningRateAt(cosine, 10)).toBeCloseTo(0);
  });

  it("warms up from warmup_start_lr as PySlowFast's get_lr_at_epoch (test/fixtures/training/pyslowfast_lr.json)", () => {
    interface Schedule {
      config: { policy: string; base_lr: number; steps?: number[]; lrs?: number[]; max_epoch: number; warmup_epochs: number; warmup_start_lr: number };
      rates: [number, number][];
    }
    const { schedules } = JSON.parse(fs.readFileSync("test/fixtures/training/pyslowfast_lr.json", "utf8")) as { schedules: Schedule[] };
    // The AVA specs' training sections state their configs' SOLVER.
    const ava = trainingConfig(checkFiles(["specs/slow_r50_ava.vnet"]).networks[0]!);
    expect(ava).toMatchObject({ lr: 0.1, schedule: "step", steps: [10, 15], gamma: 0.1, warmup: 5, warmupStartLr: 0.000125, epochs: 20 });
    expect(trainingConfig(checkFiles(["specs/slowfast_r50_ava.vnet"]).networks[0]!)).toMatchObject({ warmup: 5, warmupStartLr: 0.000125 });
    const cosine = trainingConfig(net, { lr: 0.4, schedule: "cosine", warmup: 3, warmupStartLr: 0.01, epochs: 12 });
    const configs = new Map([
      ["steps_with_relative_lrs", ava],
      ["cosine", cosine],
    ]);
    expect(schedules.map((s) => s.config.policy)).toEqual([...configs.keys()]);
    for (const { config, rates } of schedules) {
      const ours = configs.get(config.policy)!;
      expect(ours.warmupStartLr).toBe(config.warmup_start_lr);
      expect(rates.length).toBeGreaterThan(8);
      for (const [epoch, rate] of rates) expect(learningRateAt(ours, epoch), `${config.policy} at epoch ${epoch}`).toBeCloseTo(rate, 10);
    }
    expect(learningRateAt(ava, 0)).toBe(0.000125);
    // The default start stays 0 (entered a thousandth of an epoch in).
    const fromZero = trainingConfig(net, { lr: 0.1, warmup: 5 });
    expect(fromZero.warmupStartLr).toBe(0);
    expect(learningRateAt(fromZero, 0)).toBeCloseTo((0.1 * 1e-3) / 5, 12);
    expect(learningRateAt(fromZero, 2.5)).toBeCloseTo(0.05, 4);
  });

  it("checks warmup_start_lr: a number >= 0", () => {
    const spec = (value: string) =>
      `network n { classes = 2  input v = clip(frames = 2, size = 8)  output v -> global_avg_pool -> dense(classes)  training { warmup = 2, warmup_start_lr = ${value} } }`;
    expect(checkText(spec("0.001")).diagnostics).toEqual([]);
    const negative = checkText(spec("-0.001")).diagnostics;
    expect(negative.map((d) => d.code)).toEqual(["VN015"]);
    expect(negative[0]!.message).toMatch(/warmup_start_lr/);
    expect(checkText(spec('"fast"')).diagnostics.map((d) => d.code)).toEqual(["VN014"]);
  });
});

describe("vnet train", () => {
  const data = () => motionDataset({ classes: 5, frames: 4, size: 32, trainPerClass: 3, valPerClass: 1, seed: 5 });
  const config = (epochs: number) => trainingConfig(network(EARLY_FUSION), { optimizer: "adam", lr: 0.003, batch: 8, epochs });

  it("resumes exactly: 1 epoch + --resume 1 epoch = 2 epochs, weights and optimizer state included", async () => {
    const net = network(EARLY_FUSION);
    const straight = await trainNetwork(lowerNetwork(net), data(), { config: config(2), runDir: path.join(scratch(), "straight"), seed: 3 });
    const split = path.join(scratch(), "split");
    (await trainNetwork(lowerNetwork(net), data(), { config: config(1), runDir: split, seed: 3 })).model.dispose();
    const resumed = await trainNetwork(lowerNetwork(net), data(), { config: config(2), runDir: split, seed: 3, resume: true });
    const a = await weightValues(straight.model);
    const b = await weightValues(resumed.model);
    for (const [name, values] of a) expect(b.get(name), name).toEqual(values);
    const metrics = fs
      .readFileSync(path.join(split, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { epoch: number; valAccuracy: number });
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2]);
    expect(fs.readdirSync(path.join(split, "checkpoint")).sort()).toEqual(["model.json", "optimizer.bin", "progress.json", "weights.bin"]);
    straight.model.dispose();
    resumed.model.dispose();
  });

  it("keeps frozen weights bit-identical while the rest trains", async () => {
    const file = path.join(scratch(), "tiny_frozen.vnet");
    fs.writeFileSync(file, FROZEN);
    const net = network(file);
    const runDir = path.join(scratch(), "frozen");
    const before = await weightValues(compileNetwork(net, { seed: 0 }).model!);
    const small = motionDataset({ classes: 3, frames: 4, size: 16, trainPerClass: 4, valPerClass: 1, seed: 1 });
    const result = await trainNetwork(lowerNetwork(net), small, { config: trainingConfig(net, { lr: 0.1, batch: 4, epochs: 1 }), runDir, seed: 0 });
    const after = await weightValues(result.model);
    const frozen = [...before.keys()].filter((n) => n.startsWith("cnn."));
    const trained = [...before.keys()].filter((n) => n.startsWith("fc."));
    expect(frozen.length).toBeGreaterThan(0);
    for (const name of frozen) expect(after.get(name), name).toEqual(before.get(name));
    for (const name of trained) expect(after.get(name), name).not.toEqual(before.get(name));
    result.model.dispose();
  });

  it("stops on a non-finite loss with a clear message and keeps the last good checkpoint", async () => {
    const net = network(EARLY_FUSION);
    const runDir = path.join(scratch(), "nan");
    (await trainNetwork(lowerNetwork(net), data(), { config: config(1), runDir, seed: 1 })).model.dispose();
    const good = fs.readFileSync(path.join(runDir, "checkpoint", "weights.bin"));
    const logs: string[] = [];
    const result = await trainNetwork(lowerNetwork(net), data(), {
      config: trainingConfig(net, { optimizer: "sgd", lr: 1e30, batch: 4, epochs: 3 }),
      runDir,
      seed: 1,
      resume: true,
      log: (l) => logs.push(l),
    });
    expect(result.stopped).toMatch(/loss became (NaN|Infinity|-Infinity) at epoch 2/);
    // The message names the checkpoint that is kept, and it is there, unchanged.
    expect(result.stopped).toContain(`the last good checkpoint, ${path.join(runDir, "checkpoint")} (after epoch 1), is kept`);
    expect(result.checkpoint).toEqual({ dir: path.join(runDir, "checkpoint"), epoch: 1 });
    expect(findCheckpoint(runDir).dir).toBe(path.join(runDir, "checkpoint"));
    expect(fs.readFileSync(path.join(runDir, "checkpoint", "weights.bin"))).toEqual(good);
    result.model.dispose();
    // A run that diverges in its first epoch has no checkpoint, and says so instead of naming one.
    const fresh = await trainNetwork(lowerNetwork(net), data(), {
      config: trainingConfig(net, { optimizer: "sgd", lr: 1e30, batch: 4, epochs: 1 }),
      runDir: path.join(scratch(), "nan-fresh"),
      seed: 1,
    });
    expect(fresh.stopped).toMatch(/training stopped: no checkpoint was written \(the first epoch had not finished\)/);
    expect(fresh.checkpoint).toBeUndefined();
    fresh.model.dispose();
  });

  it("trains and evaluates from the command line", async () => {
    const runDir = path.join(scratch(), "cli");
    const out: string[] = [];
    const io = { out: (s: string) => void out.push(s), err: (s: string) => void out.push(s) };
    const code = await main(
      ["train", EARLY_FUSION, "--data", "builtin:motion", "--epochs", "1", "--batch", "8", "--train-clips", "2", "--val-clips", "1", "-o", runDir],
      io,
    );
    expect(code).toBe(0);
    expect(out.join("\n")).toMatch(/validation accuracy \d+\.\d% after 1 epochs/);
    out.length = 0;
    expect(await main(["eval", EARLY_FUSION, "--weights", runDir, "--data", "builtin:motion", "--val-clips", "2"], io)).toBe(0);
    expect(out.join("\n")).toMatch(/top-1 \d+\.\d%  top-5 \d+\.\d%/);
    expect(out.join("\n")).toMatch(/confusion/);
    const model = await loadModel(path.join(runDir, "checkpoint"));
    expect(model.inputs[0]!.shape).toEqual([null, 4, 32, 32, 3]);
    model.dispose();
  });
});

describe("evaluation report", () => {
  it("computes top-1, top-5, per-class accuracy and the confusion matrix", () => {
    const scores = new Float32Array([0.9, 0.1, 0, 0.2, 0.7, 0.1, 0.6, 0.3, 0.1]);
    const report = scoreReport(scores, new Int32Array([0, 1, 1]), ["a", "b", "c"]);
    expect(report.top1).toBeCloseTo(2 / 3);
    expect(report.top5).toBe(1);
    expect(report.confusion).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [0, 0, 0],
    ]);
    expect(report.perClass.map((c) => c.accuracy)).toEqual([1, 0.5, 0]);
    expect(formatReport(report)).toContain("top-1 66.7%  top-5 100.0%");
  });
});
