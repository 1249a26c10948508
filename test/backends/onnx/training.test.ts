/**
 * The ONNX training step against the tfjs engine it must equal: for every tiny spec (classifiers,
 * the tiny BMN on BMN's targets, the tiny detector on boxes and multi-hot labels), the same
 * weights (trained-like values), the same batch of inputs and labels; the gradient from ONNX
 * Runtime ("gradients" mode of the step) must equal tfjs's autodiff of the tfjs engine's objective
 * (cpu backend) within 1e-4 relative as a whole and every weight's within its float32 noise (two
 * correct float32 implementations of a tiny network at batch 2 differ by up to ~5e-4 in the
 * deepest batch norms: tfjs's cpu and wasm backends do on tiny_slowfast), and so must the loss
 * and the updated batch-norm statistics. Against PyTorch's float64 autograd (the fixtures below)
 * every tensor is held to 1e-4. Dropout is compared at rate 0 on both sides (tfjs draws its own
 * masks), with the masks still fed to the ONNX step. Then a few SGD (momentum, Nesterov, weight
 * decay) and Adam steps give the same weights on both engines, and as torch.optim's SGD, Adam and
 * AdamW take them from PyTorch's fixtures (pytorch_steps.json, float64).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { trainedLikeModel } from "../../../bench/lib/onnx-fixtures.js";
import type { WeightSource } from "../../../src/backends/onnx/index.js";
import { ADAM_DEFAULTS, BIAS_CORRECTION1, BIAS_CORRECTION2, LEARNING_RATE, type OptimizerSpec } from "../../../src/backends/onnx/training/optimizer.js";
import { buildTrainingStep, LABELS, LOSS, targetInput, type TrainingStepGraph } from "../../../src/backends/onnx/training/step.js";
import { readOnnx, type OnnxLayer, type OnnxModel, type OnnxTensor } from "../../../src/backends/onnx/read.js";
import { seededRandom } from "../../../src/data/motion.js";
import type { IrGraph } from "../../../src/ir/graph.js";
import { storedWeightName as tfjsWeightName } from "../../../src/ir/weights.js";
import { tfjsObjective, type TaskBatch } from "../../../src/runtime/engines/index.js";
import { taskFeeds } from "../../../src/runtime/engines/ort.js";
import { tfjsTaskLoss } from "../../../src/runtime/engines/tfjs.js";
import type { HostTensor } from "../../../src/runtime/onnx.js";
import { TASK_TARGETS, type TargetedTask } from "../../../src/semantics/tasks/index.js";
import { mapOnnxWeights } from "../../../src/weights/import-onnx.js";
import { checkSource, checkSpec, randomBoxes } from "../../onnx-helpers.js";
import { relativeDiff } from "../../helpers.js";

const ROOT = path.resolve(__dirname, "../../..");
const TINY = path.join(ROOT, "specs/tiny");
const BATCH = 2;

beforeAll(async () => {
  await tf.setBackend("cpu");
  tf.env().set("PROD", true);
});

function uniform(shape: readonly number[], random: () => number, low = 0, high = 1): Float32Array {
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => low + (high - low) * random());
}

interface Batch {
  readonly feeds: Record<string, ort.Tensor>;
  /** The same inputs for tfjs, in the model's input order. */
  readonly tfjsInputs: tf.Tensor[];
  readonly labels: number[];
}

function makeBatch(step: TrainingStepGraph, seed: number): Batch {
  const random = seededRandom(seed);
  const feeds: Record<string, ort.Tensor> = {};
  // The tfjs model reads the same inputs as the step (the graph's): the raw clip and any flow stream.
  const tfjsInputs: tf.Tensor[] = [];
  for (const input of step.inputs) {
    const shape = [BATCH, ...input.shape];
    const data = input.kind === "raw" ? uniform(shape, random) : uniform(shape, random, -1, 1);
    feeds[input.name] = new ort.Tensor("float32", data, shape);
    tfjsInputs.push(tf.tensor(data, shape));
  }
  const labels = Array.from({ length: BATCH }, (_, i) => (i * 3 + seed) % step.classes);
  const onehot = new Float32Array(BATCH * step.classes);
  labels.forEach((l, i) => (onehot[i * step.classes + l] = 1));
  feeds[LABELS] = new ort.Tensor("float32", onehot, [BATCH, step.classes]);
  for (const mask of step.masks)
    feeds[mask.input] = new ort.Tensor("float32", new Float32Array(BATCH * mask.rows * mask.shape.reduce((a, b) => a * b, 1)).fill(1), [
      BATCH * mask.rows,
      ...mask.shape,
    ]);
  return { feeds, tfjsInputs, labels };
}

