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
 * The run directory is locked while training (run.ts) and every epoch's checkpoint is written
 * crash-safely through checkpoint.ts; an aborted `signal` stops training after the current step.
 */
import * as tf from "@tensorflow/tfjs";
import { compileToTfjs } from "../backends/tfjs/compile.js";
import { memorySplits, type VideoItem, type VideoSplits } from "../data/dataset.js";
import { flowStreams } from "../data/flow.js";
import { formatIssue, issueOf, type DataIssue } from "../data/issues.js";
import { ViewLoader, type ViewTask } from "../data/loader.js";
import { seededRandom, type VideoDataset } from "../data/motion.js";
import { protocolOf, testPlans, trainPlans } from "../data/sampling.js";
import type { CheckedNetwork } from "../semantics/network.js";
import { softmaxCrossEntropy } from "../semantics/tasks/classification.js";
import { outputsProbabilities, videoOutputs, type ViewReading } from "./evaluate.js";
import { readCheckpoint, recoverCheckpoint, writeCheckpoint, type CheckpointInfo, type CheckpointState, type OptimizerState, type Tensor } from "./checkpoint.js";
import { checkArchitecture, modelState } from "./model-io.js";
import { appendMetrics, clearMetrics, lockRun, truncateMetrics } from "./run.js";
import { assignWeights } from "./weights/tensors.js";
import { viewInputs } from "./streams.js";
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
  /** Aborted (SIGINT, SIGTERM): training stops after the current step, keeping the last checkpoint. */
  readonly signal?: AbortSignal;
  /** Recorded in every checkpoint: the spec's hash (checkpoint.ts `programHash`) and the run's settings, for `--resume`. */
  readonly specHash?: string;
  readonly settings?: Readonly<Record<string, unknown>>;
}

export interface TrainResult {
  readonly model: tf.LayersModel;
  readonly history: readonly EpochMetrics[];
  /** Set when training stopped early (non-finite loss, interrupted): what happened and what is kept. */
  readonly stopped?: string;
  /** Stopped by `signal`. */
  readonly interrupted?: boolean;
  /** The run's last complete checkpoint (written by this run or resumed from), if there is one. */
  readonly checkpoint?: { readonly dir: string; readonly epoch: number };
  /** Videos that failed to load during training and were left out. */
  readonly issues: readonly DataIssue[];
}

/** Optimizer variables that `getWeights` leaves out (Adam's accumulated beta powers). */
const HIDDEN_SCALARS = ["accBeta1", "accBeta2"] as const;

