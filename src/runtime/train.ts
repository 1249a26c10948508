/**
 * Training of a compiled spec on a video dataset (a builtin in-memory one or videos on disk):
 * a custom loop (not `model.fit`) so that the optimizer state can be checkpointed and restored
 * exactly, the learning rate follows the spec's schedule per step, and a non-finite loss stops
 * training before it damages the last good checkpoint. Clips are sampled per the spec's
 * `sampling` section and loaded ahead by worker threads; a video that fails to load is reported
 * and left out of the rest of training. Each epoch ends with a validation pass over one centre
 * clip per video (`vnet eval` applies the full test protocol). A two-stream score fusion with
 * `train = "separate"` trains each stream on its own cross-entropy (Simonyan & Zisserman):
 * their sum, as the streams share no weights, gives each stream exactly its own gradient.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { emitTfjs } from "../backends/tfjs/emit.js";
import { memorySplits, type VideoItem, type VideoSplits } from "../data/dataset.js";
import { flowStreams } from "../data/flow.js";
import { formatIssue, issueOf, type DataIssue } from "../data/issues.js";
import { ViewLoader, type ViewTask } from "../data/loader.js";
import { seededRandom, type VideoDataset } from "../data/motion.js";
import { testPlans, trainPlans } from "../data/sampling.js";
import type { IrGraph } from "../ir/graph.js";
import { lossHeads, outputScores, type OutputScores } from "../ir/scores.js";
import type { CheckedNetwork } from "../semantics/network.js";
import { softmaxCrossEntropy } from "../semantics/tasks/classification.js";
import { modelFromCheckpoint } from "../weights/model.js";
import { videoOutputs, type ViewReading } from "./evaluate.js";
import { saveModel } from "./model-io.js";
import { graphFeeds } from "./streams.js";
import { TFJS_ALGEBRA } from "./tensor-algebra.js";

/** Optimizer and schedule: the spec's `training` section, overridden by flags. */
export interface TrainingConfig {
  readonly optimizer: "sgd" | "adam";
  readonly lr: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  readonly schedule: "constant" | "step" | "cosine";
  readonly steps: readonly number[];
  readonly gamma: number;
  readonly warmup: number;
  readonly epochs: number;
  readonly batch: number;
  readonly labelSmoothing: number;
}

/** The training configuration of a spec (its `training` section with defaults) with overrides applied. */
export function trainingConfig(network: CheckedNetwork, overrides: Partial<TrainingConfig> = {}): TrainingConfig {
  const section = network.sections.training ?? {};
  const get = <T>(key: string, fallback: T): T => (section[key] as T | undefined) ?? fallback;
  return {
    optimizer: get("optimizer", "sgd"),
    lr: get("lr", 0.01),
    momentum: get("momentum", 0.9),
    nesterov: get("nesterov", false),
    weightDecay: get("weight_decay", 0),
    schedule: get("schedule", "constant"),
    steps: get("steps", [] as number[]),
    gamma: get("gamma", 0.1),
    warmup: get("warmup", 0),
    epochs: get("epochs", 10),
    batch: get("batch", 8),
    labelSmoothing: get("label_smoothing", 0),
    ...overrides,
  };
}

/** Learning rate at a (fractional) epoch: linear warm-up, then the schedule. */
export function learningRateAt(config: TrainingConfig, epoch: number): number {
  if (config.warmup > 0 && epoch < config.warmup) return (config.lr * (epoch + 1e-3)) / config.warmup;
  switch (config.schedule) {
    case "constant":
      return config.lr;
    case "step":
      return config.lr * config.gamma ** config.steps.filter((s) => epoch >= s).length;
    case "cosine": {
      const span = Math.max(config.epochs - config.warmup, 1e-9);
      return 0.5 * config.lr * (1 + Math.cos((Math.PI * (epoch - config.warmup)) / span));
    }
  }
}

export interface EpochMetrics {
  readonly epoch: number;
  readonly lr: number;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly valLoss: number;
  readonly valAccuracy: number;
  readonly seconds: number;
  readonly clipsPerSecond: number;
}

