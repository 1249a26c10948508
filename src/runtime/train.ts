/**
 * Training of a compiled spec on a video dataset (a builtin in-memory one or videos on disk),
 * shared by both training engines (src/runtime/engines: tfjs, ONNX Runtime): a custom loop so
 * that the optimizer state can be checkpointed and restored exactly, the learning rate follows
 * the spec's schedule per step, and a non-finite loss stops training before it damages the last
 * good checkpoint. Clips are sampled per the spec's `sampling` section and loaded ahead by worker
 * threads; a video that fails to load is reported and left out of the rest of training. Each
 * epoch ends with a validation pass over one centre clip per video (`vnet eval` applies the full
 * test protocol), then an engine-neutral checkpoint (src/runtime/checkpoint.ts), so a run resumes
 * on either engine. All randomness (epoch order, clip sampling, a 2D network's frames, dropout
 * masks of the ONNX engine) derives from the seed, the epoch and the step.
 *
 * The loop is the same for every task; what differs is a `TaskTrainer` (src/runtime/trainer.ts:
 * the engine, the steps of an epoch and the validation pass): classification's is here, a
 * localizer's in src/runtime/localization/train.ts.
 *
 * The run directory is locked while training (run.ts); every epoch's checkpoint is written
 * crash-safely through checkpoint.ts, and `--resume` starts from the run's newest complete one,
 * checked against the spec's architecture; an aborted `signal` stops training after the current step.
 */
import type * as tf from "@tensorflow/tfjs";
import { memorySplits, type VideoItem, type VideoSplits } from "../data/dataset.js";
import type { FeatureSplits } from "../data/features.js";
import type { DetectionSplits } from "../data/motion-boxes.js";
import { flowStreams } from "../data/flow.js";
import { formatIssue, issueOf, type DataIssue } from "../data/issues.js";
import { ViewLoader, type ViewTask } from "../data/loader.js";
import { seededRandom, type VideoDataset } from "../data/motion.js";
import { testPlans, trainPlans } from "../data/sampling.js";
import type { IrGraph } from "../ir/graph.js";
import { outputScores, type OutputScores } from "../ir/scores.js";
import type { CheckedNetwork } from "../semantics/network.js";
import { readCheckpoint, recoverCheckpoint, writeCheckpoint } from "./checkpoint.js";
import { startEngine, type EngineChoice, type EngineOptions } from "./engines/index.js";
import type { EngineSetup, EngineStart, ViewScorer } from "./engines/engine.js";
import { videoOutputs, type ViewReading } from "./evaluate.js";
import { detectionTrainer, isDetectionSplits } from "./detection/train.js";
import { localizationTrainer } from "./localization/train.js";
import { checkArchitecture } from "./model-io.js";
import { appendMetrics, clearMetrics, lockRun, truncateMetrics } from "./run.js";
import { epochOrder, type TaskStep, type TaskTrainer } from "./trainer.js";

export { tfjsObjective } from "./engines/tfjs.js";
export type { TaskStep, TaskTrainer, Validation } from "./trainer.js";

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
  /** The rate the warm-up starts from. */
  readonly warmupStartLr: number;
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
    warmupStartLr: get("warmup_start_lr", 0),
    epochs: get("epochs", 10),
    batch: get("batch", 8),
    labelSmoothing: get("label_smoothing", 0),
    ...overrides,
  };
}

/**
 * Learning rate at a (fractional) epoch: the schedule, after a linear warm-up as PySlowFast's
 * `get_lr_at_epoch` does it: over the first `warmup` epochs the rate goes in a line from
 * `warmupStartLr` to the schedule's rate at epoch `warmup`. From a start of 0 (the default) the
 * line is entered a thousandth of an epoch in, so the first step does not have rate 0.
 */
export function learningRateAt(config: TrainingConfig, epoch: number): number {
  if (config.warmup > 0 && epoch < config.warmup) {
    const start = config.warmupStartLr;
    const at = start > 0 ? epoch : epoch + 1e-3;
    return start + (at * (scheduledRate(config, config.warmup) - start)) / config.warmup;
  }
  return scheduledRate(config, epoch);
}