function hiddenScalars(optimizer: tf.Optimizer): Record<string, tf.Variable> {
  const fields = optimizer as unknown as Record<string, unknown>;
  return Object.fromEntries(HIDDEN_SCALARS.filter((k) => fields[k] instanceof tf.Variable).map((k) => [k, fields[k] as tf.Variable]));
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

/** The tfjs engine's checkpoint: the model's topology and weights and the optimizer's state, as checkpoint.ts stores them. */
async function checkpointState(model: tf.LayersModel, optimizer: tf.Optimizer, optimizerName: string, info: CheckpointInfo): Promise<CheckpointState> {
  const { topology, weights, extra } = await modelState(model);
  const named = await optimizer.getWeights();
  const tensors = new Map<string, Tensor>();
  for (const w of named) tensors.set(w.name, { shape: w.tensor.shape, values: (await w.tensor.data()) as Float32Array });
  const scalars: Record<string, number> = {};
  for (const [key, variable] of Object.entries(hiddenScalars(optimizer))) scalars[key] = (await variable.data())[0]!;
  return { topology, weights, optimizer: { name: optimizerName, tensors, scalars }, info, modelJson: extra };
}

/** Restores an optimizer's state from a checkpoint (before its first step). */
async function restoreOptimizer(optimizer: tf.Optimizer, state: OptimizerState): Promise<void> {
  const weights = [...state.tensors].map(([name, t]) => ({ name, tensor: tf.tensor(t.values, [...t.shape]) }));
  if (weights.length) await optimizer.setWeights(weights);
  const hidden = hiddenScalars(optimizer);
  for (const [key, value] of Object.entries(state.scalars)) hidden[key]?.assign(tf.scalar(value));
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

/** Log-probabilities or logits of an output: a probability output (softmax) goes back to log space. */
function logitsOf(layer: tf.layers.Layer, output: tf.Tensor): tf.Tensor {
  return outputsProbabilities(layer) ? tf.log(tf.add(output, 1e-8)) : output;
}

function bar(fraction: number, width = 20): string {
  const filled = Math.round(fraction * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

/**
 * What training backpropagates through: the model itself, or, for a score fusion trained
 * separately, a model sharing its layers whose outputs are each stream's scores (the losses) and
 * the fused scores (the accuracy).
 */
function trainingGraph(model: tf.LayersModel, network: CheckedNetwork): { graph: tf.LayersModel; heads: tf.layers.Layer[] } {
  const last = model.layers[model.layers.length - 1]!;
  const fusion = network.layers.find((l) => l.op === "score_fusion" && network.outputs.includes(l.id));
  if (last.getClassName() !== "VnetScoreFusion" || !fusion || fusion.args.train === "joint") return { graph: model, heads: [last] };
  const towers = last.input as tf.SymbolicTensor[];
  const graph = tf.model({ inputs: model.inputs, outputs: [...towers, model.outputs[0]!] });
  return { graph, heads: towers.map((t) => t.sourceLayer as tf.layers.Layer) };
}

/** What the tfjs engine minimises on a batch, and the fused scores accuracy is read from. */
export type TfjsObjective = (inputs: readonly tf.Tensor[], labels: tf.Tensor1D) => { loss: tf.Scalar; fused: tf.Tensor };

/**
 * The tfjs engine's training objective for a model: softmax cross-entropy of the output (of each
 * tower's output for a separately trained score fusion, summed), with label smoothing, plus the L2
 * term wd / 2 * sum(w^2) of every kernel. Runs the model in training mode (batch statistics,
 * dropout), so batch-norm moving statistics are updated by each call.
 */
export function tfjsObjective(model: tf.LayersModel, network: CheckedNetwork, config: Pick<TrainingConfig, "labelSmoothing" | "weightDecay">): TfjsObjective {
  const { graph, heads } = trainingGraph(model, network);
  // L2 decay on kernels only, as the usual recipes exclude biases and batch-norm parameters.
  const decayed = model.trainableWeights.filter((w) => /kernel/.test(w.name)).map((w) => w.read());
  return (inputs, labels) => {
    const raw = graph.apply(inputs.length === 1 ? inputs[0]! : [...inputs], { training: true }) as tf.Tensor | tf.Tensor[];
    const outputs = Array.isArray(raw) ? raw : [raw];
    const fused = logitsOf(heads[heads.length - 1]!, outputs[outputs.length - 1]!);
    const onehot = tf.oneHot(labels, fused.shape[1]!);
    // One head: the model's output; separate streams: each tower's scores (the fused output is last, unused).
    const trained = heads.length === 1 ? [fused] : heads.map((layer, k) => logitsOf(layer, outputs[k]!));
    let loss = tf.addN(trained.map((logits) => softmaxCrossEntropy(TFJS_ALGEBRA, logits, onehot, config.labelSmoothing))) as tf.Scalar;
    if (config.weightDecay > 0 && decayed.length) loss = tf.add(loss, tf.mul(config.weightDecay / 2, tf.addN(decayed.map((w) => tf.sum(tf.square(w)))))) as tf.Scalar;
    return { loss, fused };
  };
}

/** Loss and accuracy of a model on a split (inference mode), one centre clip per video. */
export async function evaluateLoss(model: tf.LayersModel, network: CheckedNetwork, items: readonly VideoItem[], reading: ViewReading): Promise<{ loss: number; accuracy: number }> {
  const outputs = await videoOutputs(model, network, items, (item) => testPlans(reading.protocol, item.source.meta, 1, "center"), reading);
  const probabilities = outputsProbabilities(model.layers[model.layers.length - 1]!);
  let loss = 0;
  let correct = 0;
  let count = 0;
  outputs.forEach((row, i) => {
    if (!row) return;
    const label = items[i]!.label;
    const max = Math.max(...row);
    const logProb = probabilities ? Math.log(row[label]! + 1e-8) : row[label]! - max - Math.log(row.reduce((sum, v) => sum + Math.exp(v - max), 0));
    loss -= logProb;
    if (row.indexOf(max) === label) correct++;
    count++;
  });
  return { loss: count ? loss / count : NaN, accuracy: count ? correct / count : NaN };
}

/** Training data: a builtin in-memory dataset (its clips) or opened video splits. */
export type TrainingData = VideoDataset | VideoSplits;

function splitsOf(data: TrainingData): VideoSplits {
  return "issues" in data ? data : memorySplits(data);
}

/** Trains a network on a dataset, validating, logging and checkpointing every epoch. */
export async function trainNetwork(network: CheckedNetwork, data: TrainingData, options: TrainOptions): Promise<TrainResult> {
  const seed = options.seed ?? 0;
  const splits = splitsOf(data);
  // One trainer per run directory; released however training ends.
  const lock = lockRun(options.runDir);
  try {
    return await trainLocked(network, splits, options, seed);
  } finally {
    lock.release();
  }
}

async function trainLocked(network: CheckedNetwork, splits: VideoSplits, options: TrainOptions, seed: number): Promise<TrainResult> {
  const { config, runDir } = options;
  const protocol = protocolOf(network);
  const flows = flowStreams(network);
  const optimizer = makeOptimizer(config);
  const compiled = compileToTfjs(network, { seed });
  if (!compiled.model) throw new Error(`${network.name} does not compile to tfjs: ${compiled.diagnostics.map((d) => d.message).join("; ")}`);
  const model = compiled.model;
  let firstEpoch = 0;
  let checkpoint: { dir: string; epoch: number } | undefined;
  if (options.resume) {
    // The newest complete checkpoint, put back in place if a crash left it elsewhere.
    const found = recoverCheckpoint(runDir);
    const restored = readCheckpoint(found.dir);
    checkArchitecture(network, restored.weights, found.dir, network.file, restored.progress.network);
    assignWeights(model, restored.weights);
    await restoreOptimizer(optimizer, restored.optimizer);
    firstEpoch = restored.progress.epoch;
    checkpoint = { dir: found.dir, epoch: firstEpoch };
    options.log?.(`resuming ${network.name} after epoch ${firstEpoch} from ${found.dir}`);
    // Metrics of epochs after the checkpoint belong to a run that did not finish them.
    truncateMetrics(runDir, firstEpoch);
  } else {
    options.init?.(model);
    clearMetrics(runDir);
  }
  // The exported model carries what predicting with it needs: class names and the test protocol.
  model.setUserDefinedMetadata({ vnet: { network: network.name, classNames: splits.classNames, sampling: protocol } });
  const objective = tfjsObjective(model, network, config);
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
      // The frame each clip shows a 2D network, drawn per epoch so a resumed run draws the same ones.
      const frameRandom = seededRandom((seed * 1000003 + epoch * 7919 + 23) >>> 0);
      const stepsPerEpoch = Math.ceil(ordered.length / config.batch);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let step = 0;
      let lr = learningRateAt(config, epoch);
      for await (const batch of loader.batches(ordered, config.batch, (task, error) => fail(task.item, error))) {
        lr = learningRateAt(config, epoch + step / stepsPerEpoch);
        setLearningRate(optimizer, lr);
        const inputs = viewInputs(network, batch.views, protocol, flows, frameRandom);
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
          const kept = checkpoint ? `the last good checkpoint, ${checkpoint.dir} (after epoch ${checkpoint.epoch}), is kept` : "no checkpoint was written (the first epoch had not finished)";
          const message = `loss became ${value} at epoch ${epoch + 1}, step ${step + 1} (lr ${lr.toPrecision(3)}); training stopped: ${kept}; try a lower --lr`;
          options.progress?.("", true);
          options.log?.(message);
          return { model, history, stopped: message, issues, ...(checkpoint ? { checkpoint } : {}) };
        }
        step++;
        lossSum += value * batch.tasks.length;
        seen += batch.tasks.length;
        const elapsed = (performance.now() - started) / 1000;
        options.progress?.(`epoch ${epoch + 1}/${config.epochs} ${bar(step / stepsPerEpoch)} ${step}/${stepsPerEpoch} loss ${(lossSum / seen).toFixed(4)} acc ${(correct / seen).toFixed(3)} ${(seen / elapsed).toFixed(1)} clips/s`, false);
        // A step's awaits resolve as microtasks; yielding to the event loop lets a SIGINT handler run.
        await new Promise((resolve) => setImmediate(resolve));
        if (options.signal?.aborted) {
          const kept = checkpoint ? `the last checkpoint is ${checkpoint.dir} (after epoch ${checkpoint.epoch})` : "no checkpoint was written yet (the first epoch had not finished)";
          const message = `interrupted in epoch ${epoch + 1} after step ${step} of ${stepsPerEpoch}; the unfinished epoch is dropped and ${kept}`;
          options.progress?.("", true);
          return { model, history, stopped: message, interrupted: true, issues, ...(checkpoint ? { checkpoint } : {}) };
        }
      }
      if (seen === 0) throw new Error(`no training clip of ${splits.name} could be loaded`);
      const trainSeconds = (performance.now() - started) / 1000;
      const val = await evaluateLoss(model, network, splits.val.filter((item) => !bad.has(item.name)), reading);
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
      appendMetrics(runDir, metrics);
      await options.onEpoch?.(metrics);
      const info: CheckpointInfo = { epoch: epoch + 1, network: network.name, specHash: options.specHash ?? "", classNames: splits.classNames, settings: { seed, ...options.settings }, engine: "tfjs" };
      checkpoint = { dir: writeCheckpoint(runDir, await checkpointState(model, optimizer, config.optimizer, info)), epoch: epoch + 1 };
    }
  } finally {
    await loader.close();
  }
  return { model, history, issues, ...(checkpoint ? { checkpoint } : {}) };
}