export interface TrainOptions {
  readonly config: TrainingConfig;
  /** Written here: metrics.jsonl and checkpoint/ (model, optimizer state, progress). */
  readonly runDir: string;
  readonly seed?: number;
  /** Continue from runDir's checkpoint. */
  readonly resume?: boolean;
  /** Sets starting weights (`--init`) on the freshly built model; not called when resuming. */
  readonly init?: (model: tf.LayersModel) => void;
  /** Progress text (a `\r`-updated bar); called often. */
  readonly progress?: (line: string, done: boolean) => void;
  /** Messages (resumed from, NaN stop, skipped videos). */
  readonly log?: (line: string) => void;
  /** Called after each epoch's metrics are written to metrics.jsonl (`vnet train --plot` redraws the curves). */
  readonly onEpoch?: (metrics: EpochMetrics) => void | Promise<void>;
  /** Video loading: worker threads, clips loaded ahead, probe and flow cache directory. */
  readonly loading?: { readonly workers?: number; readonly prefetch?: number; readonly cacheDir?: string };
}

export interface TrainResult {
  readonly model: tf.LayersModel;
  readonly history: readonly EpochMetrics[];
  /** Set when training stopped early (non-finite loss). */
  readonly stopped?: string;
  /** Videos that failed to load during training and were left out. */
  readonly issues: readonly DataIssue[];
}

const CHECKPOINT = "checkpoint";

interface Progress {
  readonly epoch: number;
  readonly seed: number;
  readonly network: string;
  readonly optimizer: string;
  /** The dataset's class names, in label order. */
  readonly classNames?: readonly string[];
  readonly optimizerWeights: { name: string; shape: number[] }[];
  /** Adam's running beta powers, which its setWeights recomputes with a different rounding. */
  readonly optimizerScalars?: Record<string, number>;
}

/** Optimizer variables that `getWeights` leaves out (Adam's accumulated beta powers). */
const HIDDEN_SCALARS = ["accBeta1", "accBeta2"] as const;

function hiddenScalars(optimizer: tf.Optimizer): Record<string, tf.Variable> {
  const fields = optimizer as unknown as Record<string, unknown>;
  return Object.fromEntries(HIDDEN_SCALARS.filter((k) => fields[k] instanceof tf.Variable).map((k) => [k, fields[k] as tf.Variable]));
}

/** The checkpoint directory of a run dir (or the directory itself when it is a checkpoint). */
export function checkpointDir(runOrCheckpoint: string): string {
  if (fs.existsSync(path.join(runOrCheckpoint, "model.json"))) return runOrCheckpoint;
  const current = path.join(runOrCheckpoint, CHECKPOINT);
  // A crash between the two renames of `writeCheckpoint` leaves only the previous one.
  return fs.existsSync(current) ? current : `${current}.old`;
}

/** The class names a checkpoint was trained with, when it records them. */
export function checkpointClassNames(dir: string): string[] | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, "progress.json"), "utf8")) as Progress).classNames?.slice();
  } catch {
    return undefined;
  }
}

function makeOptimizer(config: TrainingConfig): tf.Optimizer {
  return config.optimizer === "adam" ? tf.train.adam(config.lr) : tf.train.momentum(config.lr, config.momentum, config.nesterov);
}

function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  // SGD and momentum keep the rate as a tensor (setLearningRate); Adam reads its `learningRate` field on every step.
  const withSetter = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof withSetter.setLearningRate === "function") withSetter.setLearningRate(lr);
  else withSetter.learningRate = lr;
}

/**
 * Writes model + optimizer state + progress to a temporary directory, then swaps it in with
 * renames, so a crash leaves either the old or the new checkpoint, never a torn one.
 */
async function writeCheckpoint(runDir: string, model: tf.LayersModel, optimizer: tf.Optimizer, progress: Omit<Progress, "optimizerWeights">): Promise<void> {
  const target = path.join(runDir, CHECKPOINT);
  const temp = `${target}.tmp-${process.pid}`;
  fs.rmSync(temp, { recursive: true, force: true });
  await saveModel(model, temp);
  const named = await optimizer.getWeights();
  const data = await Promise.all(named.map((w) => w.tensor.data() as Promise<Float32Array>));
  const total = data.reduce((n, d) => n + d.length, 0);
  const buffer = new Float32Array(total);
  let offset = 0;
  for (const d of data) buffer.set(d, offset), (offset += d.length);
  fs.writeFileSync(path.join(temp, "optimizer.bin"), Buffer.from(buffer.buffer));
  const scalars: Record<string, number> = {};
  for (const [key, variable] of Object.entries(hiddenScalars(optimizer))) scalars[key] = (await variable.data())[0]!;
  const full: Progress = { ...progress, optimizerWeights: named.map((w) => ({ name: w.name, shape: w.tensor.shape })), optimizerScalars: scalars };
  fs.writeFileSync(path.join(temp, "progress.json"), JSON.stringify(full, null, 2));
  const old = `${target}.old`;
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(target)) fs.renameSync(target, old);
  fs.renameSync(temp, target);
  fs.rmSync(old, { recursive: true, force: true });
}

