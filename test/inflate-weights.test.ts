/**
 * Weight inflation and the lecture's workflow (issue 7): 2D kernels become 3D ones by the spec's
 * rules; the defining property (a "boring" video of one repeated frame gives the 2D network's
 * logits) holds exactly where no zero padding enters, and only there; mismatched 2D weights are
 * located diagnostics; `vnet inflate`, `vnet train --init` and 2D training on frames work from
 * the command line; and inflated initialisation reaches a target accuracy in fewer epochs than
 * random initialisation.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import { motionDataset, seededRandom } from "../src/data/motion.js";
import { lowerNetwork } from "../src/ir/pipeline.js";
import type { Tensor } from "../src/runtime/checkpoint.js";
import { loadModel, saveModel } from "../src/runtime/model-io.js";
import { builtinClipShape } from "../src/data/dataset.js";
import { testPlans, trainPlans } from "../src/data/sampling.js";
import { trainingConfig, trainNetwork } from "../src/runtime/train.js";
import { inflateKernel, mapWeightsByName } from "../src/weights/by-name.js";
import { formatWeightReport } from "../src/weights/report.js";
import { WeightStore } from "../src/weights/store.js";
import { assignWeights, modelWeights } from "../src/weights/tensors.js";
import { checkFiles } from "../src/semantics/check.js";
import type { CheckedNetwork } from "../src/semantics/network.js";
import { checkText, compileNetwork, cpuScratch } from "./helpers.js";

const SPECS = path.resolve(__dirname, "../specs");
const RESNET_2D = path.join(SPECS, "tiny/tiny_resnet_2d.vnet");

const scratch = cpuScratch("vnet-inflate-");

function only(file: string): CheckedNetwork {
  const result = checkFiles([file]);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.networks[0]!;
}

/** A network inflating tiny_resnet_2d with the given clip length and `inflate` body, checked in memory. */
function inflatedResnet(frames: number, body: string): CheckedNetwork {
  const result = checkText(
    `import { tiny_resnet_2d } from "./tiny/tiny_resnet_2d.vnet"\nnetwork boring {\n  classes = 5\n  input video = clip(frames = ${frames}, size = 32)\n  inflate tiny_resnet_2d {\n${body}\n  }\n}\n`,
    {
      "tiny/tiny_resnet_2d.vnet": fs.readFileSync(RESNET_2D, "utf8"),
      "lib/pyslowfast_resnet.vnet": fs.readFileSync(path.join(SPECS, "lib/pyslowfast_resnet.vnet"), "utf8"),
    },
  );
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.networks[0]!;
}

/** tiny_i3d's rules (specs/tiny/tiny_i3d.vnet). */
const I3D_RULES = [
  '"stem.conv" { kernel = 5 }',
  '"res2.*.branch2.a" { kernel = 3 }',
  '"res{3,4}.0.branch2.a" { kernel = 3 }',
  '"res5.1.branch2.a" { kernel = 3 }',
  '"pool1" { kernel = 2, stride = 2 }',
]
  .map((r) => `    ${r}`)
  .join("\n");

/** Every weight random (batch-norm statistics included), so that no mapping error can hide. */
function randomise(model: tf.LayersModel, seed: number): void {
  const random = seededRandom(seed);
  const values = new Map<string, Tensor>();
  for (const w of model.weights) {
    const shape = w.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    const role = w.originalName.split("/").pop()!;
    const fanIn = shape.length > 1 ? size / shape[shape.length - 1]! : 1;
    const draw = (): number =>
      role === "kernel" ? (2 * random() - 1) * Math.sqrt(3 / fanIn) : role === "moving_variance" || role === "gamma" ? 0.5 + random() : (random() - 0.5) * 0.4;
    values.set(w.originalName, { shape, values: Float32Array.from({ length: size }, draw) });
  }
  assignWeights(model, values);
}

function build(network: CheckedNetwork, seed = 0) {
  const compiled = compileNetwork(network, { seed });
  expect(compiled.diagnostics).toEqual([]);
  return { model: compiled.model!, graph: compiled.graph };
}