/** A tfjs model with trained-like weights and its dropout layers at rate 0. */
function tfjsModel(graph: IrGraph, seed: number): tf.LayersModel {
  const model = trainedLikeModel(graph, seed);
  for (const layer of model.layers) if (layer.getClassName() === "Dropout") (layer as unknown as { rate: number }).rate = 0;
  return model;
}

/** The state feeds of a step from the tfjs model's current weights (ONNX layouts). */
function stateFeeds(step: TrainingStepGraph, model: tf.LayersModel, slots: ReadonlyMap<string, Float32Array> = new Map()): Record<string, ort.Tensor> {
  const byName = new Map(model.weights.map((w) => [w.originalName, w]));
  const feeds: Record<string, ort.Tensor> = {};
  for (const s of step.state) {
    if (s.kind === "slot") {
      feeds[s.input] = new ort.Tensor("float32", slots.get(s.input) ?? new Float32Array(s.dims.reduce((a, b) => a * b, 1)), [...s.dims]);
      continue;
    }
    const values = byName.get(tfjsWeightName(s.decl!))!.read().dataSync() as Float32Array;
    const onnx = s.layout ? s.layout.toOnnx(values, s.decl!.shape).data : Float32Array.from(values);
    feeds[s.input] = new ort.Tensor("float32", onnx, [...s.dims]);
  }
  return feeds;
}

/** A state tensor's ONNX-layout value in vnet's layout. */
function toVnet(step: TrainingStepGraph, input: string, data: Float32Array): Float32Array {
  const s = step.state.find((t) => t.input === input)!;
  return s.layout ? s.layout.fromOnnx(data, s.dims).data : data;
}

const sgd: OptimizerSpec = { kind: "sgd", momentum: 0.9, nesterov: false };

/** The tfjs engine's loss and gradients (by tfjs weight name) on a batch; updates the model's moving statistics. */
function tfjsGradients(
  model: tf.LayersModel,
  graph: IrGraph,
  inputs: readonly tf.Tensor[],
  labels: readonly number[],
): { loss: number; grads: Map<string, Float32Array> } {
  const objective = tfjsObjective(model, graph, { labelSmoothing: 0, weightDecay: 0 });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const byVariable = new Map(model.trainableWeights.map((w) => [(w.read() as tf.Variable).name, w.originalName]));
  const y = tf.tensor1d([...labels], "int32");
  const { value, grads } = tf.variableGrads(() => objective(inputs, y).loss, variables);
  const result = {
    loss: value.dataSync()[0]!,
    grads: new Map(Object.entries(grads).map(([name, g]) => [byVariable.get(name)!, g.dataSync() as Float32Array])),
  };
  tf.dispose([value, y, ...Object.values(grads)]);
  return result;
}

/** A detector's boxes per batch (more than the batch, so per-box and per-clip rows differ). */
const BOXES = 3;

/** A localizer's or a detector's batch: random inputs (boxes inside the clip), targets in [0, 1] (labels and BMN's mask 0 or 1). */
function makeTaskBatch(graph: IrGraph, step: TrainingStepGraph, seed: number): TaskBatch {
  const random = seededRandom(seed);
  const inputs = graph.inputs.map((input): HostTensor => {
    if (!input.boxes) return { data: uniform([BATCH, ...input.shape], random), shape: [BATCH, ...input.shape] };
    const [height, width] = graph.inputs.find((i) => !i.boxes)!.shape.slice(-3, -1) as [number, number];
    return { data: randomBoxes(step.boxes, BATCH, height, width, random), shape: [step.boxes, 5] };
  });
  const targets = Object.fromEntries(
    TASK_TARGETS[graph.task as TargetedTask].map((key) => {
      const dims = step.targets.find((t) => t.name === targetInput(key))!.dims;
      const binary = key === "labels" || key === "mask";
      return [key, { data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => (binary ? (random() < 0.4 ? 1 : 0) : random())), shape: dims }];
    }),
  );
  return { inputs, targets };
}