/** The schedule's rate at an epoch, without warm-up (the cosine starts where the warm-up ends). */
function scheduledRate(config: TrainingConfig, epoch: number): number {
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
  /** NaN for a task without accuracy (localization). */
  readonly trainAccuracy: number;
  readonly valLoss: number;
  readonly valAccuracy: number;
  /** The task's validation figures (a localizer's AR@10, AR@100, AUC). */
  readonly valMetrics?: Readonly<Record<string, number>>;
  readonly seconds: number;
  /** Examples per second: clips for a classifier, videos for a localizer. */
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
  /** The training engine (default "tfjs"); "auto" takes ONNX Runtime where the network's step builds. */
  readonly engine?: EngineChoice;
  /** ONNX Runtime's provider and what the tfjs backend is (for "auto"). */
  readonly engineOptions?: EngineOptions;
  /** Told which engine runs and why, once it started. */
  readonly onEngine?: (description: string, reason: string) => void;
  /** Aborted (SIGINT, SIGTERM): training stops after the current step, keeping the last checkpoint. */
  readonly signal?: AbortSignal;
  /** Recorded in every checkpoint: the spec's hash (checkpoint.ts `programHash`) and the run's settings, for `--resume`. */
  readonly specHash?: string;
  readonly settings?: Readonly<Record<string, unknown>>;
}