/** The 3D model with `source`'s 2D weights inflated into it. */
function inflated(network: CheckedNetwork, source: tf.LayersModel) {
  const { model, graph } = build(network, 9);
  const mapping = mapWeightsByName(graph, modelWeights(source), { inflate: true, at: { file: network.file, range: network.range }, source: "the 2D weights" });
  expect(mapping.report.diagnostics).toEqual([]);
  assignWeights(model, mapping.weights);
  return { model, mapping };
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

describe("kernel inflation", () => {
  const kernel: Tensor = { shape: [1, 1, 1, 2], values: Float32Array.from([3, -6]) };
  it("repeats a 2D kernel over time divided by kt, or puts it at the centre frame", () => {
    expect(inflateKernel(kernel, 3, "repeat")).toEqual({ shape: [3, 1, 1, 1, 2], values: Float32Array.from([1, -2, 1, -2, 1, -2]) });
    expect(inflateKernel(kernel, 3, "center")).toEqual({ shape: [3, 1, 1, 1, 2], values: Float32Array.from([0, 0, 3, -6, 0, 0]) });
    expect(inflateKernel(kernel, 4, "center").values).toEqual(Float32Array.from([0, 0, 0, 0, 3, -6, 0, 0]));
  });
});

describe("the boring-video property (a clip of one repeated frame)", () => {
  let model2d: tf.LayersModel;
  let frame: tf.Tensor;
  const clip = (frames: number) => tf.tile(tf.expandDims(frame, 1), [1, frames, 1, 1, 1]);
  beforeAll(() => {
    model2d = build(only(RESNET_2D)).model;
    randomise(model2d, 11);
    frame = tf.tensor(Float32Array.from({ length: 32 * 32 * 3 }, seededRandom(5)), [1, 32, 32, 3]);
  });
  afterAll(() => {
    model2d.dispose();
    frame.dispose();
  });

  it('gives the 2D logits at every frame with init = "center", zero padding and all', () => {
    const { model, mapping } = inflated(inflatedResnet(8, `    init = "center"\n${I3D_RULES}`), model2d);
    expect(mapping.report.entries.filter((e) => e.status === "reshaped")).toHaveLength(29);
    const expected = model2d.predict(frame) as tf.Tensor;
    const logits = model.predict(clip(8)) as tf.Tensor;
    expect(tf.max(tf.abs(expected)).dataSync()[0]).toBeGreaterThan(0.1);
    expect(maxDiff(logits, expected)).toBeLessThanOrEqual(1e-4);
    model.dispose();
  });

  it('gives the 2D logits with init = "repeat" when no zero padding enters in time (pad = 0, no residual)', () => {
    // A residual block cannot drop the padding (its shortcut keeps every frame), so a plain CNN.
    const cnn2d = only(path.join(SPECS, "tiny/tiny_cnn_2d.vnet"));
    const source = build(cnn2d).model;
    randomise(source, 12);
    const result = checkText(
      `import { tiny_cnn_2d } from "./tiny_cnn_2d.vnet"\nnetwork valid_i3d {\n  classes = 5\n  input video = clip(frames = 8, size = 32)\n  inflate tiny_cnn_2d { "conv*" { kernel = 3, pad = 0 } }\n}\n`,
      { "tiny_cnn_2d.vnet": fs.readFileSync(path.join(SPECS, "tiny/tiny_cnn_2d.vnet"), "utf8") },
    );
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const { model } = inflated(result.networks[0]!, source);
    const expected = source.predict(frame) as tf.Tensor;
    expect(tf.max(tf.abs(expected)).dataSync()[0]).toBeGreaterThan(0.1);
    expect(maxDiff(model.predict(clip(8)) as tf.Tensor, expected)).toBeLessThanOrEqual(1e-4);
    model.dispose();
    source.dispose();
  });

  it('with init = "repeat" and zero padding, holds at the centre frames only: border frames see the padding', () => {
    // 32 frames: after the 5-frame stem, two 3-frame convs, pool1 (8 -> 16 frames) and three more
    // 3-frame convs, res5's frames 5..10 never read a padded frame; frames 0 and 15 do.
    const network = inflatedResnet(32, `    init = "repeat"\n${I3D_RULES}`);
    const { model } = inflated(network, model2d);
    const features = (m: tf.LayersModel) => tf.model({ inputs: m.inputs, outputs: m.getLayer("res5.1.relu").output as tf.SymbolicTensor });
    const expected = features(model2d).predict(frame) as tf.Tensor; // [1, 1, 1, 64]
    const perFrame = features(model).predict(clip(32)) as tf.Tensor; // [1, 16, 1, 1, 64]
    expect(perFrame.shape).toEqual([1, 16, 1, 1, 64]);
    const at = (t: number) => tf.squeeze(tf.slice(perFrame, [0, t], [1, 1]), [1]);
    for (let t = 5; t <= 10; t++) expect(maxDiff(at(t), expected), `frame ${t}`).toBeLessThanOrEqual(1e-4);
    expect(maxDiff(at(0), expected)).toBeGreaterThan(1e-2);
    expect(maxDiff(at(15), expected)).toBeGreaterThan(1e-2);
    // The global average pools the border frames too, so the logits differ.
    expect(maxDiff(model.predict(clip(32)) as tf.Tensor, model2d.predict(frame) as tf.Tensor)).toBeGreaterThan(1e-3);
    model.dispose();
  });
});

describe("mismatched 2D weights are located diagnostics", () => {
  const i3d = () => only(path.join(SPECS, "tiny/tiny_i3d.vnet"));
  const weights2d = () => {
    const { model } = build(only(RESNET_2D));
    const weights = modelWeights(model);
    model.dispose();
    return weights;
  };
  const at = (network: CheckedNetwork) => ({ file: network.file, range: network.range });

  it("a missing weight (VN101) and a classifier for other classes (VN102), at the 2D layers; --partial makes them warnings", () => {
    const network = i3d();
    const source = weights2d();
    source.delete("stem.bn/gamma");
    source.set("projection/kernel", { shape: [64, 3], values: new Float32Array(192) });
    const strict = mapWeightsByName(lowerNetwork(network), source, { inflate: true, at: at(network), source: "the 2D weights" });
    expect(strict.report.diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ["VN101", "error"],
      ["VN102", "error"],
    ]);
    const [missing, shape] = strict.report.diagnostics;
    const text = fs.readFileSync(shape!.file, "utf8");
    expect(path.basename(shape!.file)).toBe("tiny_resnet_2d.vnet");
    expect(text.slice(shape!.range.start, shape!.range.end)).toContain("dense(classes)");
    expect(shape!.message).toContain("trained for 3 outputs, the spec has 5");
    expect(path.basename(missing!.file)).toBe("pyslowfast_resnet.vnet");
    const partial = mapWeightsByName(lowerNetwork(network), source, { inflate: true, partial: true, at: at(network), source: "the 2D weights" });
    expect(partial.report.diagnostics.map((d) => d.severity)).toEqual(["warning", "warning"]);
    expect(partial.report.entries.filter((e) => e.status === "initialised").map((e) => e.target)).toEqual(["stem.bn/gamma", "projection/kernel"]);
    expect(formatWeightReport(partial.report)).toMatch(/projection\/kernel\s+\[64, 5\]\s+initialised\s+from \[64, 3\]: shape \[64, 3\] does not fit/);
  });

  it("another network's weights (VN103), at the 3D network", () => {
    const network = i3d();
    const { model } = build(only(path.join(SPECS, "tiny/tiny_cnn_2d.vnet")));
    const result = mapWeightsByName(lowerNetwork(network), modelWeights(model), { inflate: true, at: at(network), source: "the 2D weights" });
    model.dispose();
    expect(result.report.diagnostics.map((d) => d.code)).toEqual(["VN103"]);
    expect(result.report.diagnostics[0]!.file).toBe(network.file);
    expect(result.weights.size).toBe(0);
  });
});