/** All-ones dropout masks (dropout compared at rate 0). */
function onesMasks(step: TrainingStepGraph): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const mask of step.masks) {
    const rows = (mask.perBox ? step.boxes : BATCH) * mask.rows;
    feeds[mask.input] = new ort.Tensor("float32", new Float32Array(rows * mask.shape.reduce((a, b) => a * b, 1)).fill(1), [rows, ...mask.shape]);
  }
  return feeds;
}

/** The tfjs engine's loss (`tfjsTaskLoss`) and gradients of a localizer or a detector on a batch; updates the model's moving statistics. */
function tfjsTaskGradients(model: tf.LayersModel, graph: IrGraph, batch: TaskBatch): { loss: number; grads: Map<string, Float32Array> } {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const byVariable = new Map(model.trainableWeights.map((w) => [(w.read() as tf.Variable).name, w.originalName]));
  const { value, grads } = tf.variableGrads(() => tfjsTaskLoss(graph, model, batch, true), variables);
  const result = {
    loss: value.dataSync()[0]!,
    grads: new Map(Object.entries(grads).map(([name, g]) => [byVariable.get(name)!, g.dataSync() as Float32Array])),
  };
  tf.dispose([value, ...Object.values(grads)]);
  return result;
}

/**
 * Operators of the catalogue that no spec of specs/ uses (so neither the tiny specs here nor
 * every-spec.test.ts reach them): each trains too, and its gradient equals tfjs's.
 */
const CATALOGUE_SPECS: Record<string, string> = {
  "conv1d, tanh, gru over per-frame features": `network ops_sequence {
  classes = 3
  input video = clip(frames = 4, size = 16)
  f = video -> per_frame { conv2d(4, kernel = 3, stride = 2) -> relu -> global_avg_pool } -> conv1d(6, kernel = 3, pad = 1) -> tanh
  output f -> gru(5, sequences = "all") -> temporal_pool(mode = "max") -> dense(classes)
}`,
  "avgpool2d, split, slice, mul (a gate), silu, hard_sigmoid, hard_swish, gelu (both forms), sigmoid, global_max_pool": `network ops_image {
  classes = 3
  input image = image(size = 16)
  x = image -> conv2d(8, kernel = 3, pad = 1) -> silu -> avgpool2d(kernel = 2)
  a, b = x -> split(2)
  g = a -> global_avg_pool -> dense(4) -> hard_sigmoid
  y = [b, g] -> mul -> hard_swish -> slice(start = 1, end = 3) -> gelu -> conv2d(4, kernel = 3, pad = 1) -> gelu(approximate = "tanh") -> sigmoid
  output y -> global_max_pool -> dense(classes)
}`,
  'conv2plus1d, dilated and grouped conv3d, a strided "same" conv (asymmetric pads), maxpool3d with ceil': `network ops_clip {
  classes = 3
  input video = clip(frames = 4, size = 16)
  output video
    -> conv2plus1d(6, kernel = 3, stride = [1, 2, 2], pad = 1) -> bn -> relu
    -> conv3d(6, kernel = 3, dilation = 2, pad = 2, groups = 3) -> relu
    -> conv3d(8, kernel = [1, 3, 3], stride = [1, 2, 2], pad = "same", groups = 2) -> relu
    -> maxpool3d(kernel = [1, 2, 2], ceil = true) -> global_avg_pool -> dense(classes)
}`,
};