export interface TrainResult {
  /** A tfjs model holding the trained weights. */
  readonly model: tf.LayersModel;
  /** The engine that trained it, as described to the user. */
  readonly engine: string;
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

function bar(fraction: number, width = 20): string {
  const filled = Math.round(fraction * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

/** Cross-entropy of one example's scores of the IR's kind. */
function exampleLogProbability(row: Float32Array, label: number, scores: OutputScores): number {
  if (scores.kind === "probabilities") return Math.log(row[label]! + 1e-8);
  const max = Math.max(...row);
  return row[label]! - max - Math.log(row.reduce((sum, v) => sum + Math.exp(v - max), 0));
}

/** Loss and accuracy of scored views on a split (inference mode), one centre clip per video, of the IR's kind of scores. */
export async function evaluateLoss(
  score: ViewScorer,
  graph: IrGraph,
  items: readonly VideoItem[],
  reading: ViewReading,
): Promise<{ loss: number; accuracy: number }> {
  const outputs = await videoOutputs(score, graph, items, (item) => testPlans(reading.protocol, item.source.meta, 1, "center"), reading);
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

/** Training data: a builtin in-memory dataset (its clips) or opened video splits; a localizer's feature splits; a detector's keyframes. */
export type TrainingData = VideoDataset | VideoSplits | FeatureSplits | DetectionSplits;

/** Whether training data are a localizer's feature splits. */
function isFeatureSplits(data: TrainingData): data is FeatureSplits {
  return "manifest" in data;
}

function splitsOf(data: VideoDataset | VideoSplits): VideoSplits {
  return "issues" in data ? data : memorySplits(data);
}

/**
 * Classification's trainer: clips sampled per the spec and loaded ahead by worker threads, each
 * batch one step of the chosen engine (softmax cross-entropy per head), validated on one centre
 * clip per video.
 */
async function classificationTrainer(graph: IrGraph, data: VideoDataset | VideoSplits, start: EngineStart, options: TrainOptions): Promise<TaskTrainer> {
  const { config } = options;
  const seed = options.seed ?? 0;
  const splits = splitsOf(data);
  const protocol = graph.protocol;
  if (!protocol) throw new Error(`${graph.name} has no clip or image input for the data pipeline to fill`);
  const flows = flowStreams(graph);
  // The exported model carries what predicting with it needs: class names and the test protocol.
  const metadata = { vnet: { network: graph.name, classNames: splits.classNames, sampling: protocol } };
  const setup: EngineSetup = { graph, config, seed, protocol, flows, start, metadata };
  const { engine, reason } = await startEngine(
    options.engine ?? "tfjs",
    setup,
    Math.min(config.batch, Math.max(1, splits.train.length)),
    options.engineOptions,
  );
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
  return {
    unit: "clips",
    classNames: splits.classNames,
    engine,
    reason,
    issues,
    epoch(epoch) {
      const tasks = splits.train.flatMap((item, i): (ViewTask & { item: VideoItem })[] =>
        bad.has(item.name)
          ? []
          : trainPlans(protocol, item.source.meta, seededRandom((seed * 1000003 + epoch * 7919 + i * 104729 + 31) >>> 0)).map((plan) => ({
              source: item.source,
              plan,
              item,
            })),
      );
      const ordered = epochOrder(tasks.length, seed, epoch).map((k) => tasks[k]!);
      async function* steps(): AsyncGenerator<TaskStep> {
        for await (const batch of loader.batches(ordered, config.batch, (task, error) => fail(task.item, error))) {
          yield {
            size: batch.tasks.length,
            run: (lr, dropoutSeed) => engine.step({ views: batch.views, labels: batch.tasks.map((t) => t.item.label), dropoutSeed }, lr),
          };
        }
      }
      return { steps: Math.ceil(ordered.length / config.batch), batches: steps() };
    },
    validate: () =>
      evaluateLoss(
        engine.score,
        graph,
        splits.val.filter((item) => !bad.has(item.name)),
        reading,
      ),
    close: () => loader.close(),
  };
}

/** The trainer of a network's task over its data. */
function taskTrainer(graph: IrGraph, data: TrainingData, start: EngineStart, options: TrainOptions): Promise<TaskTrainer> {
  if (graph.task === "localization") {
    if (!isFeatureSplits(data)) throw new Error(`internal: ${graph.name} is a localizer and trains on feature splits`);
    return localizationTrainer(graph, data, start, options);
  }
  if (isFeatureSplits(data)) throw new Error(`internal: ${graph.name} is a ${graph.task} network; feature splits train localizers`);
  if (graph.task === "detection") {
    if (!isDetectionSplits(data)) throw new Error(`internal: ${graph.name} is a detector and trains on keyframe splits`);
    return detectionTrainer(graph, data, start, options);
  }
  if (isDetectionSplits(data)) throw new Error(`internal: ${graph.name} is a ${graph.task} network; keyframe splits train detectors`);
  return classificationTrainer(graph, data, start, options);
}

/** Trains a network (its lowered graph) on a dataset, validating, logging and checkpointing every epoch, holding the run's lock. */
export async function trainNetwork(graph: IrGraph, data: TrainingData, options: TrainOptions): Promise<TrainResult> {
  // One trainer per run directory; released however training ends.
  const lock = lockRun(options.runDir);
  try {
    return await trainLocked(graph, data, options);
  } finally {
    lock.release();
  }
}

async function trainLocked(graph: IrGraph, data: TrainingData, options: TrainOptions): Promise<TrainResult> {
  const { config, runDir } = options;
  const seed = options.seed ?? 0;
  let firstEpoch = 0;
  let start: EngineStart;
  let checkpoint: { dir: string; epoch: number } | undefined;
  if (options.resume) {
    // The newest complete checkpoint, put back in place if a crash left it elsewhere, and of the spec's architecture.
    const found = recoverCheckpoint(runDir);
    const contents = readCheckpoint(found.dir);
    checkArchitecture(graph, contents.weights, found.dir, contents.progress.network);
    start = { kind: "checkpoint", contents };
    firstEpoch = contents.progress.epoch;
    checkpoint = { dir: found.dir, epoch: firstEpoch };
    options.log?.(
      `resuming ${graph.name} after epoch ${firstEpoch} from ${found.dir}${contents.progress.engine ? ` (written by the ${contents.progress.engine} engine)` : ""}`,
    );
    // Metrics of epochs after the checkpoint belong to a run that did not finish them.
    truncateMetrics(runDir, firstEpoch);
  } else {
    start = { kind: "fresh", ...(options.init ? { init: options.init } : {}) };
    clearMetrics(runDir);
  }
  const trainer = await taskTrainer(graph, data, start, options);
  const { engine } = trainer;
  options.onEngine?.(engine.description, trainer.reason);
  const history: EpochMetrics[] = [];
  const accuracyText = (value: number) => (Number.isNaN(value) ? "" : ` acc ${value.toFixed(3)}`);
  try {
    for (let epoch = firstEpoch; epoch < config.epochs; epoch++) {
      const started = performance.now();
      const { steps: stepsPerEpoch, batches } = trainer.epoch(epoch);
      let lossSum = 0;
      let correct = 0;
      let counted = false;
      let seen = 0;
      let step = 0;
      let lr = learningRateAt(config, epoch);
      for await (const batch of batches) {
        lr = learningRateAt(config, epoch + step / stepsPerEpoch);
        const dropoutSeed = (seed * 1000003 + epoch * 7919 + step * 104729 + 47) >>> 0;
        const { loss: value, correct: hits } = await batch.run(lr, dropoutSeed);
        if (hits !== undefined) {
          correct += hits;
          counted = true;
        }
        if (!Number.isFinite(value)) {
          const kept = checkpoint
            ? `the last good checkpoint, ${checkpoint.dir} (after epoch ${checkpoint.epoch}), is kept`
            : "no checkpoint was written (the first epoch had not finished)";
          const message = `loss became ${value} at epoch ${epoch + 1}, step ${step + 1} (lr ${lr.toPrecision(3)}); training stopped: ${kept}; try a lower --lr`;
          options.progress?.("", true);
          options.log?.(message);
          return {
            model: await engine.model(),
            engine: engine.description,
            history,
            stopped: message,
            issues: trainer.issues,
            ...(checkpoint ? { checkpoint } : {}),
          };
        }
        step++;
        lossSum += value * batch.size;
        seen += batch.size;
        const elapsed = (performance.now() - started) / 1000;
        options.progress?.(
          `epoch ${epoch + 1}/${config.epochs} ${bar(step / stepsPerEpoch)} ${step}/${stepsPerEpoch} loss ${(lossSum / seen).toFixed(4)}${accuracyText(counted ? correct / seen : NaN)} ${(seen / elapsed).toFixed(1)} ${trainer.unit}/s`,
          false,
        );
        // A step's awaits resolve as microtasks; yielding to the event loop lets a SIGINT handler run.
        await new Promise((resolve) => setImmediate(resolve));
        if (options.signal?.aborted) {
          const kept = checkpoint
            ? `the last checkpoint is ${checkpoint.dir} (after epoch ${checkpoint.epoch})`
            : "no checkpoint was written yet (the first epoch had not finished)";
          const message = `interrupted in epoch ${epoch + 1} after step ${step} of ${stepsPerEpoch}; the unfinished epoch is dropped and ${kept}`;
          options.progress?.("", true);
          return {
            model: await engine.model(),
            engine: engine.description,
            history,
            stopped: message,
            interrupted: true,
            issues: trainer.issues,
            ...(checkpoint ? { checkpoint } : {}),
          };
        }
      }
      if (seen === 0) throw new Error(`no training ${trainer.unit === "clips" ? "clip" : "example"} could be loaded`);
      const trainSeconds = (performance.now() - started) / 1000;
      const val = await trainer.validate();
      const metrics: EpochMetrics = {
        epoch: epoch + 1,
        lr,
        trainLoss: lossSum / seen,
        trainAccuracy: counted ? correct / seen : NaN,
        valLoss: val.loss,
        valAccuracy: val.accuracy ?? NaN,
        ...(val.metrics ? { valMetrics: val.metrics } : {}),
        seconds: (performance.now() - started) / 1000,
        clipsPerSecond: seen / trainSeconds,
      };
      history.push(metrics);
      const figures = Object.entries(val.metrics ?? {})
        .map(([k, v]) => ` ${k} ${v.toFixed(3)}`)
        .join("");
      options.progress?.(
        `epoch ${epoch + 1}/${config.epochs} ${bar(1)} loss ${metrics.trainLoss.toFixed(4)}${accuracyText(metrics.trainAccuracy)} | val loss ${val.loss.toFixed(4)}${accuracyText(metrics.valAccuracy)}${figures} | ${metrics.clipsPerSecond.toFixed(1)} ${trainer.unit}/s`,
        true,
      );
      appendMetrics(runDir, metrics);
      await options.onEpoch?.(metrics);
      const progress = {
        epoch: epoch + 1,
        seed,
        network: graph.name,
        optimizer: config.optimizer,
        classNames: trainer.classNames,
        specHash: options.specHash ?? "",
        settings: { seed, ...options.settings },
      };
      checkpoint = { dir: writeCheckpoint(runDir, await engine.checkpoint(progress)), epoch: epoch + 1 };
    }
    return { model: await engine.model(), engine: engine.description, history, issues: trainer.issues, ...(checkpoint ? { checkpoint } : {}) };
  } finally {
    await trainer.close();
    await engine.dispose();
  }
}