describe("2D training on frames", () => {
  it("samples a 2D network one frame per clip: the middle one for testing, random ones for training", () => {
    const graph = lowerNetwork(only(path.join(SPECS, "tiny/tiny_cnn_2d.vnet")));
    const protocol = graph.protocol!;
    expect([protocol.frames, protocol.height, protocol.width, protocol.channels]).toEqual([1, 32, 32, 3]);
    // Built-in data for it is made of 8-frame videos, one frame of which each view shows.
    expect(builtinClipShape(protocol)).toEqual({ frames: 8, height: 32, width: 32 });
    const video = { frames: 8, fps: 25, width: 32, height: 32 };
    expect(testPlans(protocol, video).map((p) => p.frames)).toEqual([[4]]);
    const random = seededRandom(1);
    const picks = Array.from({ length: 20 }, () => trainPlans(protocol, video, random)[0]!.frames);
    expect(picks.every((f) => f.length === 1 && f[0]! >= 0 && f[0]! < 8)).toBe(true);
    expect(new Set(picks.flat()).size).toBeGreaterThan(4);
  });
});

describe("the command line: vnet inflate, vnet train --init, 2D training on frames", () => {
  const I3D = path.join(SPECS, "tiny/tiny_cnn_i3d.vnet");
  let run2d: string;
  const cli = async (...argv: string[]) => {
    const lines: string[] = [];
    const code = await main(argv, { out: (s) => lines.push(s), err: (s) => lines.push(s) });
    return { code, text: lines.join("\n") };
  };

  beforeAll(async () => {
    run2d = path.join(scratch(), "run2d");
    const { code, text } = await cli(
      "train",
      path.join(SPECS, "tiny/tiny_cnn_2d.vnet"),
      "--data",
      "builtin:motion-appearance",
      "--epochs",
      "1",
      "--train-clips",
      "2",
      "--val-clips",
      "1",
      "--backend",
      "cpu",
      "-o",
      run2d,
    );
    expect(text).toContain("validation accuracy");
    expect(code).toBe(0);
  });

  it("vnet inflate --dry-run lists every tensor with the reason and writes nothing; -o writes the inflated model", async () => {
    const dry = await cli("inflate", I3D, "--from", run2d, "--dry-run", "-o", path.join(scratch(), "never"));
    expect(dry.code).toBe(0);
    expect(dry.text).toMatch(/conv2\/kernel\s+\[3, 3, 3, 16, 32\]\s+reshaped\s+from \[3, 3, 16, 32\]: repeated over 3 frames and divided by 3/);
    expect(dry.text).toMatch(/bn2\/moving_variance\s+\[32\]\s+mapped\s+copied/);
    expect(dry.text).toContain("tiny_cnn_i3d: 14 mapped, 3 reshaped, 0 initialised; 0 source tensors unused");
    expect(fs.existsSync(path.join(scratch(), "never"))).toBe(false);

    const out = path.join(scratch(), "i3d-init");
    expect((await cli("inflate", I3D, "--from", run2d, "-o", out)).code).toBe(0);
    const source = WeightStore.readDirectory(path.join(run2d, "checkpoint")).weights.get("conv2/kernel")!;
    const target = WeightStore.readDirectory(out).weights.get("conv2/kernel")!;
    expect(target.shape).toEqual([3, 3, 3, 16, 32]);
    expect(target.values.subarray(2 * source.values.length)).toEqual(source.values.map((v) => v / 3));

    const trained = await cli(
      "train",
      I3D,
      "--init",
      out,
      "--data",
      "builtin:motion-appearance",
      "--epochs",
      "1",
      "--train-clips",
      "1",
      "--val-clips",
      "1",
      "--backend",
      "cpu",
      "-o",
      path.join(scratch(), "fine-tune"),
    );
    expect(trained.text).toContain(`initial weights from ${out}: 17 mapped, 0 reshaped, 0 initialised; 0 source tensors unused`);
    expect(trained.code).toBe(0);
  });

  it("refuses what does not fit: no inflate statement (VN107), an unreadable checkpoint (VN100), 2D weights given to --init (VN102)", async () => {
    const plain = await cli("inflate", path.join(SPECS, "tiny/tiny_r3d.vnet"), "--from", run2d, "-o", path.join(scratch(), "x"));
    expect(plain.code).toBe(1);
    expect(plain.text).toContain("error VN107");
    const missing = await cli("inflate", I3D, "--from", path.join(scratch(), "nothing-here"), "-o", path.join(scratch(), "x"));
    expect(missing.code).toBe(1);
    expect(missing.text).toMatch(/nothing-here:1:1 {2}error VN100 {2}.*nothing-here does not exist/);
    const twoD = await cli("train", I3D, "--init", run2d, "--data", "builtin:motion-appearance", "--epochs", "1", "-o", path.join(scratch(), "x"));
    expect(twoD.code).toBe(1);
    expect(twoD.text).toContain("error VN102");
    expect(twoD.text).toContain("inflate them first");
    const both = await cli("train", I3D, "--init", run2d, "--resume", "--data", "builtin:motion-appearance", "-o", path.join(scratch(), "x"));
    expect(both.code).toBe(2);
    expect(fs.existsSync(path.join(scratch(), "x"))).toBe(false);
  });
});