describe("ONNX training step: gradients equal the tfjs engine's", () => {
  const specs = fs.readdirSync(TINY).filter((f) => f.endsWith(".vnet"));
  const cases: [string, () => IrGraph][] = [
    ...specs.map((file): [string, () => IrGraph] => [file, () => checkSpec(path.join(TINY, file)).graph]),
    ...Object.entries(CATALOGUE_SPECS).map(([name, text]): [string, () => IrGraph] => [name, () => [...checkSource(text).values()][0]!.graph]),
  ];
  for (const [name, load] of cases) {
    it(name, async () => {
      const graph = load();
      const model = tfjsModel(graph, 7);
      const boxes = graph.task === "detection" ? BOXES : 0;
      const step = buildTrainingStep(graph, { batch: BATCH, boxes, optimizer: sgd, weightDecay: 0, mode: "gradients" });
      expect(step.diagnostics).toEqual([]);
      // A classifier's batch of clips and labels, or a localizer's / detector's inputs and targets.
      const batch = graph.task === "classification" ? makeBatch(step, 3) : undefined;
      const tasked = graph.task === "classification" ? undefined : makeTaskBatch(graph, step, 3);
      const feeds = { ...(batch ? batch.feeds : { ...taskFeeds(step, graph.task as TargetedTask, tasked!), ...onesMasks(step) }), ...stateFeeds(step, model) };
      const session = await ort.InferenceSession.create(step.bytes!, { logSeverityLevel: 3 });
      const result = await session.run(feeds);
      await session.release();

      /** The tfjs engine's loss and gradients, its inputs scaled by `jitter` (1 + jitter(x) per element). */
      const referenceOf = (jitter?: (t: tf.Tensor) => tf.Tensor) => {
        if (batch) return tfjsGradients(model, graph, jitter ? batch.tfjsInputs.map(jitter) : batch.tfjsInputs, batch.labels);
        const inputs = tasked!.inputs.map((t, i) =>
          jitter && !graph.inputs[i]!.boxes ? { data: tf.tidy(() => jitter(tf.tensor(t.data, [...t.shape])).dataSync() as Float32Array), shape: t.shape } : t,
        );
        return tfjsTaskGradients(model, graph, { inputs, targets: tasked!.targets });
      };
      const initial = model.getWeights().map((w) => w.clone());
      const reference = referenceOf();
      const byName = new Map(model.weights.map((w) => [w.originalName, w]));
      // tfjs updated the moving statistics during the call: the step's outputs must hold the same.
      for (const s of step.state.filter((t) => t.kind === "statistic")) {
        expect(
          relativeDiff(result[s.next!]!.data as Float32Array, byName.get(tfjsWeightName(s.decl!))!.read().dataSync(), 1e-6),
          `statistic ${s.input}`,
        ).toBeLessThan(1e-4);
      }
      expect(Math.abs((result[LOSS]!.data as Float32Array)[0]! - reference.loss), "loss").toBeLessThan(1e-4 * Math.max(1, Math.abs(reference.loss)));
      expect(step.gradients.size).toBe(reference.grads.size);
      const got = new Map(
        step.state
          .filter((t) => t.kind === "weight")
          .map((s) => [tfjsWeightName(s.decl!), toVnet(step, s.input, result[step.gradients.get(s.input)!]!.data as Float32Array)]),
      );
      /** The relative error of the whole gradient (every weight's, as one vector) and of the worst tensor. */
      const errors = (a: ReadonlyMap<string, Float32Array>, b: ReadonlyMap<string, Float32Array>) => {
        let squared = 0;
        let norm = 0;
        const perTensor = new Map<string, number>();
        for (const [name, want] of b) {
          const have = a.get(name)!;
          want.forEach((w, i) => {
            squared += (have[i]! - w) ** 2;
            norm += w ** 2;
          });
          perTensor.set(name, relativeDiff(have, want, 1e-6));
        }
        return { global: Math.sqrt(squared / norm), perTensor };
      };
      const error = errors(got, reference.grads);
      // Within 1e-4 as a whole and 1e-3 per tensor; beyond that, within the reference's own float32
      // noise, measured as its gradients for the inputs moved by about one ulp. (Where a tiny
      // network at batch 2 amplifies rounding, two correct float32 engines differ by more.)
      let noise = { global: 0, perTensor: new Map<string, number>() };
      if (error.global > 1e-4 || [...error.perTensor.values()].some((e) => e > 1e-3)) {
        model.setWeights(initial);
        noise = errors(
          referenceOf((t) => tf.tidy(() => tf.mul(t, tf.add(1, tf.mul(1.2e-7, tf.sub(tf.randomUniform(t.shape, 0, 1, "float32", 5), 0.5)))))).grads,
          reference.grads,
        );
      }
      for (const [name, e] of error.perTensor)
        expect(e, `gradient of ${name} (reference noise ${(noise.perTensor.get(name) ?? 0).toExponential(1)})`).toBeLessThan(
          Math.max(1e-3, 10 * (noise.perTensor.get(name) ?? 0)),
        );
      expect(error.global, `relative error of the gradient (reference noise ${noise.global.toExponential(1)})`).toBeLessThan(Math.max(1e-4, 10 * noise.global));
      tf.dispose([...initial, ...(batch?.tfjsInputs ?? [])]);
      model.dispose();
    });
  }
});