async function readCheckpoint(dir: string, optimizer: tf.Optimizer, graph: IrGraph): Promise<{ model: tf.LayersModel; progress: Progress }> {
  // The spec's own model with the checkpoint's weights by name (src/weights), not the stored topology.
  const model = await modelFromCheckpoint(graph, dir);
  const progress = JSON.parse(fs.readFileSync(path.join(dir, "progress.json"), "utf8")) as Progress;
  const bytes = fs.readFileSync(path.join(dir, "optimizer.bin"));
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  let offset = 0;
  const weights = progress.optimizerWeights.map((w) => {
    const size = w.shape.reduce((a, b) => a * b, 1);
    const tensor = tf.tensor(values.subarray(offset, offset + size), w.shape);
    offset += size;
    return { name: w.name, tensor };
  });
  if (weights.length) await optimizer.setWeights(weights);
  const hidden = hiddenScalars(optimizer);
  for (const [key, value] of Object.entries(progress.optimizerScalars ?? {})) hidden[key]?.assign(tf.scalar(value));
  return { model, progress };
}

/** A deterministic permutation of 0..n-1 for one epoch, so a resumed run sees the same order. */
function epochOrder(n: number, seed: number, epoch: number): number[] {
  const random = seededRandom((seed * 1000003 + epoch * 7919 + 17) >>> 0);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

function bar(fraction: number, width = 20): string {
  const filled = Math.round(fraction * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

/**
 * What training backpropagates through: a model sharing the trained model's layers whose outputs
 * are the tensors the loss is taken over (`lossHeads`: the output, or each stream's scores for a
 * score fusion trained separately; `heads` indexes them), each made logits by `logits`, and the
 * network's output (`fused`, for the accuracy).
 * Logits are the IR's: a logits output itself, the input of a final softmax, or the logarithm of
 * other probabilities (log-probabilities, whose softmax gives them back).
 */
function trainingModel(model: tf.LayersModel, graph: IrGraph): { model: tf.LayersModel; heads: number[]; logits: ((output: tf.Tensor) => tf.Tensor)[]; fused: number } {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  // Each tensor once (tfjs gives no value for a repeated output): the heads, then the output.
  const outputs: tf.SymbolicTensor[] = [];
  const indexOf = (tensor: tf.SymbolicTensor) => {
    const known = outputs.indexOf(tensor);
    return known >= 0 ? known : outputs.push(tensor) - 1;
  };
  const heads: number[] = [];
  const logits: ((output: tf.Tensor) => tf.Tensor)[] = [];
  for (const head of lossHeads(graph)) {
    const { kind, softmaxInput } = head.scores;
    const node = kind === "probabilities" && softmaxInput !== undefined ? softmaxInput : head.node;
    heads.push(indexOf(model.getLayer(byId.get(node)!.name).output as tf.SymbolicTensor));
    logits.push(kind === "logits" || softmaxInput !== undefined ? (t) => t : (t) => tf.log(tf.add(t, 1e-8)));
  }
  const fused = indexOf(model.outputs[0]!);
  return { model: tf.model({ inputs: model.inputs, outputs }), heads, logits, fused };
}

/** Cross-entropy of one example's scores of the IR's kind. */
function exampleLogProbability(row: Float32Array, label: number, scores: OutputScores): number {
  if (scores.kind === "probabilities") return Math.log(row[label]! + 1e-8);
  const max = Math.max(...row);
  return row[label]! - max - Math.log(row.reduce((sum, v) => sum + Math.exp(v - max), 0));
}

/** What the tfjs engine minimises on a batch, and the fused scores accuracy is read from. */
export type TfjsObjective = (inputs: readonly tf.Tensor[], labels: tf.Tensor1D) => { loss: tf.Scalar; fused: tf.Tensor };

/**
 * The tfjs engine's training objective for a model of a lowered graph: softmax cross-entropy of the
 * output's logits as the IR says (of each tower's for a separately trained score fusion, summed),
 * with label smoothing, plus the L2
 * term wd / 2 * sum(w^2) of every kernel. Runs the model in training mode (batch statistics,
 * dropout), so batch-norm moving statistics are updated by each call.
 */
export function tfjsObjective(model: tf.LayersModel, graph: IrGraph, config: Pick<TrainingConfig, "labelSmoothing" | "weightDecay">): TfjsObjective {
  const trained = trainingModel(model, graph);
  // L2 decay on kernels only, as the usual recipes exclude biases and batch-norm parameters.
  const decayed = model.trainableWeights.filter((w) => /kernel/.test(w.name)).map((w) => w.read());
  return (inputs, labels) => {
    const applied = trained.model.apply(inputs.length === 1 ? inputs[0]! : [...inputs], { training: true }) as tf.Tensor | tf.Tensor[];
    const outputs = Array.isArray(applied) ? applied : [applied];
    const fused = outputs[trained.fused]!;
    const onehot = tf.oneHot(labels, fused.shape[1]!);
    // One loss per head: the output's, or each stream's for a separately trained score fusion.
    const losses = trained.logits.map((logits, k) => softmaxCrossEntropy(TFJS_ALGEBRA, logits(outputs[trained.heads[k]!]!), onehot, config.labelSmoothing));
    let loss = (losses.length === 1 ? losses[0]! : tf.addN(losses)) as tf.Scalar;
    if (config.weightDecay > 0 && decayed.length) loss = tf.add(loss, tf.mul(config.weightDecay / 2, tf.addN(decayed.map((w) => tf.sum(tf.square(w)))))) as tf.Scalar;
    return { loss, fused };
  };
}

/** Loss and accuracy of a model on a split (inference mode), one centre clip per video, of the IR's kind of scores. */
export async function evaluateLoss(model: tf.LayersModel, graph: IrGraph, items: readonly VideoItem[], reading: ViewReading): Promise<{ loss: number; accuracy: number }> {
  const outputs = await videoOutputs(model, graph, items, (item) => testPlans(reading.protocol, item.source.meta, 1, "center"), reading);
  const scores = outputScores(graph);
  let loss = 0;
  let correct = 0;
  let count = 0;
  outputs.forEach((row, i) => {
    if (!row) return;
    const label = items[i]!.label;
    loss -= exampleLogProbability(row, label, scores);
    if (row.indexOf(Math.max(...row)) === label) correct++;
    count++;
  });
  return { loss: count ? loss / count : NaN, accuracy: count ? correct / count : NaN };
}

/** Training data: a builtin in-memory dataset (its clips) or opened video splits. */
export type TrainingData = VideoDataset | VideoSplits;

function splitsOf(data: TrainingData): VideoSplits {
  return "issues" in data ? data : memorySplits(data);
}

/** Trains a network (its lowered graph) on a dataset, validating, logging and checkpointing every epoch. */
export async function trainNetwork(graph: IrGraph, data: TrainingData, options: TrainOptions): Promise<TrainResult> {
  const { config, runDir } = options;
  const seed = options.seed ?? 0;
  const splits = splitsOf(data);
  const protocol = graph.protocol;
  if (!protocol) throw new Error(`${graph.name} has no clip or image input for the data pipeline to fill`);
  const flows = flowStreams(graph);
  fs.mkdirSync(runDir, { recursive: true });
  const metricsFile = path.join(runDir, "metrics.jsonl");
  const optimizer = makeOptimizer(config);
  let model: tf.LayersModel;
  let firstEpoch = 0;
  if (options.resume) {
    const dir = checkpointDir(runDir);
    if (!fs.existsSync(path.join(dir, "progress.json"))) throw new Error(`--resume: no checkpoint in ${runDir}`);
    const restored = await readCheckpoint(dir, optimizer, graph);
    model = restored.model;
    firstEpoch = restored.progress.epoch;
    options.log?.(`resuming ${graph.name} after epoch ${firstEpoch} from ${dir}`);
    // Metrics of epochs after the checkpoint belong to a run that did not finish them.
    if (fs.existsSync(metricsFile)) {
      const kept = fs.readFileSync(metricsFile, "utf8").split("\n").filter((line) => line && (JSON.parse(line) as { epoch: number }).epoch <= firstEpoch);
      fs.writeFileSync(metricsFile, kept.map((l) => `${l}\n`).join(""));
    }
  } else {
    const compiled = emitTfjs(graph, { seed });
    if (!compiled.model) throw new Error(`${graph.name} does not compile to tfjs: ${compiled.diagnostics.map((d) => d.message).join("; ")}`);
    model = compiled.model;
    options.init?.(model);
    fs.rmSync(metricsFile, { force: true });
  }
  // The exported model carries what predicting with it needs: class names and the test protocol.
  model.setUserDefinedMetadata({ vnet: { network: graph.name, classNames: splits.classNames, sampling: protocol } });
  const objective = tfjsObjective(model, graph, config);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const loader = new ViewLoader({ geometry: protocol, flows, ...options.loading });
  const issues: DataIssue[] = [];
  const bad = new Set<string>();
  const fail = (item: VideoItem, error: Error) => {
    if (bad.has(item.name)) return;
    bad.add(item.name);
    const issue = issueOf(error);
    issues.push(issue);
    options.progress?.("", true);
    options.log?.(formatIssue(issue));
  };
  const reading: ViewReading = { loader, protocol, flows, batch: config.batch, onFailure: fail };
  const history: EpochMetrics[] = [];
  try {
    for (let epoch = firstEpoch; epoch < config.epochs; epoch++) {
      const started = performance.now();
      const tasks = splits.train.flatMap((item, i): (ViewTask & { item: VideoItem })[] =>
        bad.has(item.name) ? [] : trainPlans(protocol, item.source.meta, seededRandom((seed * 1000003 + epoch * 7919 + i * 104729 + 31) >>> 0)).map((plan) => ({ source: item.source, plan, item })),
      );
      const ordered = epochOrder(tasks.length, seed, epoch).map((k) => tasks[k]!);
      const stepsPerEpoch = Math.ceil(ordered.length / config.batch);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let step = 0;
      let lr = learningRateAt(config, epoch);
      for await (const batch of loader.batches(ordered, config.batch, (task, error) => fail(task.item, error))) {
        lr = learningRateAt(config, epoch + step / stepsPerEpoch);
        setLearningRate(optimizer, lr);
        const inputs = graphFeeds(graph, batch.views, flows);
        const labels = tf.tensor1d(batch.tasks.map((t) => t.item.label), "int32");
        let hits: tf.Tensor | undefined;
        const loss = optimizer.minimize(
          () => {
            const { loss: total, fused } = objective(inputs, labels);
            hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(fused, 1), labels), "float32")));
            return total;
          },
          true,
          variables,
        )!;
        const value = (await loss.data())[0]!;
        correct += (await hits!.data())[0]!;
        tf.dispose([loss, hits!, labels, ...inputs]);
        if (!Number.isFinite(value)) {
          const message = `loss became ${value} at epoch ${epoch + 1}, step ${step + 1} (lr ${lr.toPrecision(3)}); training stopped. The last good checkpoint (after epoch ${epoch}) is kept in ${path.join(runDir, CHECKPOINT)}; try a lower --lr`;
          options.progress?.("", true);
          options.log?.(message);
          return { model, history, stopped: message, issues };
        }
        step++;
        lossSum += value * batch.tasks.length;
        seen += batch.tasks.length;
        const elapsed = (performance.now() - started) / 1000;
        options.progress?.(`epoch ${epoch + 1}/${config.epochs} ${bar(step / stepsPerEpoch)} ${step}/${stepsPerEpoch} loss ${(lossSum / seen).toFixed(4)} acc ${(correct / seen).toFixed(3)} ${(seen / elapsed).toFixed(1)} clips/s`, false);
      }
      if (seen === 0) throw new Error(`no training clip of ${splits.name} could be loaded`);
      const trainSeconds = (performance.now() - started) / 1000;
      const val = await evaluateLoss(model, graph, splits.val.filter((item) => !bad.has(item.name)), reading);
      const metrics: EpochMetrics = {
        epoch: epoch + 1,
        lr,
        trainLoss: lossSum / seen,
        trainAccuracy: correct / seen,
        valLoss: val.loss,
        valAccuracy: val.accuracy,
        seconds: (performance.now() - started) / 1000,
        clipsPerSecond: seen / trainSeconds,
      };
      history.push(metrics);
      options.progress?.(
        `epoch ${epoch + 1}/${config.epochs} ${bar(1)} loss ${metrics.trainLoss.toFixed(4)} acc ${metrics.trainAccuracy.toFixed(3)} | val loss ${val.loss.toFixed(4)} acc ${val.accuracy.toFixed(3)} | ${metrics.clipsPerSecond.toFixed(1)} clips/s`,
        true,
      );
      fs.appendFileSync(metricsFile, `${JSON.stringify(metrics)}\n`);
      await options.onEpoch?.(metrics);
      await writeCheckpoint(runDir, model, optimizer, { epoch: epoch + 1, seed, network: graph.name, optimizer: config.optimizer, classNames: splits.classNames });
    }
  } finally {
    await loader.close();
  }
  return { model, history, issues };
}
