/**
 * The seam between the one training loop (src/runtime/train.ts) and a task. A `TaskTrainer`
 * holds the training engine it started (the loop checkpoints it, asks it for the trained model
 * and disposes of it), gives the loop the steps of an epoch (each one optimizer step of the
 * engine at the loop's learning rate) and a validation pass. The loop owns the rest: resuming,
 * the schedule, progress, metrics.jsonl, checkpoint files, the non-finite-loss stop.
 * Classification's trainer is in train.ts; localizers' and detectors' are `targetedTrainer` here,
 * given their task's data (localization/train.ts, detection/train.ts).
 */
import type { DataIssue } from "../data/issues.js";
import { seededRandom } from "../data/motion.js";
import type { IrGraph } from "../ir/graph.js";
import { taskBatchRows, type EngineStart, type TaskBatch, type TaskInference, type TrainingEngine } from "./engines/engine.js";
import { startTaskEngine } from "./engines/index.js";
import { taskLossOf } from "./engines/tfjs.js";
import type { TrainOptions } from "./train.js";

/** What the loop uses of an engine: its description, its state as a checkpoint, the trained model. */
export type EngineState = Pick<TrainingEngine, "description" | "checkpoint" | "model" | "dispose">;

/** One training step: its examples, and the optimizer step itself (the batch's loss; right predictions where the task has accuracy). */
export interface TaskStep {
  readonly size: number;
  run(lr: number, dropoutSeed: number): Promise<{ readonly loss: number; readonly correct?: number }>;
}

/** A validation pass: the loss in inference mode, accuracy where the task has one, and the task's figures. */
export interface Validation {
  readonly loss: number;
  readonly accuracy?: number;
  readonly metrics?: Readonly<Record<string, number>>;
}

/** What training needs of a task and its dataset; see the file comment. */
export interface TaskTrainer {
  /** What the examples are, for the progress line: "clips", "videos". */
  readonly unit: string;
  /** The dataset's class names (label order), recorded with the checkpoint. */
  readonly classNames: readonly string[];
  readonly engine: EngineState;
  /** Why this engine (empty when it was asked for). */
  readonly reason: string;
  /** Inputs that failed to load and were left out. */
  readonly issues: readonly DataIssue[];
  /** The steps of one epoch, in an order fixed by the seed and the epoch (a resumed run sees the same). */
  epoch(epoch: number): { readonly steps: number; readonly batches: AsyncIterable<TaskStep> };
  /** Validation with the engine's current weights. */
  validate(): Promise<Validation>;
  /** Releases the task's data (loaders, constant tensors); the loop disposes of the engine. */
  close(): Promise<void>;
}

/** A deterministic permutation of 0..n-1 for one epoch, so a resumed run sees the same order. */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  const random = seededRandom((seed * 1000003 + epoch * 7919 + 17) >>> 0);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** What a localizer's or a detector's trainer says about its task; `targetedTrainer` does the rest. */
export interface TargetedTaskData<T> {
  /** What the examples are ("videos", "keyframes"). */
  readonly unit: string;
  readonly classNames: readonly string[];
  /** Written into the model's metadata: what using the model needs. */
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly train: readonly T[];
  /** Validation examples (none: no validation loss). */
  readonly val: readonly T[];
  /** The batch of some examples; `random` is the step's own generator (a localizer's sampling noise). */
  batchOf(examples: readonly T[], random: () => number): TaskBatch | Promise<TaskBatch>;
  /** The task's validation figures from the network's outputs with the current weights (the engine's own runtime). */
  metrics(infer: TaskInference, val: readonly T[]): Record<string, number> | Promise<Record<string, number>>;
}

/**
 * The trainer of a localizer or a detector, on the engine the options choose (`auto`: ONNX
 * Runtime where the network's training step builds, as for classifiers): each step one optimizer
 * step of the task's loss (`taskLoss`) on a batch in the seeded epoch order, with a generator per
 * step from the seed, epoch and step (so a resumed run draws the same); validation is the loss in
 * inference mode (a fixed generator, so that epochs compare) and the task's figures, both from the
 * engine's inference with its current weights (ONNX Runtime: one session of the evaluation graph
 * fed the state; no tfjs model is built).
 */
export async function targetedTrainer<T>(graph: IrGraph, start: EngineStart, options: TrainOptions, task: TargetedTaskData<T>): Promise<TaskTrainer> {
  const { config } = options;
  const seed = options.seed ?? 0;
  // The ONNX step is first built for the shape of the first batch.
  const first = taskBatchRows(graph, await task.batchOf(task.train.slice(0, config.batch), seededRandom(seed)));
  const { engine, reason } = await startTaskEngine(
    options.engine ?? "tfjs",
    { graph, config, seed, start, metadata: task.metadata },
    first.examples,
    options.engineOptions,
    first.boxes,
  );
  return {
    unit: task.unit,
    classNames: task.classNames,
    engine,
    reason,
    issues: [],
    epoch(epoch) {
      const order = epochOrder(task.train.length, seed, epoch).map((k) => task.train[k]!);
      const steps = Math.ceil(order.length / config.batch);
      async function* batches(): AsyncGenerator<TaskStep> {
        for (let step = 0; step < steps; step++) {
          const examples = order.slice(step * config.batch, (step + 1) * config.batch);
          const random = seededRandom((seed * 1000003 + epoch * 7919 + step * 104729 + 41) >>> 0);
          yield {
            size: examples.length,
            run: async (lr, dropoutSeed) => ({ loss: await engine.minimizeTask(await task.batchOf(examples, random), lr, dropoutSeed) }),
          };
        }
      }
      return { steps, batches: batches() };
    },
    async validate(): Promise<Validation> {
      if (task.val.length === 0) return { loss: NaN };
      const random = seededRandom((seed * 1000003 + 0x5eed) >>> 0);
      let loss = 0;
      for (let at = 0; at < task.val.length; at += config.batch) {
        const examples = task.val.slice(at, at + config.batch);
        const batch = await task.batchOf(examples, random);
        loss += taskLossOf(graph, await engine.infer(batch.inputs), batch.targets) * examples.length;
      }
      return { loss: loss / task.val.length, metrics: await task.metrics(engine.infer, task.val) };
    },
    close: async () => {},
  };
}