describe("ONNX training step: optimizer steps equal the tfjs engine's", () => {
  const lr = 0.01;
  const cases: { name: string; spec: OptimizerSpec; tfjs: () => tf.Optimizer; weightDecay: number; file: string }[] = [
    { name: "sgd + momentum + weight decay", spec: sgd, tfjs: () => tf.train.momentum(lr, 0.9, false), weightDecay: 1e-3, file: "tiny_cnn_2d.vnet" },
    {
      name: "nesterov",
      spec: { kind: "sgd", momentum: 0.8, nesterov: true },
      tfjs: () => tf.train.momentum(lr, 0.8, true),
      weightDecay: 0,
      file: "tiny_c3d.vnet",
    },
    {
      name: "adam + weight decay",
      spec: { kind: "adam", ...ADAM_DEFAULTS, decoupled: false },
      tfjs: () => tf.train.adam(lr),
      weightDecay: 1e-3,
      file: "tiny_c3d.vnet",
    },
  ];
  for (const c of cases) {
    it(`${c.name}: three steps of ${c.file}`, async () => {
      const { graph } = checkSpec(path.join(TINY, c.file));
      const model = tfjsModel(graph, 11);
      const step = buildTrainingStep(graph, { batch: BATCH, optimizer: c.spec, weightDecay: c.weightDecay });
      expect(step.diagnostics).toEqual([]);
      const session = await ort.InferenceSession.create(step.bytes!, { logSeverityLevel: 3 });
      let feeds = stateFeeds(step, model);
      const optimizer = c.tfjs();
      const objective = tfjsObjective(model, graph, { labelSmoothing: 0, weightDecay: c.weightDecay });
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      let accBeta1 = Math.fround(ADAM_DEFAULTS.beta1);
      let accBeta2 = Math.fround(ADAM_DEFAULTS.beta2);
      for (let k = 0; k < 3; k++) {
        const batch = makeBatch(step, 20 + k);
        const scalars: Record<string, ort.Tensor> = { [LEARNING_RATE]: new ort.Tensor("float32", Float32Array.of(lr), []) };
        if (step.adam) {
          scalars[BIAS_CORRECTION1] = new ort.Tensor("float32", Float32Array.of(Math.fround(1 - accBeta1)), []);
          scalars[BIAS_CORRECTION2] = new ort.Tensor("float32", Float32Array.of(Math.fround(1 - accBeta2)), []);
          accBeta1 = Math.fround(accBeta1 * Math.fround(ADAM_DEFAULTS.beta1));
          accBeta2 = Math.fround(accBeta2 * Math.fround(ADAM_DEFAULTS.beta2));
        }
        const result = await session.run({ ...feeds, ...batch.feeds, ...scalars });
        feeds = Object.fromEntries(
          step.state.map((s) => [s.input, s.next ? new ort.Tensor("float32", result[s.next]!.data as Float32Array, [...s.dims]) : feeds[s.input]!]),
        );
        const labels = tf.tensor1d(batch.labels, "int32");
        const loss = optimizer.minimize(() => objective(batch.tfjsInputs, labels).loss, true, variables)!;
        expect(Math.abs((result[LOSS]!.data as Float32Array)[0]! - loss.dataSync()[0]!), `loss at step ${k}`).toBeLessThan(1e-4);
        tf.dispose([loss, labels, ...batch.tfjsInputs]);
      }
      await session.release();
      const byName = new Map(model.weights.map((w) => [w.originalName, w]));
      for (const s of step.state.filter((t) => t.kind !== "slot")) {
        const got = toVnet(step, s.input, feeds[s.input]!.data as Float32Array);
        expect(relativeDiff(got, byName.get(tfjsWeightName(s.decl!))!.read().dataSync(), 1e-6), `${s.input} after 3 steps`).toBeLessThan(1e-4);
      }
      optimizer.dispose();
      model.dispose();
    });
  }
});

interface PyTorchCase {
  readonly onnx: string;
  readonly spec: string;
  readonly clips: { readonly shape: number[]; readonly seed: number };
  readonly labels: number[];
  readonly loss: number;
  readonly grads: Record<string, string>;
  readonly running: Record<string, string>;
}