describe("fine-tuning from inflated weights", () => {
  it("reaches the target accuracy on builtin:motion-appearance in fewer epochs than random initialisation", async () => {
    // CI-sized (24x24, 4 frames, 4 classes); bench/inflation.ts runs tiny_cnn_2d/tiny_cnn_i3d at full size.
    const dir = path.join(scratch(), "specs");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, "small_2d.vnet"),
      `network small_2d {\n  classes = 4\n  input image = image(size = 24)\n  x = image -> conv2d(8, kernel = 3, stride = 2, pad = 1, bias = false) as conv1 -> bn as bn1 -> relu\n    -> conv2d(16, kernel = 3, stride = 2, pad = 1, bias = false) as conv2 -> bn as bn2 -> relu\n  output x -> global_avg_pool -> dense(classes) as fc\n}\n`,
    );
    fs.writeFileSync(
      path.join(dir, "small_i3d.vnet"),
      `import { small_2d } from "./small_2d.vnet"\nnetwork small_i3d {\n  classes = 4\n  input video = clip(frames = 4, size = 24)\n  inflate small_2d { "conv*" { kernel = 3 } }\n}\n`,
    );
    const net2d = only(path.join(dir, "small_2d.vnet"));
    const net3d = only(path.join(dir, "small_i3d.vnet"));
    const data = motionDataset({ variant: "appearance", classes: 4, frames: 4, size: 24, trainPerClass: 24, valPerClass: 10, seed: 3 });
    const config = (network: CheckedNetwork, lr: number, epochs: number) => trainingConfig(network, { optimizer: "adam", lr, batch: 16, epochs });
    const target = 0.6; // chance is 0.25
    const epochsTo = (history: readonly { valAccuracy: number }[]) => {
      const k = history.findIndex((h) => h.valAccuracy >= target);
      return k < 0 ? Infinity : k + 1;
    };

    const pretrained = await trainNetwork(lowerNetwork(net2d), data, { config: config(net2d, 0.01, 12), runDir: path.join(scratch(), "small-2d"), seed: 1 });
    expect(pretrained.history.at(-1)!.valAccuracy).toBeGreaterThanOrEqual(target);
    const mapping = mapWeightsByName(lowerNetwork(net3d), modelWeights(pretrained.model), {
      inflate: true,
      at: { file: net3d.file, range: net3d.range },
      source: "the 2D weights",
    });
    expect(mapping.report.diagnostics).toEqual([]);
    pretrained.model.dispose();

    const fromInflated = await trainNetwork(lowerNetwork(net3d), data, {
      config: config(net3d, 0.003, 2),
      runDir: path.join(scratch(), "small-inflated"),
      seed: 1,
      init: (m) => assignWeights(m, mapping.weights),
    });
    const inflatedEpochs = epochsTo(fromInflated.history);
    expect(inflatedEpochs).toBeLessThanOrEqual(2);
    // Random initialisation gets the same number of epochs: it has not reached the target by then.
    const fromScratch = await trainNetwork(lowerNetwork(net3d), data, {
      config: config(net3d, 0.01, inflatedEpochs),
      runDir: path.join(scratch(), "small-random"),
      seed: 1,
    });
    expect(epochsTo(fromScratch.history)).toBeGreaterThan(inflatedEpochs);
    fromInflated.model.dispose();
    fromScratch.model.dispose();
  });
});

describe("checkpoints in tfjs LayersModel format", () => {
  it("reads any saved LayersModel's weights by name", async () => {
    const { model } = build(only(path.join(SPECS, "tiny/tiny_cnn_2d.vnet")));
    const dir = path.join(scratch(), "layers-model");
    await saveModel(model, dir);
    const read = WeightStore.readDirectory(dir);
    expect(read.model).toBe("tiny_cnn_2d");
    expect([...read.weights.keys()]).toEqual(model.weights.map((w) => w.originalName));
    const reloaded = await loadModel(dir);
    expect(read.weights.get("fc/kernel")!.values).toEqual(reloaded.getLayer("fc").getWeights()[0]!.dataSync());
    model.dispose();
    reloaded.dispose();
  });
});