const decode = (base64: string) => {
  const bytes = Buffer.from(base64, "base64");
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

/** The ONNX model's layers with other values in its tensors (gradients, statistics), so the importer maps those onto the spec's weights. */
function withValues(model: OnnxModel, values: (t: OnnxTensor) => Float32Array): OnnxModel {
  const tensor = (t: OnnxTensor): OnnxTensor => ({ ...t, values: values(t) });
  const layer = (l: OnnxLayer): OnnxLayer => {
    if (l.kind === "bn") return { ...l, scale: tensor(l.scale), bias: tensor(l.bias), mean: tensor(l.mean), variance: tensor(l.variance) };
    if (l.kind === "conv")
      return { ...l, weight: tensor(l.weight), ...(l.bias ? { bias: tensor(l.bias) } : {}), ...(l.bn ? { bn: layer(l.bn) as typeof l.bn } : {}) };
    return { ...l, weight: tensor(l.weight), ...(l.bias ? { bias: { tensor: tensor(l.bias.tensor), values: values(l.bias.tensor) } } : {}) };
  };
  return { ...model, layers: model.layers.map(layer) };
}

/** A PyTorch fixture's network and its ONNX file's weights mapped onto the spec's (and a mapper for other values in the same tensors). */
function pytorchStart(onnxFile: string, spec: string) {
  const { network, graph } = checkSpec(path.join(ROOT, spec));
  const onnxModel = readOnnx(fs.readFileSync(path.join(ROOT, "test/fixtures/onnx", onnxFile)));
  const at = { at: { file: network.file, range: network.range }, file: onnxFile };
  const mapped = (model: OnnxModel) => {
    const mapping = mapOnnxWeights(graph, model, at);
    expect(mapping.report.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    return mapping.weights;
  };
  /** The fixture's named tensors (PyTorch names, base64) on the spec's weights; zeros where it has none. */
  const named = (tensors: Readonly<Record<string, string>>) =>
    mapped(withValues(onnxModel, (t) => (tensors[t.name] ? decode(tensors[t.name]!) : new Float32Array(t.values.length))));
  const weights = mapped(onnxModel);
  const source: WeightSource = {
    description: onnxFile,
    shapeOf: (d) => weights.get(tfjsWeightName(d))?.shape,
    read: (d) => weights.get(tfjsWeightName(d))!.values,
  };
  return { network, graph, named, source };
}

/** The batch feeds of a PyTorch fixture's clips (vnet's generator from the seed) and labels; all-ones dropout masks (the modules have none). */
function pytorchBatch(
  step: TrainingStepGraph,
  clips: { readonly shape: readonly number[]; readonly seed: number },
  labels: readonly number[],
): Record<string, ort.Tensor> {
  const random = seededRandom(clips.seed);
  const data = Float32Array.from({ length: clips.shape.reduce((a, b) => a * b, 1) }, () => random());
  const onehot = new Float32Array(labels.length * step.classes);
  labels.forEach((l, i) => (onehot[i * step.classes + l] = 1));
  const feeds: Record<string, ort.Tensor> = {
    [step.inputs[0]!.name]: new ort.Tensor("float32", data, [...clips.shape]),
    [LABELS]: new ort.Tensor("float32", onehot, [labels.length, step.classes]),
  };
  for (const mask of step.masks)
    feeds[mask.input] = new ort.Tensor("float32", new Float32Array(labels.length * mask.rows * mask.shape.reduce((a, b) => a * b, 1)).fill(1), [
      labels.length * mask.rows,
      ...mask.shape,
    ]);
  return feeds;
}

/** The step's state feeds from a weight source (optimizer slots at zero). */
function sourceFeeds(step: TrainingStepGraph, source: WeightSource): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const s of step.state) {
    const values = s.kind === "slot" ? new Float32Array(s.dims.reduce((a, b) => a * b, 1)) : source.read(s.decl!);
    feeds[s.input] = new ort.Tensor("float32", s.layout && s.kind !== "slot" ? s.layout.toOnnx(values, s.decl!.shape).data : values, [...s.dims]);
  }
  return feeds;
}

describe("ONNX training step: gradients equal PyTorch autograd's (torchvision and PySlowFast fixtures)", () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(ROOT, "test/fixtures/training/pytorch_gradients.json"), "utf8")) as { cases: PyTorchCase[] };
  for (const c of fixture.cases) {
    it(`${c.onnx} on ${path.basename(c.spec)}`, async () => {
      const { graph, named, source } = pytorchStart(c.onnx, c.spec);
      const step = buildTrainingStep(graph, { batch: 2, optimizer: sgd, weightDecay: 0, mode: "gradients" });
      expect(step.diagnostics).toEqual([]);
      const feeds = { ...pytorchBatch(step, c.clips, c.labels), ...sourceFeeds(step, source) };
      const session = await ort.InferenceSession.create(step.bytes!, { logSeverityLevel: 3 });
      const result = await session.run(feeds);
      await session.release();

      expect(Math.abs((result[LOSS]!.data as Float32Array)[0]! - c.loss) / c.loss, "loss").toBeLessThan(1e-5);
      const gradients = named(c.grads);
      const running = named(c.running);
      let compared = 0;
      for (const s of step.state) {
        const name = tfjsWeightName(s.decl!);
        if (s.kind === "weight") {
          const got = toVnet(step, s.input, result[step.gradients.get(s.input)!]!.data as Float32Array);
          expect(relativeDiff(got, gradients.get(name)!.values, 1e-6), `gradient of ${s.input}`).toBeLessThan(1e-4);
          compared++;
        } else if (s.kind === "statistic") {
          expect(relativeDiff(result[s.next!]!.data as Float32Array, running.get(name)!.values, 1e-6), `statistic ${s.input}`).toBeLessThan(1e-5);
          compared++;
        }
      }
      expect(compared).toBe(graph.nodes.flatMap((n) => n.weights ?? []).filter((w) => w.trainable || w.role.startsWith("moving")).length);
    });
  }
});

interface PyTorchSteps {
  readonly onnx: string;
  readonly spec: string;
  readonly optimizer: "sgd" | "adam" | "adamw";
  readonly settings: { readonly lr: number; readonly momentum?: number; readonly nesterov?: boolean; readonly weight_decay: number };
  readonly batches: { readonly shape: number[]; readonly seed: number; readonly labels: number[] }[];
  readonly losses: number[];
  readonly params: Record<string, string>;
  readonly running: Record<string, string>;
}

describe("ONNX training step: optimizer steps equal torch.optim's (SGD + Nesterov + weight decay, Adam, AdamW)", () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(ROOT, "test/fixtures/training/pytorch_steps.json"), "utf8")) as { steps: number; cases: PyTorchSteps[] };
  for (const c of fixture.cases) {
    it(`${c.batches.length} ${c.optimizer} steps of ${c.onnx} on ${path.basename(c.spec)}`, async () => {
      const { graph, named, source } = pytorchStart(c.onnx, c.spec);
      const optimizer: OptimizerSpec =
        c.optimizer === "sgd"
          ? { kind: "sgd", momentum: c.settings.momentum!, nesterov: c.settings.nesterov! }
          : { kind: "adam", ...ADAM_DEFAULTS, decoupled: c.optimizer === "adamw" };
      const step = buildTrainingStep(graph, { batch: 2, optimizer, weightDecay: c.settings.weight_decay });
      expect(step.diagnostics).toEqual([]);
      const session = await ort.InferenceSession.create(step.bytes!, { logSeverityLevel: 3 });
      let state = sourceFeeds(step, source);
      for (const [k, b] of c.batches.entries()) {
        const scalars: Record<string, ort.Tensor> = { [LEARNING_RATE]: new ort.Tensor("float32", Float32Array.of(c.settings.lr), []) };
        if (step.adam) {
          scalars[BIAS_CORRECTION1] = new ort.Tensor("float32", Float32Array.of(1 - ADAM_DEFAULTS.beta1 ** (k + 1)), []);
          scalars[BIAS_CORRECTION2] = new ort.Tensor("float32", Float32Array.of(1 - ADAM_DEFAULTS.beta2 ** (k + 1)), []);
        }
        const result = await session.run({ ...state, ...pytorchBatch(step, b, b.labels), ...scalars });
        expect(Math.abs((result[LOSS]!.data as Float32Array)[0]! - c.losses[k]!) / c.losses[k]!, `loss at step ${k + 1}`).toBeLessThan(1e-5);
        state = Object.fromEntries(
          step.state.map((s) => [s.input, s.next ? new ort.Tensor("float32", result[s.next]!.data as Float32Array, [...s.dims]) : state[s.input]!]),
        );
      }
      await session.release();
      const params = named(c.params);
      const running = named(c.running);
      let compared = 0;
      for (const s of step.state.filter((t) => t.kind !== "slot")) {
        const want = (s.kind === "weight" ? params : running).get(tfjsWeightName(s.decl!))!.values;
        expect(
          relativeDiff(toVnet(step, s.input, state[s.input]!.data as Float32Array), want, 1e-6),
          `${s.input} after ${c.batches.length} steps`,
        ).toBeLessThan(1e-4);
        compared++;
      }
      expect(compared).toBe(Object.keys(c.params).length + Object.keys(c.running).length);
    });
  }
});
